import type { QueueClient } from '@azure/storage-queue';
import { queueClientFor, type StorageConnection } from '../storageConnection';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { MAX_QUEUE_VISIBILITY_DELAY_SECONDS } from '../../domain/backoff';
import type { DeliveryMessage, PoisonEntry } from '../../domain/delivery';
import type { AppError } from '../../domain/errors';
import type { DeliveryQueue } from '../../ports/deliveryQueue';
import { storageError } from '../tables/storageErrors';
import { onceUntilFailure } from '../onceUntilFailure';
import { deadlineSignal } from '../storageDeadline';
import { coalescingEnqueue } from './coalescingEnqueue';

/** Never expire: the default of 7 days would silently drop a poisoned delivery nobody redrove yet. */
const NEVER_EXPIRES = -1;

/**
 * A queue client that creates its queue on first use (again after a failure). `signal()` is what each
 * call passes as its abortSignal: STORAGE_TIMEOUT_MS from now, when the queue has a deadline.
 */
export type EnsuredQueue = { readonly client: QueueClient; ready(): Promise<QueueClient>; signal(): AbortSignal | undefined };

export const ensuredQueue = (options: { connectionString: StorageConnection; queueName: string; timeoutMs?: number }): EnsuredQueue => {
  const signal = (): AbortSignal | undefined => (options.timeoutMs === undefined ? undefined : deadlineSignal(options.timeoutMs));
  // Few, short SDK retries: a caller learns quickly that storage is down (and answers 503 or retries later).
  const client = queueClientFor(options.connectionString, options.queueName, { retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1000 } });
  return {
    client,
    signal,
    ready: onceUntilFailure(async () => {
      await client.createIfNotExists({ abortSignal: signal() });
      return client;
    }),
  };
};

/** The Functions host reads queue messages as base64 text (its default messageEncoding). */
export const encodeMessage = (value: unknown): string => encodeText(JSON.stringify(value));
export const encodeText = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

export const poisonQueueName = (queueName: string): string => `${queueName}-poison`;

/**
 * `poisonTimeToLiveSeconds`: how long a poison entry lives (absent: forever); it holds personal data, so the retention bounds it.
 * `coalesceMaxItems`: immediate enqueues that meet a send in flight go together in envelopes of at most
 * that many deliveries (./coalescingEnqueue.ts); absent, every enqueue sends its own messages.
 */
export const storageDeliveryQueue = (options: {
  connectionString: StorageConnection;
  queueName: string;
  poisonTimeToLiveSeconds?: number;
  timeoutMs?: number;
  coalesceMaxItems?: number;
}): DeliveryQueue & { readonly deliveries: EnsuredQueue; readonly poisonQueue: EnsuredQueue } => {
  const deliveries = ensuredQueue(options);
  const poisonQueue = ensuredQueue({ ...options, queueName: poisonQueueName(options.queueName) });
  const sendAll = (queue: EnsuredQueue, values: readonly unknown[], delaySeconds: number, what: string, messageTimeToLive = NEVER_EXPIRES): TE.TaskEither<AppError, void> =>
    pipe(
      TE.tryCatch(async () => {
        const client = await queue.ready();
        const visibilityTimeout = Math.min(Math.max(0, Math.ceil(delaySeconds)), MAX_QUEUE_VISIBILITY_DELAY_SECONDS);
        await Promise.all(values.map((v) => client.sendMessage(encodeMessage(v), { visibilityTimeout, messageTimeToLive, abortSignal: queue.signal() })));
      }, storageError(what)),
    );
  const coalesced =
    options.coalesceMaxItems === undefined
      ? undefined
      : coalescingEnqueue({
          maxItems: options.coalesceMaxItems,
          send: async (body) => {
            const client = await deliveries.ready();
            await client.sendMessage(encodeMessage(body), { visibilityTimeout: 0, messageTimeToLive: NEVER_EXPIRES, abortSignal: deliveries.signal() });
          },
        });
  return {
    deliveries,
    poisonQueue,
    // Delayed enqueues (retries, held deliveries) go alone: packing them would need a timer, and they wait anyway.
    enqueue: (messages: readonly DeliveryMessage[], opts?: { delaySeconds?: number }) =>
      coalesced !== undefined && Math.ceil(opts?.delaySeconds ?? 0) <= 0
        ? TE.tryCatch(() => coalesced(messages), storageError('enqueue deliveries'))
        : sendAll(deliveries, messages, opts?.delaySeconds ?? 0, 'enqueue deliveries'),
    poison: (entries: readonly PoisonEntry[]) => sendAll(poisonQueue, entries, 0, 'set deliveries aside in the poison queue', options.poisonTimeToLiveSeconds ?? NEVER_EXPIRES),
  };
};
