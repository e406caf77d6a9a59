import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { EventId } from '../domain/events';

/**
 * Starts the fan-out of a stored event. Must be idempotent per event id (the orchestration
 * instance id is the event id): ingest calls it again when a client repeats a post. `repeated`
 * says whether the event was stored before this post: a first post has no orchestration yet.
 */
export type StartDispatch = (eventId: EventId, event: { readonly repeated: boolean }) => TE.TaskEither<AppError, void>;

export type DispatchState = {
  /** NotStarted: no orchestration exists for the event (yet). */
  readonly status: 'NotStarted' | 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated' | 'ContinuedAsNew' | 'Suspended' | 'Unknown';
  /** Deliveries enqueued so far, and webhook pages read. */
  readonly deliveries?: number;
  readonly pages?: number;
  readonly error?: string;
  readonly lastUpdatedAt?: string;
};

/** Where the fan-out of one event stands. */
export type ReadDispatch = (eventId: EventId) => TE.TaskEither<AppError, DispatchState>;
