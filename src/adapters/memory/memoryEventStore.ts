import * as TE from 'fp-ts/TaskEither';
import { type AppError, notFound } from '../../domain/errors';
import type { EventStore, StoredEvent } from '../../ports/eventStore';

/** The EventStore contract in memory, for unit tests; `failWith` makes every call fail. */
export type MemoryEventStore = EventStore & { readonly rows: Map<string, StoredEvent>; failWith?: AppError };

export const memoryEventStore = (): MemoryEventStore => {
  const rows = new Map<string, StoredEvent>();
  const store: MemoryEventStore = {
    rows,
    add: (event) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      const existing = rows.get(event.id);
      if (existing !== undefined) return TE.right({ kind: 'AlreadyExists', existing });
      rows.set(event.id, event);
      return TE.right({ kind: 'Added' });
    },
    get: (id) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      const found = rows.get(id);
      return found === undefined ? TE.left(notFound(`No event with id "${id}"`)) : TE.right(found);
    },
    markDispatched: (id, firstPage) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      const found = rows.get(id);
      if (found === undefined) return TE.left(notFound(`No event with id "${id}"`));
      rows.set(id, { ...found, status: 'dispatched', firstPage });
      return TE.right(undefined);
    },
    list: ({ limit, receivedAfter, scanMax }) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      const recent = [...rows.values()].slice(0, scanMax).filter((e) => e.receivedAt >= receivedAfter);
      return TE.right(recent.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt)).slice(0, limit));
    },
    pageReceivedBetween: ({ since, until, pageSize, continuationToken }) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      const all = [...rows.values()].filter((e) => e.receivedAt >= since && e.receivedAt < until);
      const start = Number(continuationToken ?? '0');
      const next = start + pageSize;
      return TE.right({ items: all.slice(start, next), ...(next < all.length ? { continuationToken: String(next) } : {}) });
    },
  };
  return store;
};
