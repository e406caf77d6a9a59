import { app } from '@azure/functions';
import { webhookCollectionHandler, webhookItemHandler } from './handlers/webhookHandlers';
import { getDeliveryDependencies } from './lib/deliveryDependencies';
import { noStore } from './lib/responses';

const deps = getDeliveryDependencies();
const handlerDeps = {
  ...deps,
  adminApiKey: deps.config.ADMIN_API_KEY,
  allowPrivateDestinations: deps.config.ALLOW_PRIVATE_DESTINATIONS,
  verifyEndpointsDefault: deps.config.VERIFY_ENDPOINTS_DEFAULT,
};

app.http('webhooks', { route: 'webhooks', methods: ['GET', 'POST'], authLevel: 'anonymous', handler: noStore(webhookCollectionHandler(handlerDeps)) });
app.http('webhook', { route: 'webhooks/{id}', methods: ['GET', 'PUT', 'PATCH', 'DELETE'], authLevel: 'anonymous', handler: noStore(webhookItemHandler(handlerDeps)) });
