import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { publicEventCarriesPersonalData } from '../domain/catalogue';
import { type AppError, conflict } from '../domain/errors';
import { subjectsOf } from '../domain/privacy';
import type { ContinueFanOut, DispatchFresh, FanOutCursor, StartDispatch } from '../ports/dispatch';
import type { EventStore, StoredEvent } from '../ports/eventStore';
import { enqueuePlannedPage, type FanOutPageDeps, type FanOutPageResult, planFanOutPage, type PlannedPage } from './enqueueFanOutPage';

export type DispatchEventDeps = {
  readonly events: Pick<EventStore, 'get' | 'markDispatched'>;
  readonly fanOut: FanOutPageDeps;
  readonly continueFanOut: ContinueFanOut;
  readonly onPage?: (cursor: FanOutCursor, result: FanOutPageResult) => void;
};

/** Where every event's fan-out starts. */
const firstCursor = (event: StoredEvent): FanOutCursor => ({ eventId: event.id, planIndex: 0 });

/** The first page sent, and reported to `onPage`. */
const sendFirstPage = (deps: DispatchEventDeps, { event, planned }: { event: StoredEvent; planned: PlannedPage }): TE.TaskEither<AppError, FanOutPageResult> =>
  pipe(
    enqueuePlannedPage(deps.fanOut.queue)(planned),
    TE.chainFirst((page) => TE.fromIO(() => deps.onPage?.(firstCursor(event), page))),
  );

/** The first page sent, the orchestration started for the rest, then the mark (the order below says why). */
const enqueueThenMark = (deps: DispatchEventDeps, { event, planned, repeated }: { event: StoredEvent; planned: PlannedPage; repeated: boolean }): TE.TaskEither<AppError, void> =>
  pipe(
    sendFirstPage(deps, { event, planned }),
    TE.chainFirst((page) => (page.next === undefined ? TE.right(undefined) : deps.continueFanOut({ cursor: page.next, deliveries: page.deliveries, pages: 1, repeated }))),
    TE.chain((page) => deps.events.markDispatched(event.id, { deliveries: page.deliveries, orchestrated: page.next !== undefined })),
  );

/**
 * Dispatches an event from ingest: the first page of matching webhooks is enqueued at once, and the
 * orchestration takes over only when more pages follow. Most events match fewer webhooks than a
 * page holds, and the orchestration costs about 20 storage operations per event (bench/README.md),
 * two thirds of the total at fan-out 1. The event is marked dispatched last: a repeat finds it
 * marked and does nothing; a crash before the mark leaves it unmarked, and the client's repeat
 * (it got no 202) enqueues the page again, whose deliveries keep their ids (receivers drop repeats).
 */
export const dispatchEvent =
  (deps: DispatchEventDeps): StartDispatch =>
  (eventId, post) =>
    pipe(
      post.repeated ? deps.events.get(eventId) : TE.right(post.event),
      TE.chain((event) =>
        event.status === 'dispatched'
          ? TE.right(undefined)
          : pipe(
              planFanOutPage(deps.fanOut)(firstCursor(event), event),
              TE.chain((planned) => enqueueThenMark(deps, { event, planned, repeated: post.repeated })),
            ),
      ),
    );

/**
 * Whether a planned first page may be sent before its event is stored: only when nothing needs the
 * row first. The worker reads the row of a delivery that carries personal data (no row = erased, so
 * it would skip it); an erasure finds events by the subject rows and deletes the row, which must
 * exist by then; a claim-checked payload's blob is written with the row; the orchestration of the
 * later pages reads the event.
 */
const mayEnqueueFirst = (event: StoredEvent, planned: PlannedPage): boolean =>
  planned.next === undefined && subjectsOf(event).length === 0 && planned.messages.every((m) => m.payloadRef === undefined && m.items.every((i) => !publicEventCarriesPersonalData(i.body.name)));

/**
 * A post without `id` (docs/architecture.md item 31). No repeat of it can exist, so the dispatched
 * mark is not needed to tell one: a one-page event without personal data is enqueued first and then
 * stored already dispatched, one event write instead of an insert and a mark. A crash or a storage
 * failure between the two leaves deliveries under way and no row, and the post gets no 202 (or a
 * 503): the same outcome as the mark failing after the enqueue in the other order, whose row the
 * stranded-event sweep removes. Every other event is stored first and dispatched as `dispatchEvent` does.
 */
export const dispatchFreshEvent =
  (deps: DispatchEventDeps & { readonly events: Pick<EventStore, 'add'> }): DispatchFresh =>
  (event) => {
    const add = (row: StoredEvent): TE.TaskEither<AppError, void> =>
      pipe(
        deps.events.add(row),
        TE.chain((added) => (added.kind === 'Added' ? TE.right(undefined) : TE.left(conflict(`An event with id "${row.id}" was already stored`)))),
      );
    return pipe(
      planFanOutPage(deps.fanOut)(firstCursor(event), event),
      TE.chain((planned) =>
        mayEnqueueFirst(event, planned)
          ? pipe(
              sendFirstPage(deps, { event, planned }),
              TE.chain((page) => add({ ...event, status: 'dispatched', firstPage: { deliveries: page.deliveries, orchestrated: false } })),
            )
          : pipe(
              add(event),
              TE.chain(() => enqueueThenMark(deps, { event, planned, repeated: false })),
            ),
      ),
    );
  };
