import { app } from '@azure/functions';
import { eventTypesHandler, webhookStatsHandler } from './handlers/endpointHealthHandlers';
import { getDeliveryDependencies } from './lib/deliveryDependencies';

const deps = getDeliveryDependencies();

app.http('webhookStats', {
  route: 'webhooks/{id}/stats',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: webhookStatsHandler({ webhooks: deps.webhooks, stats: deps.stats, clock: deps.clock, adminApiKey: deps.config.ADMIN_API_KEY, tenants: deps.tenants }),
});
// No key: the bodies receivers get are public, as the OpenAPI document is.
app.http('eventTypes', { route: 'event-types', methods: ['GET'], authLevel: 'anonymous', handler: eventTypesHandler() });
