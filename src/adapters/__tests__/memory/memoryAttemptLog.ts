import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../../../domain/errors';
import type { AttemptLog, AttemptLogEntry } from '../../../ports/attemptLog';

/** The AttemptLog contract in memory, for unit tests; `failWith` makes every call fail. */
export type MemoryAttemptLog = AttemptLog & { readonly entries: AttemptLogEntry[]; failWith?: AppError };

const isProblem = (entry: AttemptLogEntry): boolean => !(entry.decision === 'Delivered' && entry.attempt === 1);

export const memoryAttemptLog = (): MemoryAttemptLog => {
  const log: MemoryAttemptLog = {
    entries: [],
    record: (entries) => {
      if (log.failWith !== undefined) return TE.left(log.failWith);
      // Like the table's upserts: a repeated (delivery, attempt, time) replaces the entry written before.
      for (const entry of entries) {
        const index = log.entries.findIndex((e) => e.deliveryId === entry.deliveryId && e.attempt === entry.attempt && e.at === entry.at);
        if (index >= 0) log.entries.splice(index, 1, entry);
        else log.entries.push(entry);
      }
      return TE.right(undefined);
    },
    forEvent: (eventId) => (log.failWith !== undefined ? TE.left(log.failWith) : TE.right(log.entries.filter((e) => e.eventId === eventId).sort((a, b) => a.at.localeCompare(b.at)))),
    problemsForWebhook: ({ webhookId, limit }) =>
      log.failWith !== undefined
        ? TE.left(log.failWith)
        : TE.right(
            log.entries
              .filter((e) => e.webhookId === webhookId && isProblem(e))
              .sort((a, b) => b.at.localeCompare(a.at))
              .slice(0, limit),
          ),
    // The continuation token is an offset: enough for unit tests.
    problemsBetween: ({ webhookId, from, to, pageSize, continuationToken }) => {
      if (log.failWith !== undefined) return TE.left(log.failWith);
      const all = log.entries.filter((e) => e.webhookId === webhookId && isProblem(e) && e.at >= from && e.at <= to).sort((a, b) => b.at.localeCompare(a.at));
      const start = Number(continuationToken ?? '0');
      const next = start + pageSize;
      return TE.right({ items: all.slice(start, next), ...(next < all.length ? { continuationToken: String(next) } : {}) });
    },
    removeForEvent: (eventId) => {
      if (log.failWith !== undefined) return TE.left(log.failWith);
      const before = log.entries.length;
      log.entries.splice(0, before, ...log.entries.filter((e) => e.eventId !== eventId));
      return TE.right(before - log.entries.length);
    },
  };
  return log;
};
