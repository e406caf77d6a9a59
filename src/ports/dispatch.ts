import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { EventId } from '../domain/events';

/**
 * Starts the fan-out of a stored event. Must be idempotent per event id (the orchestration
 * instance id is the event id): ingest calls it again when a client repeats a post.
 */
export type StartDispatch = (eventId: EventId) => TE.TaskEither<AppError, void>;
