import { app } from '@azure/functions';
import { eventListHandler } from './handlers/eventListHandler';
import { eventListRecord } from './lib/composition';
import { configuredHttp } from './lib/configured';

// Same route as ingest (POST, ingest key); this one lists, with the admin key.
app.http('listEvents', { route: 'events', methods: ['GET'], authLevel: 'anonymous', handler: configuredHttp(() => eventListHandler(eventListRecord())) });
