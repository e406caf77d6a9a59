import { app } from '@azure/functions';
import { eventListHandler } from './handlers/eventListHandler';
import { getDependencies } from './lib/dependencies';

const deps = getDependencies();

// Same route as ingest (POST, ingest key); this one lists, with the admin key.
app.http('listEvents', { route: 'events', methods: ['GET'], authLevel: 'anonymous', handler: eventListHandler({ ...deps, adminApiKey: deps.config.ADMIN_API_KEY }) });
