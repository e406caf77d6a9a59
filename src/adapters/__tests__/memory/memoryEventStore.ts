import * as TE from 'fp-ts/TaskEither';
import { type AppError, notFound } from '../../../domain/errors';
import type { EventStore, StoredEvent } from '../../../ports/eventStore';

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
    scanPage: ({ limit, continuationToken }) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      // Like the table's token: the next key to read, so rows deleted meanwhile shift nothing.
      const after = [...rows.values()].sort((a, b) => a.id.localeCompare(b.id)).filter((e) => continuationToken === undefined || e.id >= continuationToken);
      const next = after[limit]?.id;
      return TE.right({ events: after.slice(0, limit), ...(next === undefined ? {} : { continuationToken: next }) });
    },
    remove: (id) => (store.failWith !== undefined ? TE.left(store.failWith) : TE.right(rows.delete(id))),
    // The version is the status: an event dispatched since it was listed is not removed.
    listStranded: ({ receivedBefore, limit }) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      const stranded = [...rows.values()].filter((e) => e.status === 'accepted' && e.receivedAt < receivedBefore).slice(0, limit);
      return TE.right(stranded.map((e) => ({ id: e.id, receivedAt: e.receivedAt, version: e.status })));
    },
    removeStranded: (event) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      if (rows.get(event.id)?.status !== event.version) return TE.right('Changed');
      rows.delete(event.id);
      return TE.right('Removed');
    },
  };
  return store;
};
