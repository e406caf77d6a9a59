import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { durableContinueFanOut } from '../adapters/durable/durableDispatch';
import { recordFanOutPage } from '../telemetry/telemetry';
import { dispatchEvent } from '../usecases/dispatchEvent';
import { FAN_OUT_ORCHESTRATOR } from './dispatch';
import { eventStatusHandler } from './handlers/eventStatusHandler';
import { ingestEventHandler } from './handlers/ingestEventHandler';
import { configuredHttp } from './lib/configured';
import { getDeliveryDependencies } from './lib/deliveryDependencies';

const durableClient = df.input.durableClient();

app.http('ingestEvent', {
  route: 'events',
  methods: ['POST'],
  // The bearer key is checked by the handler: one key scheme in Azure and locally.
  authLevel: 'anonymous',
  extraInputs: [durableClient],
  handler: configuredHttp(() => {
    const deps = getDeliveryDependencies();
    return (request, context) =>
      ingestEventHandler({
        ...deps,
        ingestApiKey: deps.config.INGEST_API_KEY,
        maxEventBodyBytes: deps.config.MAX_EVENT_BODY_BYTES,
        disabledEvents: new Set(deps.config.DISABLED_EVENTS),
        startDispatch: dispatchEvent({
          events: deps.events,
          fanOut: deps.fanOut,
          continueFanOut: durableContinueFanOut(df.getClient(context), FAN_OUT_ORCHESTRATOR),
          onPage: (cursor, page) => context.log(recordFanOutPage({ eventId: cursor.eventId, planIndex: cursor.planIndex, deliveries: page.deliveries, messages: page.messages, more: page.next !== undefined })),
        }),
      })(request, context);
  }),
});

app.http('eventStatus', {
  route: 'events/{id}',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [durableClient],
  handler: configuredHttp(() => {
    const deps = getDeliveryDependencies();
    return (request, context) => eventStatusHandler({ ...deps, adminApiKey: deps.config.ADMIN_API_KEY, client: df.getClient(context) })(request, context);
  }),
});
