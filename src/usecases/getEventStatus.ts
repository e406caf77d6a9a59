import { pipe } from 'fp-ts/function';
import * as RNEA from 'fp-ts/ReadonlyNonEmptyArray';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import * as t from 'io-ts';
import { IsoTimestamp } from '../domain/codecs';
import { EventId } from '../domain/events';
import type { AttemptResult } from '../domain/outcome';
import type { AttemptLog, AttemptLogEntry } from '../ports/attemptLog';
import { DispatchState } from '../domain/views';
import type { ReadDispatch } from '../ports/dispatch';
import type { EventStore, StoredEvent } from '../ports/eventStore';

const DeliveryState = t.keyof({ delivered: null, retrying: null, poisoned: null, gone: null, skipped: null }, 'DeliveryState');
export type DeliveryState = t.TypeOf<typeof DeliveryState>;

export const DeliveryView = t.intersection(
  [
    /** `attempts`: made in all (a redrive's attempts add to those before it). */
    t.type({ deliveryId: t.string, webhookId: t.string, state: DeliveryState, attempts: t.number, lastAttemptAt: IsoTimestamp }),
    t.partial({ lastResult: t.union([t.type({ status: t.number }), t.type({ error: t.string })]), nextAttemptAt: IsoTimestamp }),
  ],
  'DeliveryView',
);
export type DeliveryView = t.TypeOf<typeof DeliveryView>;

/** GET /api/events/{id}. `summary`: counts by state; `pending` = enqueued deliveries without an attempt yet. */
export const EventStatusView = t.type(
  {
    id: EventId,
    name: t.string,
    payload: t.UnknownRecord,
    receivedAt: IsoTimestamp,
    dispatch: DispatchState,
    summary: t.type({ delivered: t.number, retrying: t.number, poisoned: t.number, gone: t.number, skipped: t.number, pending: t.number }),
    deliveries: t.readonlyArray(DeliveryView),
  },
  'EventStatusView',
);
export type EventStatusView = t.TypeOf<typeof EventStatusView>;

const STATE_OF: Record<AttemptLogEntry['decision'], DeliveryState> = {
  Delivered: 'delivered',
  RetryLater: 'retrying',
  Poisoned: 'poisoned',
  WebhookDisabledByGone: 'gone',
  SkippedDisabledWebhook: 'skipped',
  SkippedDeletedWebhook: 'skipped',
  Requeued: 'retrying',
  SkippedErasedEvent: 'skipped',
};

const resultView = (result: AttemptResult | undefined): DeliveryView['lastResult'] =>
  result === undefined ? undefined : result.kind === 'Response' ? { status: result.status } : { error: result.error };

/** The newest entry of each delivery says where it stands (a repeat after a crash may add more). */
export const deliveryViews = (entries: readonly AttemptLogEntry[]): DeliveryView[] => {
  const byDelivery = RNEA.groupBy((entry: AttemptLogEntry) => entry.deliveryId)(entries);
  return Object.values(byDelivery).map((list) => {
    // In time order: a redrive counts attempts from 1 again, after the attempts that poisoned it.
    const sorted = [...list].sort((a, b) => a.at.localeCompare(b.at) || a.attempt - b.attempt);
    // Once delivered, a later repeat of the same message does not make it less delivered.
    const last = sorted.find((e) => e.decision === 'Delivered') ?? (sorted[sorted.length - 1] as AttemptLogEntry);
    const lastResult = resultView(last.result);
    return {
      deliveryId: last.deliveryId,
      webhookId: last.webhookId,
      state: STATE_OF[last.decision],
      attempts: sorted.filter((e) => e.attempt > 0).length,
      lastAttemptAt: last.at,
      ...(lastResult ? { lastResult } : {}),
      ...(last.decision === 'RetryLater' && last.nextAttemptAt ? { nextAttemptAt: last.nextAttemptAt } : {}),
    };
  });
};

/**
 * Ingest enqueues the first page itself (usecases/dispatchEvent.ts): an event whose webhooks fit in
 * it has no orchestration, and is dispatched once marked so. The orchestration, when there is one,
 * starts from the first page's counts.
 */
export const dispatchOf = (event: StoredEvent, orchestration: DispatchState): DispatchState => {
  if (orchestration.status !== 'NotStarted' || event.firstPage === undefined) return orchestration;
  return event.firstPage.orchestrated ? { status: 'Pending', deliveries: event.firstPage.deliveries, pages: 1 } : { status: 'Completed', deliveries: event.firstPage.deliveries, pages: 1 };
};

export type GetEventStatusDeps = {
  readonly events: Pick<EventStore, 'get'>;
  readonly attemptLog: Pick<AttemptLog, 'forEvent'>;
  readonly readDispatch: ReadDispatch;
};

/** The event, its fan-out and where each of its deliveries stands. */
export const getEventStatus =
  (deps: GetEventStatusDeps) =>
  (id: EventId): TE.TaskEither<AppError, EventStatusView> =>
    pipe(
      TE.Do,
      TE.apS('event', deps.events.get(id)),
      TE.apS('dispatch', deps.readDispatch(id)),
      TE.apS('entries', deps.attemptLog.forEvent(id)),
      TE.map(({ event, dispatch: orchestration, entries }) => {
        const dispatch = dispatchOf(event, orchestration);
        const deliveries = deliveryViews(entries);
        const count = (state: DeliveryState): number => deliveries.filter((d) => d.state === state).length;
        return {
          id: event.id,
          name: event.name,
          payload: event.payload,
          receivedAt: event.receivedAt,
          dispatch,
          summary: {
            delivered: count('delivered'),
            retrying: count('retrying'),
            poisoned: count('poisoned'),
            gone: count('gone'),
            skipped: count('skipped'),
            pending: Math.max(0, (dispatch.deliveries ?? 0) - deliveries.length),
          },
          deliveries,
        };
      }),
    );
