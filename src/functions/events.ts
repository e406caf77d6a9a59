import { app } from '@azure/functions';
import { ingestEventHandler } from './handlers/ingestEventHandler';
import { getDependencies } from './lib/dependencies';

const deps = getDependencies();

app.http('ingestEvent', {
  route: 'events',
  methods: ['POST'],
  // The bearer key is checked by the handler: one key scheme in Azure and locally.
  authLevel: 'anonymous',
  handler: ingestEventHandler({ ...deps, ingestApiKey: deps.config.INGEST_API_KEY, maxEventBodyBytes: deps.config.MAX_EVENT_BODY_BYTES }),
});
