import { app } from '@azure/functions';
import { deliverHandler } from './handlers/deliverHandler';
import { deliveryRecord } from './lib/composition';
import { configuredTrigger } from './lib/configured';

app.storageQueue('deliver', { queueName: '%DELIVERIES_QUEUE%', connection: 'AzureWebJobsStorage', handler: configuredTrigger(() => deliverHandler(deliveryRecord())) });
