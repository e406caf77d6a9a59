import { app } from '@azure/functions';
import { eventListHandler } from './handlers/eventListHandler';
import { configuredHttp } from './lib/configured';
import { getDependencies } from './lib/dependencies';

// Same route as ingest (POST, ingest key); this one lists, with the admin key.
app.http('listEvents', { route: 'events', methods: ['GET'], authLevel: 'anonymous', handler: configuredHttp(() => {
  const deps = getDependencies();
  return eventListHandler({ ...deps, adminApiKey: deps.config.ADMIN_API_KEY });
}) });
