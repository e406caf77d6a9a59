import type * as TE from 'fp-ts/TaskEither';
import type { EventName } from '../domain/catalogue';
import type { AppError } from '../domain/errors';
import type { EventId } from '../domain/events';

/** `dispatched`: the first page of its deliveries is enqueued (and the orchestration, if any, started). */
export type EventStatus = 'accepted' | 'dispatched';

/** What ingest did with the event's first page of webhooks. */
export type FirstPage = {
  readonly deliveries: number;
  /** True when more pages followed, handed to the fan-out orchestration. */
  readonly orchestrated: boolean;
};

/** An incoming event as ingest keeps it until the fan-out has handled it. */
export type StoredEvent = {
  readonly id: EventId;
  readonly name: EventName;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly receivedAt: string;
  readonly status: EventStatus;
  readonly firstPage?: FirstPage;
};

/**
 * An event left `accepted` (ingest never answered 202 for it: a write that landed after its 503, or a
 * crash before the answer), with the version it was seen at.
 */
export type StrandedEvent = { readonly id: EventId; readonly receivedAt: string; readonly version: string };

export type AddEventResult = { readonly kind: 'Added' } | { readonly kind: 'AlreadyExists'; readonly existing: StoredEvent };

export type EventStore = {
  /** Stores the event durably unless one with the same id exists, which it returns instead. */
  add(event: StoredEvent): TE.TaskEither<AppError, AddEventResult>;
  /** NotFound when no event has this id. */
  get(id: EventId): TE.TaskEither<AppError, StoredEvent>;
  /** Records that the event's first page is enqueued. */
  markDispatched(id: EventId, firstPage: FirstPage): TE.TaskEither<AppError, void>;
  /**
   * Events received at or after `receivedAfter`, newest first, at most `limit`. A scan (the table
   * has no time index): for the ops console, bounded by `scanMax` rows read.
   */
  list(query: { limit: number; receivedAfter: string; scanMax: number }): TE.TaskEither<AppError, StoredEvent[]>;
  /** One page of every stored event, in key order, from where the previous page stopped (the retention index's backfill). */
  scanPage(query: { limit: number; continuationToken?: string }): TE.TaskEither<AppError, { events: StoredEvent[]; continuationToken?: string }>;
  /** Deletes the event's row (retention, erasure); false when there was none. */
  remove(id: EventId): TE.TaskEither<AppError, boolean>;
  /** Events still `accepted` that were received before `receivedBefore`, at most `limit` (a filtered scan). */
  listStranded(query: { receivedBefore: string; limit: number }): TE.TaskEither<AppError, StrandedEvent[]>;
  /** Deletes the event unless it changed since it was listed (a repeat post dispatched it meanwhile). */
  removeStranded(event: StrandedEvent): TE.TaskEither<AppError, 'Removed' | 'Changed'>;
};
