import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../../../domain/errors';
import type { EventId } from '../../../domain/events';
import { hourBucketOf } from '../../../domain/privacy';
import type { BackfillState, PrivacyIndex } from '../../../ports/privacyIndex';

/** The PrivacyIndex contract in memory, for unit tests: rows as `t|<hour>` / `s|<hash>` -> event ids. */
export type MemoryPrivacyIndex = PrivacyIndex & { readonly rows: Map<string, Set<EventId>>; backfill: BackfillState; failWith?: AppError };

export const memoryPrivacyIndex = (): MemoryPrivacyIndex => {
  const rows = new Map<string, Set<EventId>>();
  const subjects = new Map<string, readonly string[]>();
  const add = (key: string, id: EventId): void => void rows.set(key, (rows.get(key) ?? new Set<EventId>()).add(id));
  const index: MemoryPrivacyIndex = {
    rows,
    backfill: { done: false },
    backfillState: () => (index.failWith !== undefined ? TE.left(index.failWith) : TE.right(index.backfill)),
    saveBackfillState: (state) => (index.failWith !== undefined ? TE.left(index.failWith) : TE.right(void (index.backfill = state))),
    record: ({ eventId, receivedAt, subjectHashes }) => {
      if (index.failWith !== undefined) return TE.left(index.failWith);
      const hour = hourBucketOf(receivedAt);
      add(`t|${hour}`, eventId);
      subjects.set(`t|${hour}|${eventId}`, subjectHashes);
      subjectHashes.forEach((h) => add(`s|${h}`, eventId));
      return TE.right(undefined);
    },
    eventsOfSubject: ({ subjectHash, limit }) => (index.failWith !== undefined ? TE.left(index.failWith) : TE.right([...(rows.get(`s|${subjectHash}`) ?? [])].slice(0, limit))),
    bucketsUpTo: ({ lastHour, limit }) => {
      if (index.failWith !== undefined) return TE.left(index.failWith);
      const found = [...rows.entries()]
        .filter(([key]) => key.startsWith('t|') && key.slice(2) <= lastHour)
        .sort(([a], [b]) => a.localeCompare(b))
        .flatMap(([key, ids]) => [...ids].sort().map((eventId) => ({ eventId, hour: key.slice(2), subjectHashes: subjects.get(`${key}|${eventId}`) ?? [], bucket: key })));
      return TE.right(found.slice(0, limit));
    },
    // The continuation token is an offset: enough for unit tests.
    bucketPage: ({ fromHour, toHour, pageSize, continuationToken }) => {
      if (index.failWith !== undefined) return TE.left(index.failWith);
      const found = [...rows.entries()]
        .filter(([key]) => key.startsWith('t|') && key.slice(2) >= fromHour && key.slice(2) <= toHour)
        .sort(([a], [b]) => a.localeCompare(b))
        .flatMap(([key, ids]) => [...ids].sort().map((eventId) => ({ eventId, hour: key.slice(2), subjectHashes: subjects.get(`${key}|${eventId}`) ?? [], bucket: key })));
      const start = Number(continuationToken ?? '0');
      const next = start + pageSize;
      return TE.right({ items: found.slice(start, next), ...(next < found.length ? { continuationToken: String(next) } : {}) });
    },
    forget: ({ eventId, receivedAt, buckets, subjectHashes }) => {
      if (index.failWith !== undefined) return TE.left(index.failWith);
      for (const key of [...buckets, ...receivedAt.map((at) => `t|${hourBucketOf(at)}`), ...subjectHashes.map((h) => `s|${h}`)]) {
        rows.get(key)?.delete(eventId);
        if (rows.get(key)?.size === 0) rows.delete(key);
      }
      return TE.right(undefined);
    },
  };
  return index;
};
