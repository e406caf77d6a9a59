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
 * activity per PAGES_PER_ACTIVITY pages of FANOUT_STEP_SIZE webhooks, each enqueuing its pages' deliveries. Pure
 * replayable code: no I/O, no clock.
 */
export const fanOutOrchestrator: df.OrchestrationHandler = function* (context: df.OrchestrationContext) {
  const state = decodeOrThrow(FanOutInput, context.df.getInput(), 'The fan-out input');
  let cursor: FanOutCursor = { eventId: state.eventId, planIndex: state.planIndex, ...(state.continuationToken ? { continuationToken: state.continuationToken } : {}) };
  let deliveries = state.deliveries ?? 0;
  let pages = state.pages ?? 0;
  // A run ends after STEPS_PER_RUN pages (at most that many activities), then continues as new.
  for (let run = 0; run < STEPS_PER_RUN;) {
    const result = decodeOrThrow(FanOutPageResult, yield context.df.callActivityWithRetry(ENQUEUE_PAGE_ACTIVITY, PAGE_RETRY, cursor), 'The fan-out page result');
    deliveries += result.deliveries;
    // Results recorded before an activity could enqueue several pages have no count: one.
    pages += result.pages ?? 1;
    run += result.pages ?? 1;
    context.df.setCustomStatus({ deliveries, pages });
    if (!context.df.isReplaying) context.log(traceLine('fanout.progress', { eventId: state.eventId, deliveries, pages, done: result.next === undefined }));
    if (result.next === undefined) return { eventId: state.eventId, deliveries, pages };
    cursor = result.next;
  }
  context.df.continueAsNew({ ...cursor, deliveries, pages });
  return undefined;
};

/**
 * Pages one activity enqueues at most, and the time after which it stops at the end of a page. Each
 * activity costs an orchestration round trip (an episode, a work item and a control message): on a
 * loaded machine 2-5 s per page of a `ping:all` to 10 000 webhooks, whose 11 pages made it the
 * critical path (bench/README.md). A later page that fails ends the activity with what was done, so
 * a retry repeats one page at most, as before.
 */
export const PAGES_PER_ACTIVITY = 5;
const ACTIVITY_BUDGET_MS = 10_000;

/** The activity: up to PAGES_PER_ACTIVITY pages of the event's webhooks enqueued. */
export const enqueuePageActivity =
  (deps: FanOutPageDeps) =>
  async (input: unknown, context: InvocationContext): Promise<FanOutPageResult> => {
    const now = (): number => (deps.clock ?? { now: () => new Date() }).now().getTime();
    const started = now();
    let cursor = decodeOrThrow(FanOutCursor, input, 'The fan-out cursor');
    let done: FanOutPageResult | undefined;
    for (let page = 0; page < PAGES_PER_ACTIVITY && (page === 0 || now() - started < ACTIVITY_BUDGET_MS); page++) {
      const result = await enqueueFanOutPage(deps)(cursor)();
      if (E.isLeft(result)) {
        if (done !== undefined) return done;
        throw new Error(redactFiscalCodes(`${result.left.kind} (event ${cursor.eventId}): ${result.left.message}`));
      }
      const { deliveries, messages, next } = result.right;
      context.log(recordFanOutPage({ eventId: cursor.eventId, planIndex: cursor.planIndex, deliveries, messages, more: next !== undefined }));
      done = {
        deliveries: (done?.deliveries ?? 0) + deliveries,
        messages: (done?.messages ?? 0) + messages,
        pages: page + 1,
        ...(next === undefined ? {} : { next }),
      };
      if (next === undefined) break;
      cursor = next;
    }
    return done as FanOutPageResult;
  };
