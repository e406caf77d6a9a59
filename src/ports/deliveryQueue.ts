import type * as TE from 'fp-ts/TaskEither';
import type { DeliveryMessage, PoisonEntry } from '../domain/delivery';
import type { AppError } from '../domain/errors';

/** The deliveries queue and its poison queue. */
export type DeliveryQueue = {
  /** Enqueues messages, visible after `delaySeconds` (0: at once). */
  enqueue(messages: readonly DeliveryMessage[], options?: { delaySeconds?: number }): TE.TaskEither<AppError, void>;
  /** Sets deliveries aside in `<queue>-poison`, with their reason. */
  poison(entries: readonly PoisonEntry[]): TE.TaskEither<AppError, void>;
};
