import { app } from '@azure/functions';
import { websubHandler, websubVerificationHandler } from './handlers/websubHandlers';
import { websubIntentRecord, websubRecord } from './lib/composition';
import { configuredHttp, configuredTrigger } from './lib/configured';
import { noStore } from './lib/responses';

/* WebSub subscribe/unsubscribe (docs/tenants.md), and the queue-triggered intent verification. */
// hub.secret travels in the request; the answer carries none, but a rule with exceptions gets forgotten.
app.http('websub', { route: 'websub', methods: ['POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => websubHandler(websubRecord()))) });
app.storageQueue('websubVerify', { queueName: '%DELIVERIES_QUEUE%-websub', connection: 'AzureWebJobsStorage', handler: configuredTrigger(() => websubVerificationHandler(websubIntentRecord())) });
