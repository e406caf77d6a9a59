import * as RA from 'fp-ts/ReadonlyArray';
import * as A from 'fp-ts/Array';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import { subjectHash, subjectsOf } from '../domain/privacy';
import type { EventStore } from '../ports/eventStore';
import type { PrivacyIndex } from '../ports/privacyIndex';

/** Events indexed side by side. */
const CONCURRENCY = 8;

export type BackfillDeps = {
  readonly events: Pick<EventStore, 'scanPage'>;
  readonly index: Pick<PrivacyIndex, 'record' | 'backfillState' | 'saveBackfillState'>;
  readonly subjectHashKey: string;
  /** Events indexed per call at most (one page of the events table). */
  readonly maxEvents: number;
};

/**
 * Events stored before the retention and erasure indexes existed have no rows there: each purge run
 * indexes one more page of the events table (resumable from a marker row) until the scan is done;
 * after that it costs one point read per run. Re-indexing an event ingest already indexed is harmless.
 */
export const backfillPrivacyIndex = (deps: BackfillDeps): TE.TaskEither<AppError, { indexed: number; done: boolean }> =>
  pipe(
    deps.index.backfillState(),
    TE.chain((state) =>
      state.done
        ? TE.right({ indexed: 0, done: true })
        : pipe(
            deps.events.scanPage({ limit: deps.maxEvents, ...(state.continuationToken === undefined ? {} : { continuationToken: state.continuationToken }) }),
            TE.chain((page) =>
              pipe(
                RA.chunksOf(CONCURRENCY)(page.events).map((part) =>
                  pipe(
                    part.map((event) =>
                      deps.index.record({
                        eventId: event.id,
                        receivedAt: event.receivedAt,
                        subjectHashes: subjectsOf(event).map((subject) => subjectHash({ key: deps.subjectHashKey, subject })),
                      }),
                    ),
                    A.sequence(TE.ApplicativePar),
                  ),
                ),
                A.sequence(TE.ApplicativeSeq),
                TE.chain(() => deps.index.saveBackfillState(page.continuationToken === undefined ? { done: true } : { done: false, continuationToken: page.continuationToken })),
                TE.map(() => ({ indexed: page.events.length, done: page.continuationToken === undefined })),
              ),
            ),
          ),
    ),
  );
