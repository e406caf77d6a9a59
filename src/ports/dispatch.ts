import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { EventId } from '../domain/events';
import type { DispatchState } from '../domain/views';
import type { StoredEvent } from './eventStore';

/**
 * Starts the fan-out of a stored event. Must be idempotent per event id (the orchestration
 * instance id is the event id): ingest calls it again when a client repeats a post. `repeated`
 * says whether the event was stored before this post: a first post has no orchestration yet, and
 * hands over the event it just stored (no need to read it back).
 */
export type StartDispatch = (eventId: EventId, post: { readonly repeated: true } | { readonly repeated: false; readonly event: StoredEvent }) => TE.TaskEither<AppError, void>;

/**
 * Stores and dispatches an event whose id the dispatcher chose (a post without `id`: no one can have
 * posted it before). Resolves once the event is stored; the implementation picks the order
 * (docs/architecture.md item 31: a one-page event without personal data is enqueued first and
 * stored already dispatched, one write instead of two).
 */
export type DispatchFresh = (event: StoredEvent) => TE.TaskEither<AppError, void>;

// One definition with the answer's codec (GET /api/events/{id} shows it as read).
export type { DispatchState } from '../domain/views';

/** Where the fan-out of one event stands. */
export type ReadDispatch = (eventId: EventId) => TE.TaskEither<AppError, DispatchState>;

/** Where a fan-out stands: which plan of the event, and where in its webhooks. */
export type FanOutCursor = { readonly eventId: EventId; readonly planIndex: number; readonly continuationToken?: string };

/**
 * Starts the fan-out orchestration for the pages after the first, with what those pages enqueued
 * so far; idempotent per event id (`repeated` posts check that no instance exists first).
 */
export type ContinueFanOut = (input: { cursor: FanOutCursor; deliveries: number; pages: number; repeated: boolean }) => TE.TaskEither<AppError, void>;
