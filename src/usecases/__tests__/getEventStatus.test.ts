import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import { memoryAttemptLog } from '../../adapters/__tests__/memory/memoryAttemptLog';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { transient } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { AttemptResult } from '../../domain/outcome';
import type { AttemptLogEntry } from '../../ports/attemptLog';
import type { DispatchState } from '../../ports/dispatch';
import { deliveryViews, dispatchOf, getEventStatus } from '../getEventStatus';

const EVENT_ID = '01J0000000000000000000EVNT' as EventId;
const status = (code: number): AttemptResult => ({ kind: 'Response', status: code, latencyMs: 3, excerpt: '', bodyRead: 'Complete' });
const at = (s: number): string => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString();
const entry = (deliveryId: string, attempt: number, decision: AttemptLogEntry['decision'], extra: Partial<AttemptLogEntry> = {}): AttemptLogEntry => ({
  eventId: EVENT_ID,
  deliveryId,
  webhookId: `wh-${deliveryId}`,
  attempt,
  at: at(attempt * 10),
  decision,
  ...extra,
});

const setup = (dispatch: DispatchState = { status: 'Completed', deliveries: 6, pages: 1 }) => {
  const events = memoryEventStore();
  const attemptLog = memoryAttemptLog();
  events.rows.set(EVENT_ID, { id: EVENT_ID, name: 'ping:all', payload: {}, receivedAt: at(0), status: 'accepted' });
  let readDispatch = (): TE.TaskEither<ReturnType<typeof transient>, DispatchState> => TE.right(dispatch);
  const run = () => getEventStatus({ events, attemptLog, readDispatch: () => readDispatch() })(EVENT_ID)();
  return { events, attemptLog, run, failDispatch: () => (readDispatch = () => TE.left(transient('durable down'))) };
};

describe('getEventStatus', () => {
  it('reports the event, its dispatch and one state per delivery, with the counts', async () => {
    const s = setup();
    s.attemptLog.entries.push(
      entry('a', 1, 'Delivered', { result: status(200) }),
      entry('b', 1, 'RetryLater', { result: status(503), nextAttemptAt: at(15) }),
      entry('b', 2, 'RetryLater', { result: { kind: 'NetworkError', error: 'Timeout', message: 't', latencyMs: 1000 }, nextAttemptAt: at(50) }),
      entry('c', 1, 'Poisoned', { result: status(400) }),
      entry('d', 1, 'WebhookDisabledByGone', { result: status(410) }),
      entry('e', 0, 'SkippedDisabledWebhook'),
    );
    const view = await s.run();
    expect(view).toEqual(
      E.right({
        id: EVENT_ID,
        name: 'ping:all',
        payload: {},
        receivedAt: at(0),
        dispatch: { status: 'Completed', deliveries: 6, pages: 1 },
        summary: { delivered: 1, retrying: 1, poisoned: 1, gone: 1, skipped: 1, pending: 1 },
        deliveries: expect.arrayContaining([
          { deliveryId: 'a', webhookId: 'wh-a', state: 'delivered', attempts: 1, lastAttemptAt: at(10), lastResult: { status: 200 } },
          { deliveryId: 'b', webhookId: 'wh-b', state: 'retrying', attempts: 2, lastAttemptAt: at(20), lastResult: { error: 'Timeout' }, nextAttemptAt: at(50) },
          { deliveryId: 'c', webhookId: 'wh-c', state: 'poisoned', attempts: 1, lastAttemptAt: at(10), lastResult: { status: 400 } },
          { deliveryId: 'd', webhookId: 'wh-d', state: 'gone', attempts: 1, lastAttemptAt: at(10), lastResult: { status: 410 } },
          { deliveryId: 'e', webhookId: 'wh-e', state: 'skipped', attempts: 0, lastAttemptAt: at(0) },
        ]),
      }),
    );
    expect(E.isRight(view) && view.right.deliveries).toHaveLength(5);
  });

  it('a delivery stays delivered when a repeat of its message (after a crash) logs a later attempt', () => {
    const views = deliveryViews([entry('a', 1, 'RetryLater', { result: status(500) }), entry('a', 2, 'Delivered', { result: status(200) }), entry('a', 3, 'RetryLater', { result: status(500) })]);
    expect(views).toEqual([expect.objectContaining({ deliveryId: 'a', state: 'delivered', attempts: 3, lastResult: { status: 200 } })]);
  });

  it('after a redrive, the new attempts (counted from 1 again) follow the ones that poisoned the delivery', async () => {
    const log = memoryAttemptLog();
    const poisoned = [entry('a', 1, 'RetryLater', { result: status(500), at: at(1) }), entry('a', 2, 'Poisoned', { result: status(500), at: at(2) })];
    await log.record(poisoned)();
    await log.record([entry('a', 1, 'RetryLater', { result: status(503), at: at(30) })])();
    const entries = await log.forEvent(EVENT_ID)();
    if (E.isLeft(entries)) throw new Error('unexpected');
    expect(entries.right).toHaveLength(3);
    expect(deliveryViews(entries.right)).toEqual([expect.objectContaining({ state: 'retrying', attempts: 3, lastResult: { status: 503 } })]);
    await log.record([entry('a', 2, 'Delivered', { result: status(200), at: at(40) })])();
    const after = await log.forEvent(EVENT_ID)();
    expect(E.isRight(after) && deliveryViews(after.right)).toEqual([expect.objectContaining({ state: 'delivered', attempts: 4 })]);
  });

  it('before any attempt: every enqueued delivery is pending', async () => {
    const s = setup({ status: 'Running', deliveries: 3, pages: 1 });
    expect(await s.run()).toEqual(E.right(expect.objectContaining({ summary: { delivered: 0, retrying: 0, poisoned: 0, gone: 0, skipped: 0, pending: 3 }, deliveries: [] })));
    const notStarted = setup({ status: 'NotStarted' });
    expect(await notStarted.run()).toEqual(E.right(expect.objectContaining({ dispatch: { status: 'NotStarted' }, summary: expect.objectContaining({ pending: 0 }) })));
  });

  it('NotFound for an unknown event; the failures of the attempt log and of the dispatch pass through', async () => {
    const s = setup();
    s.events.rows.clear();
    expect(await s.run()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
    const log = setup();
    log.attemptLog.failWith = transient('tables down');
    expect(await log.run()).toEqual(E.left(transient('tables down')));
    const dispatch = setup();
    dispatch.failDispatch();
    expect(await dispatch.run()).toEqual(E.left(transient('durable down')));
  });

  it('an event dispatched by ingest alone is Completed with its first page; one handed on reports its orchestration', () => {
    const event = { id: EVENT_ID, name: 'ping:all' as const, payload: {}, receivedAt: at(0), status: 'dispatched' as const };
    expect(dispatchOf({ ...event, firstPage: { deliveries: 4, orchestrated: false } }, { status: 'NotStarted' })).toEqual({ status: 'Completed', deliveries: 4, pages: 1 });
    expect(dispatchOf({ ...event, firstPage: { deliveries: 4, orchestrated: true } }, { status: 'NotStarted' })).toEqual({ status: 'Pending', deliveries: 4, pages: 1 });
    expect(dispatchOf({ ...event, firstPage: { deliveries: 4, orchestrated: true } }, { status: 'Running', deliveries: 9, pages: 3 })).toEqual({ status: 'Running', deliveries: 9, pages: 3 });
    expect(dispatchOf({ ...event, status: 'accepted' }, { status: 'NotStarted' })).toEqual({ status: 'NotStarted' });
  });
});
