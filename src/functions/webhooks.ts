import { app } from '@azure/functions';
import { webhookCollectionHandler, webhookItemHandler } from './handlers/webhookHandlers';
import { webhooksRecord } from './lib/composition';
import { configuredHttp } from './lib/configured';
import { noStore } from './lib/responses';

app.http('webhooks', { route: 'webhooks', methods: ['GET', 'POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => webhookCollectionHandler(webhooksRecord()))) });
app.http('webhook', { route: 'webhooks/{id}', methods: ['GET', 'PUT', 'PATCH', 'DELETE'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => webhookItemHandler(webhooksRecord()))) });
