import type * as TE from 'fp-ts/TaskEither';
import type { PayloadRef } from '../domain/claimCheck';
import type { AppError } from '../domain/errors';
import type { EventId } from '../domain/events';

/** Where large event payloads are kept (a blob per event and content): docs/delivery.md, "Large payloads". */
export type PayloadStore = {
  /** Stores the payload's text under the event; writing the same reference again is harmless. */
  put(input: { readonly eventId: EventId; readonly ref: PayloadRef; readonly text: string }): TE.TaskEither<AppError, void>;
  /** The payload's text; NotFound when the event's blobs were deleted (retention, erasure). */
  get(input: { readonly eventId: EventId; readonly ref: PayloadRef }): TE.TaskEither<AppError, string>;
  /** Deletes every payload blob of the event; the count deleted (0 when it had none). */
  removeAll(eventId: EventId): TE.TaskEither<AppError, number>;
};
