import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { EventId } from '../domain/events';

/**
 * An event's row in a time bucket of the retention index (`hour`: the bucket's hour). It carries the
 * event's subject hashes, so the purge removes the subject rows even of an event whose row a failed
 * run already deleted.
 */
export type BucketedEvent = {
  readonly eventId: EventId;
  readonly hour: string;
  readonly subjectHashes: readonly string[];
  /** Where its row sits (the adapter's key, opaque here): handed back to `forget`, which deletes it there. */
  readonly bucket: string;
};

/** `done` once every event stored before the index has its rows; else where the scan goes on. */
export type BackfillState = { readonly done: boolean; readonly continuationToken?: string };

/**
 * The two indexes personal data needs (docs/privacy.md): subject hash -> events (erasure without a
 * scan) and hour bucket -> events (retention without a scan).
 */
export type PrivacyIndex = {
  /** Written before the event row: a row without its event is harmless, an event without its rows is missed. */
  record(entry: { eventId: EventId; receivedAt: string; subjectHashes: readonly string[] }): TE.TaskEither<AppError, void>;
  /** The events indexed under a subject hash (at most `limit`). */
  eventsOfSubject(query: { subjectHash: string; limit: number }): TE.TaskEither<AppError, EventId[]>;
  /** Rows of the buckets up to and including `lastHour`, oldest first, at most `limit`. */
  bucketsUpTo(query: { lastHour: string; limit: number }): TE.TaskEither<AppError, BucketedEvent[]>;
  /** One page of the rows of the buckets from `fromHour` to `toHour` (both included), in key order (replay "all"). */
  bucketPage(query: { fromHour: string; toHour: string; pageSize: number; continuationToken?: string }): TE.TaskEither<AppError, { items: BucketedEvent[]; continuationToken?: string }>;
  /** Where the one-time backfill of events stored before the index stands (docs/privacy.md). */
  backfillState(): TE.TaskEither<AppError, BackfillState>;
  saveBackfillState(state: BackfillState): TE.TaskEither<AppError, void>;
  /**
   * Deletes an event's index rows (absent rows are fine): its bucket rows where `record` puts them
   * for each `receivedAt` (in every layout the index has had), and in the `buckets` a walk found.
   */
  forget(entry: { eventId: EventId; receivedAt: readonly string[]; buckets: readonly string[]; subjectHashes: readonly string[] }): TE.TaskEither<AppError, void>;
};
