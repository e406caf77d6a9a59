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
  /** One page of the events received in [since, until), in no particular order (replay of a whole window). */
  pageReceivedBetween(query: { since: string; until: string; pageSize: number; continuationToken?: string }): TE.TaskEither<AppError, { items: StoredEvent[]; continuationToken?: string }>;
};
