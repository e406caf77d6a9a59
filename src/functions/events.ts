import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { durableStartDispatch } from '../adapters/durable/durableDispatch';
import { FAN_OUT_ORCHESTRATOR } from './dispatch';
import { eventStatusHandler } from './handlers/eventStatusHandler';
import { ingestEventHandler } from './handlers/ingestEventHandler';
import { getDeliveryDependencies } from './lib/deliveryDependencies';

const deps = getDeliveryDependencies();
const durableClient = df.input.durableClient();

app.http('ingestEvent', {
  route: 'events',
  methods: ['POST'],
  // The bearer key is checked by the handler: one key scheme in Azure and locally.
  authLevel: 'anonymous',
  extraInputs: [durableClient],
  handler: (request, context) =>
    ingestEventHandler({
      ...deps,
      ingestApiKey: deps.config.INGEST_API_KEY,
      maxEventBodyBytes: deps.config.MAX_EVENT_BODY_BYTES,
      disabledEvents: new Set(deps.config.DISABLED_EVENTS),
      startDispatch: durableStartDispatch(df.getClient(context), FAN_OUT_ORCHESTRATOR),
    })(request, context),
});

app.http('eventStatus', {
  route: 'events/{id}',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [durableClient],
  handler: (request, context) => eventStatusHandler({ ...deps, adminApiKey: deps.config.ADMIN_API_KEY, client: df.getClient(context) })(request, context),
});
