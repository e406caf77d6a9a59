import { app } from '@azure/functions';
import { webhookCollectionHandler, webhookItemHandler } from './handlers/webhookHandlers';
import { configuredHttp } from './lib/configured';
import { getDeliveryDependencies } from './lib/deliveryDependencies';
import { noStore } from './lib/responses';
import { scheduleAttempts } from '../domain/endpointControls';
import { retryPolicyOf } from '../domain/deliverySettings';

const handlerDeps = () => {
  const deps = getDeliveryDependencies();
  return {
    ...deps,
    adminApiKey: deps.config.ADMIN_API_KEY,
    allowPrivateDestinations: deps.config.ALLOW_PRIVATE_DESTINATIONS,
    allowedDestinationPorts: deps.config.ALLOWED_DESTINATION_PORTS,
    verifyEndpointsDefault: deps.config.VERIFY_ENDPOINTS_DEFAULT,
    maxAttemptsAllowed: scheduleAttempts(retryPolicyOf(deps.config)),
  };
};

app.http('webhooks', { route: 'webhooks', methods: ['GET', 'POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => webhookCollectionHandler(handlerDeps()))) });
app.http('webhook', { route: 'webhooks/{id}', methods: ['GET', 'PUT', 'PATCH', 'DELETE'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => webhookItemHandler(handlerDeps()))) });
