import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { ContinueFanOut, FanOutCursor, StartDispatch } from '../ports/dispatch';
import type { EventStore } from '../ports/eventStore';
import { enqueueFanOutPage, type FanOutPageDeps, type FanOutPageResult } from './enqueueFanOutPage';

export type DispatchEventDeps = {
  readonly events: Pick<EventStore, 'get' | 'markDispatched'>;
  readonly fanOut: FanOutPageDeps;
  readonly continueFanOut: ContinueFanOut;
  readonly onPage?: (cursor: FanOutCursor, result: FanOutPageResult) => void;
};

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
      TE.chain((event) => {
        if (event.status === 'dispatched') return TE.right(undefined);
        const { repeated } = post;
        const first: FanOutCursor = { eventId, planIndex: 0 };
        return pipe(
          enqueueFanOutPage(deps.fanOut)(first, event),
          TE.chainFirst((page) => TE.fromIO(() => deps.onPage?.(first, page))),
          TE.chainFirst((page) => (page.next === undefined ? TE.right(undefined) : deps.continueFanOut({ cursor: page.next, deliveries: page.deliveries, pages: 1, repeated }))),
          TE.chain((page) => deps.events.markDispatched(eventId, { deliveries: page.deliveries, orchestrated: page.next !== undefined })),
        );
      }),
    );
