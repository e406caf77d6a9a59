import { app } from '@azure/functions';
import { eventTypesHandler, webhookStatsHandler } from './handlers/endpointHealthHandlers';
import { statsRecord } from './lib/composition';
import { configuredHttp } from './lib/configured';

app.http('webhookStats', { route: 'webhooks/{id}/stats', methods: ['GET'], authLevel: 'anonymous', handler: configuredHttp(() => webhookStatsHandler(statsRecord())) });
// No key and no settings: the bodies receivers get are public, as the OpenAPI document is.
app.http('eventTypes', { route: 'event-types', methods: ['GET'], authLevel: 'anonymous', handler: eventTypesHandler() });
