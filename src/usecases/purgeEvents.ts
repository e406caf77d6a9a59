import * as RA from 'fp-ts/ReadonlyArray';
import * as A from 'fp-ts/Array';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import type { AppError } from '../domain/errors';
import { hourBucketOf } from '../domain/privacy';
import type { PoisonQueue } from '../ports/poisonQueue';
import type { BucketedEvent, PrivacyIndex } from '../ports/privacyIndex';
import { Deleted, findEvent, type Removed, removeEvent, type RemoveEventDeps } from './removeEvent';
import { removePoison } from './removePoison';

export type PurgeDeps = RemoveEventDeps & {
  readonly index: Pick<PrivacyIndex, 'bucketsUpTo' | 'forget'>;
  readonly poison: PoisonQueue;
  /** Deletes finished orchestration histories created before the cutoff; answers how many. */
  readonly purgeHistory?: (before: Date) => TE.TaskEither<AppError, number>;
  /** Indexes events stored before the retention index existed, a bounded step per run (docs/privacy.md). */
  readonly backfill?: () => TE.TaskEither<AppError, unknown>;
  /** Events looked at per run at most: the timer's work is bounded, and the next run goes on. */
  readonly maxEvents: number;
  readonly maxPoisonMessages: number;
};

/** What a purge deleted; `truncated`: a bound was reached, the next run (or call) goes on. */
export const PurgeReport = t.type({ deleted: Deleted, instances: t.number, truncated: t.boolean }, 'PurgeReport');
export type PurgeReport = t.TypeOf<typeof PurgeReport>;

/** Events removed side by side; storage answers a few at a time faster than one by one. */
const CONCURRENCY = 8;

/**
 * Deletes the events received before `before`, with their attempts and index rows, the poison
 * entries set aside before it, and finished orchestration histories. Walks the hour buckets oldest
 * first; an event of the cutoff's own hour that is newer than the cutoff stays. Resumable: whatever
 * a run leaves is found again by the next, because index rows go last.
 */
export const purgeEvents =
  (deps: PurgeDeps) =>
  (before: Date): TE.TaskEither<AppError, PurgeReport> => {
    const cutoff = before.toISOString();
    const lastHour = hourBucketOf(cutoff);
    const one = (row: BucketedEvent): TE.TaskEither<AppError, Removed> =>
      pipe(
        // Only the cutoff's own hour can hold newer events: older buckets are deleted without reading the event.
        row.hour < lastHour ? TE.right(undefined) : findEvent(deps, row.eventId),
        TE.chain((event) =>
          event !== undefined && event.receivedAt >= cutoff
            ? TE.right({ events: 0, attempts: 0 })
            : removeEvent(deps)({ id: row.eventId, event, buckets: [row.bucket], subjectHashes: row.subjectHashes }),
        ),
      );
    return pipe(
      deps.backfill === undefined ? TE.right(undefined) : deps.backfill(),
      TE.chain(() => deps.index.bucketsUpTo({ lastHour, limit: deps.maxEvents })),
      TE.chain((rows) =>
        pipe(
          RA.chunksOf(CONCURRENCY)(rows).map((part) => pipe(part.map(one), A.sequence(TE.ApplicativePar))),
          A.sequence(TE.ApplicativeSeq),
          TE.map((parts) => ({ removed: parts.flat(), full: rows.length >= deps.maxEvents })),
        ),
      ),
      TE.chain(({ removed, full }) =>
        pipe(
          removePoison(deps)({ matches: (m) => m.insertedOn < cutoff, maxMessages: deps.maxPoisonMessages }),
          TE.chain((poison) =>
            pipe(
              deps.purgeHistory === undefined ? TE.right(0) : deps.purgeHistory(before),
              TE.map((instances): PurgeReport => ({
                deleted: { events: removed.reduce((n, r) => n + r.events, 0), attempts: removed.reduce((n, r) => n + r.attempts, 0), poison: poison.removed },
                instances,
                truncated: full || poison.truncated,
              })),
            ),
          ),
        ),
      ),
    );
  };
