import type * as TE from 'fp-ts/TaskEither';
import type { EventName } from '../domain/catalogue';
import type { AppError } from '../domain/errors';
import type { EventId } from '../domain/events';

export type EventStatus = 'accepted';

/** An incoming event as ingest keeps it until the fan-out has handled it. */
export type StoredEvent = {
  readonly id: EventId;
  readonly name: EventName;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly receivedAt: string;
  readonly status: EventStatus;
};

export type AddEventResult = { readonly kind: 'Added' } | { readonly kind: 'AlreadyExists'; readonly existing: StoredEvent };

export type EventStore = {
  /** Stores the event durably unless one with the same id exists, which it returns instead. */
  add(event: StoredEvent): TE.TaskEither<AppError, AddEventResult>;
  /** NotFound when no event has this id. */
  get(id: EventId): TE.TaskEither<AppError, StoredEvent>;
  /**
   * Events received at or after `receivedAfter`, newest first, at most `limit`. A scan (the table
   * has no time index): for the ops console, bounded by `scanMax` rows read.
   */
  list(query: { limit: number; receivedAfter: string; scanMax: number }): TE.TaskEither<AppError, StoredEvent[]>;
};
