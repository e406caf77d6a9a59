import type { InvocationContext } from '@azure/functions';
import type * as df from 'durable-functions';
import * as E from 'fp-ts/Either';
import { redactFiscalCodes } from '../../domain/privacy';
import { recordFanOutPage, traceLine } from '../../telemetry/telemetry';
import { enqueueFanOutPage, type FanOutPageDeps } from '../../usecases/enqueueFanOutPage';
import { decodeOrThrow } from '../lib/decodeOrThrow';
import { ENQUEUE_PAGE_ACTIVITY, FanOutCursor, FanOutInput, FanOutPageResult, PAGE_RETRY, STEPS_PER_RUN } from '../lib/orchestrations';

/**
 * One instance per event (instance id = event id): pages through the matching webhooks, one
 * activity per page of FANOUT_STEP_SIZE webhooks, each enqueuing its page's deliveries. Pure
 * replayable code: no I/O, no clock.
 */
export const fanOutOrchestrator: df.OrchestrationHandler = function* (context: df.OrchestrationContext) {
  const state = decodeOrThrow(FanOutInput, context.df.getInput(), 'The fan-out input');
  let cursor: FanOutCursor = { eventId: state.eventId, planIndex: state.planIndex, ...(state.continuationToken ? { continuationToken: state.continuationToken } : {}) };
  let deliveries = state.deliveries ?? 0;
  let pages = state.pages ?? 0;
  for (let run = 0; run < STEPS_PER_RUN; run++) {
    const result = decodeOrThrow(FanOutPageResult, yield context.df.callActivityWithRetry(ENQUEUE_PAGE_ACTIVITY, PAGE_RETRY, cursor), 'The fan-out page result');
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

/** The activity: one page of the event's webhooks enqueued. */
export const enqueuePageActivity =
  (deps: FanOutPageDeps) =>
  async (input: unknown, context: InvocationContext): Promise<FanOutPageResult> => {
    const cursor = decodeOrThrow(FanOutCursor, input, 'The fan-out cursor');
    const result = await enqueueFanOutPage(deps)(cursor)();
    if (E.isLeft(result)) throw new Error(redactFiscalCodes(`${result.left.kind} (event ${cursor.eventId}): ${result.left.message}`));
    const { deliveries, messages, next } = result.right;
    context.log(recordFanOutPage({ eventId: cursor.eventId, planIndex: cursor.planIndex, deliveries, messages, more: next !== undefined }));
    return result.right;
  };
