import { app } from '@azure/functions';
import { webhookCollectionHandler, webhookItemHandler } from './handlers/webhookHandlers';
import { getDeliveryDependencies } from './lib/deliveryDependencies';

const deps = getDeliveryDependencies();
const handlerDeps = {
  ...deps,
  adminApiKey: deps.config.ADMIN_API_KEY,
  allowPrivateDestinations: deps.config.ALLOW_PRIVATE_DESTINATIONS,
  allowedDestinationPorts: deps.config.ALLOWED_DESTINATION_PORTS,
  verifyEndpointsDefault: deps.config.VERIFY_ENDPOINTS_DEFAULT,
};

app.http('webhooks', { route: 'webhooks', methods: ['GET', 'POST'], authLevel: 'anonymous', handler: webhookCollectionHandler(handlerDeps) });
app.http('webhook', { route: 'webhooks/{id}', methods: ['GET', 'PUT', 'PATCH', 'DELETE'], authLevel: 'anonymous', handler: webhookItemHandler(handlerDeps) });
