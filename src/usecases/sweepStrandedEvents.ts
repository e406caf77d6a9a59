import { pipe } from 'fp-ts/function';
import * as A from 'fp-ts/Array';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { Clock } from '../ports/clock';
import type { EventStore } from '../ports/eventStore';

export type SweepStrandedDeps = {
  readonly events: Pick<EventStore, 'listStranded' | 'removeStranded'>;
  readonly clock: Clock;
  /** STRANDED_EVENT_SECONDS: older than any ingest request can run, so no request still owns the event. */
  readonly strandedAfterSeconds: number;
  /** Events removed per run at most. */
  readonly limit: number;
};

export type SweepResult = { readonly removed: number; readonly changed: number };

/**
 * Removes events left `accepted`: ingest answers 202 only after the dispatch, so no sender was told
 * such an event was taken (it got a 503, or no answer). Without this, a write that lands after its
 * 503 (storage that hung past STORAGE_TIMEOUT_MS) would stay stored and never dispatched. A sender's
 * repeat stores and dispatches it again; one that came first (and so changed the row) keeps it.
 */
export const sweepStrandedEvents = (deps: SweepStrandedDeps): TE.TaskEither<AppError, SweepResult> =>
  pipe(
    deps.events.listStranded({ receivedBefore: new Date(deps.clock.now().getTime() - deps.strandedAfterSeconds * 1000).toISOString(), limit: deps.limit }),
    TE.chain((stranded) => pipe(stranded, A.map(deps.events.removeStranded), TE.sequenceSeqArray)),
    TE.map((outcomes) => ({ removed: outcomes.filter((o) => o === 'Removed').length, changed: outcomes.filter((o) => o === 'Changed').length })),
  );
