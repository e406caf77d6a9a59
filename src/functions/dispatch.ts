import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { DeliveryMessage, MESSAGE_VERSION, type PoisonEntry } from '../domain/delivery';
import { formatValidationErrors } from '../domain/decodeErrors';
import { redactFiscalCodes } from '../domain/privacy';
import { EventId } from '../domain/events';
import { deliverMessage } from '../usecases/deliverMessage';
import { enqueueFanOutPage, type FanOutCursor, type FanOutPageResult } from '../usecases/enqueueFanOutPage';
import { recordFanOutPage, traceLine } from '../telemetry/telemetry';
import { decodeOrThrow } from './lib/decodeOrThrow';
import { configuredTrigger } from './lib/configured';
import { getDeliveryDependencies } from './lib/deliveryDependencies';

export const FAN_OUT_ORCHESTRATOR = 'fanOutEvent';
export const ENQUEUE_PAGE_ACTIVITY = 'enqueueFanOutPage';
/** Activities per orchestration run before continueAsNew, so the history of a huge fan-out stays bounded. */
const STEPS_PER_RUN = 50;
/** A page that fails (storage down) is retried by the orchestration: 2 s, then doubling, 6 tries. */
const PAGE_RETRY = Object.assign(new df.RetryOptions(2_000, 6), { backoffCoefficient: 2 });

const Cursor = t.intersection([t.type({ eventId: EventId, planIndex: t.number }), t.partial({ continuationToken: t.string })]);
const FanOutState = t.intersection([Cursor, t.partial({ deliveries: t.number, pages: t.number })]);

/**
 * One instance per event (instance id = event id): pages through the matching webhooks, one
 * activity per page of FANOUT_STEP_SIZE webhooks, each enqueuing its page's deliveries. Pure
 * replayable code: no I/O, no clock.
 */
export const fanOutOrchestrator: df.OrchestrationHandler = function* (context: df.OrchestrationContext) {
  const state = decodeOrThrow(FanOutState, context.df.getInput(), 'The fan-out input');
  let cursor: FanOutCursor = { eventId: state.eventId, planIndex: state.planIndex, ...(state.continuationToken ? { continuationToken: state.continuationToken } : {}) };
  let deliveries = state.deliveries ?? 0;
  let pages = state.pages ?? 0;
  for (let run = 0; run < STEPS_PER_RUN; run++) {
    const result = (yield context.df.callActivityWithRetry(ENQUEUE_PAGE_ACTIVITY, PAGE_RETRY, cursor)) as FanOutPageResult;
    deliveries += result.deliveries;
    pages += 1;
    context.df.setCustomStatus({ deliveries, pages });
    if (!context.df.isReplaying) context.log(traceLine('fanout.progress', { eventId: state.eventId, deliveries, pages, done: result.next === undefined }));
    if (result.next === undefined) return { eventId: state.eventId, deliveries, pages };
    cursor = result.next;
  }
  context.df.continueAsNew({ ...cursor, deliveries, pages });
  return undefined;
};

df.app.orchestration(FAN_OUT_ORCHESTRATOR, fanOutOrchestrator);

export const enqueuePageActivity = configuredTrigger(() => {
  const deps = getDeliveryDependencies();
  /** Ingest's first page is FANOUT_PAGE_SIZE (it answers the sender); the orchestration's pages are larger. */
  const stepDeps = { ...deps.fanOut, pageSize: deps.config.FANOUT_STEP_SIZE };
  return async (input: unknown, context: InvocationContext): Promise<FanOutPageResult> => {
    const cursor = decodeOrThrow(Cursor, input, 'The fan-out cursor');
    const result = await enqueueFanOutPage(stepDeps)(cursor)();
    if (E.isLeft(result)) throw new Error(redactFiscalCodes(`${result.left.kind} (event ${cursor.eventId}): ${result.left.message}`));
    const { deliveries, messages, next } = result.right;
    context.log(recordFanOutPage({ eventId: cursor.eventId, planIndex: cursor.planIndex, deliveries, messages, more: next !== undefined }));
    return result.right;
  };
});

df.app.activity(ENQUEUE_PAGE_ACTIVITY, { handler: enqueuePageActivity });

/** A message that is not a delivery message of ours is set aside with its reason, never retried. */
const unreadable = (message: unknown, reason: string, now: Date): PoisonEntry => ({
  kind: 'undeliverable',
  v: MESSAGE_VERSION,
  eventId: '',
  deliveryId: '',
  webhookId: '',
  body: message,
  attempts: [],
  reason: { kind: 'UnreadableMessage', message: reason },
  poisonedAt: now.toISOString(),
});

export const deliverHandler = configuredTrigger(() => {
  const deps = getDeliveryDependencies();
  return async (message: unknown, context: InvocationContext): Promise<void> => {
    const decoded = DeliveryMessage.decode(message);
    if (E.isLeft(decoded)) {
      const reason = formatValidationErrors(decoded.left).slice(0, 5).join('; ');
      context.warn(traceLine('delivery.unreadable', { reason }));
      const poisoned = await deps.queue.poison([unreadable(message, reason, deps.clock.now())])();
      if (E.isLeft(poisoned)) throw new Error(poisoned.left.message);
      return;
    }
    const result = await deliverMessage(deps.deliver({ log: (line) => context.log(line), warn: (m) => context.warn(redactFiscalCodes(m)) }))(decoded.right)();
    if (E.isLeft(result)) {
      // Throwing hands the message back to the queue: the host retries it, then poisons it.
      throw new Error(redactFiscalCodes(`Delivery of event ${decoded.right.eventId} could not record its outcome: ${result.left.message}`));
    }
    const s = result.right;
    context.log(traceLine('delivery.message', { eventId: decoded.right.eventId, ...s }));
  };
});

app.storageQueue('deliver', { queueName: '%DELIVERIES_QUEUE%', connection: 'AzureWebJobsStorage', handler: deliverHandler });
