import { app } from '@azure/functions';
import { eventTypesHandler, webhookStatsHandler } from './handlers/endpointHealthHandlers';
import { configuredHttp } from './lib/configured';
import { getDeliveryDependencies } from './lib/deliveryDependencies';

const statsHandler = () => {
  const deps = getDeliveryDependencies();
  return webhookStatsHandler({ webhooks: deps.webhooks, stats: deps.stats, clock: deps.clock, adminApiKey: deps.config.ADMIN_API_KEY, tenants: deps.tenants });
};

app.http('webhookStats', { route: 'webhooks/{id}/stats', methods: ['GET'], authLevel: 'anonymous', handler: configuredHttp(statsHandler) });
// No key and no settings: the bodies receivers get are public, as the OpenAPI document is.
app.http('eventTypes', { route: 'event-types', methods: ['GET'], authLevel: 'anonymous', handler: eventTypesHandler() });
