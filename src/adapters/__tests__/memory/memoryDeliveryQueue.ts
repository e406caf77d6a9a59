import * as TE from 'fp-ts/TaskEither';
import type { DeliveryMessage, PoisonEntry } from '../../../domain/delivery';
import { type AppError, permanent } from '../../../domain/errors';
import type { DeliveryQueue } from '../../../ports/deliveryQueue';

/** What Azure Storage accepts per message, after the base64 the Functions host expects. */
export const MAX_ENCODED_MESSAGE_BYTES = 64 * 1024;

export type EnqueuedMessage = { readonly message: DeliveryMessage; readonly delaySeconds: number };

/**
 * The DeliveryQueue contract in memory, for unit tests. Like the real queue it refuses a message
 * over 64 KB once base64-encoded, so a test sees what a too-big retry or poison entry would cause.
 * `failWith` makes every call fail; `failPoisonWith` only the poison queue.
 */
export type MemoryDeliveryQueue = DeliveryQueue & {
  readonly sent: EnqueuedMessage[];
  readonly poisoned: PoisonEntry[];
  failWith?: AppError;
  failPoisonWith?: AppError;
};

const encodedBytes = (value: unknown): number => Buffer.from(JSON.stringify(value), 'utf8').toString('base64').length;

const tooBig = (values: readonly unknown[]): AppError | undefined => {
  const sizes = values.map(encodedBytes);
  const biggest = Math.max(0, ...sizes);
  return biggest > MAX_ENCODED_MESSAGE_BYTES ? permanent(`Storage refused a message of ${biggest} bytes (at most ${MAX_ENCODED_MESSAGE_BYTES})`) : undefined;
};

export const memoryDeliveryQueue = (): MemoryDeliveryQueue => {
  const queue: MemoryDeliveryQueue = {
    sent: [],
    poisoned: [],
    enqueue: (messages, options) => {
      const refused = queue.failWith ?? tooBig(messages);
      if (refused !== undefined) return TE.left(refused);
      queue.sent.push(...messages.map((message) => ({ message, delaySeconds: options?.delaySeconds ?? 0 })));
      return TE.right(undefined);
    },
    poison: (entries) => {
      const refused = queue.failWith ?? queue.failPoisonWith ?? tooBig(entries);
      if (refused !== undefined) return TE.left(refused);
      queue.poisoned.push(...entries);
      return TE.right(undefined);
    },
  };
  return queue;
};
