import { availableParallelism } from 'node:os';
import type { QueueClient, ReceivedMessageItem } from '@azure/storage-queue';
import * as t from 'io-ts';
import type { HostComponent, HostContext } from './core/component';
import { functionsWithTrigger, outputBindings, triggerBinding } from './core/invoke';
import type { RegisteredFunction, TypedData } from './core/types';
import { BindingConfigError, createQueueClients, createQueueOutputHandler, decodeMessage, type QueueClients, type QueueMessageEncoding, resolveQueueName, resolveStorageConnection } from './outputs';
import { createQueueWorker, errorText, holdMessage, isRefusal, MIN_POLLING_INTERVAL_MS, openThenRun, systemClock, type WorkerLog } from './worker';

/** The Azure host's limits and defaults for storage queue triggers (queues extension 5.x). */
export const MAX_BATCH_SIZE = 32;
export const DEFAULT_BATCH_SIZE = 16;
export const DEFAULT_MAX_DEQUEUE_COUNT = 5;
export const DEFAULT_MAX_POLLING_INTERVAL_MS = 60_000;
/**
 * How long a received message stays invisible while its function runs. Like the Azure host, the
 * listener takes 10 minutes and renews at half of that, so a long invocation keeps its message and
 * a crashed host's messages come back after at most this long. `LOCAL_HOST_QUEUE_LEASE_SECONDS` overrides it.
 */
export const DEFAULT_LEASE_SECONDS = 600;

/** host.json `extensions.queues`, as written. */
export const QueuesHostJson = t.partial({
  batchSize: t.number,
  newBatchThreshold: t.number,
  maxPollingInterval: t.string,
  visibilityTimeout: t.string,
  maxDequeueCount: t.number,
  messageEncoding: t.keyof({ base64: null, none: null }),
});
export type QueuesHostJson = t.TypeOf<typeof QueuesHostJson>;

export type QueueOptions = {
  batchSize: number;
  newBatchThreshold: number;
  maxPollingIntervalMs: number;
  visibilityTimeoutSeconds: number;
  maxDequeueCount: number;
  messageEncoding: QueueMessageEncoding;
  leaseSeconds: number;
};

/** Parses a .NET TimeSpan as host.json writes it: `[d.]hh:mm[:ss[.fffffff]]`. */
export const parseTimeSpanMs = (text: string): number | undefined => {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$/.exec(text.trim());
  if (m === null) return undefined;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = ''] = m;
  if (Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 59) return undefined;
  const ms = Math.round(Number(`0.${fraction || '0'}`) * 1000);
  return (((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 + ms;
};

const configError = (message: string): never => {
  throw new BindingConfigError(`host.json extensions.queues: ${message}`);
};

const integerIn = (value: number | undefined, fallback: number, range: { name: string; min: number; max: number }): number => {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result < range.min || result > range.max) {
    return configError(`${range.name} must be an integer from ${range.min} to ${range.max} (got ${result})`);
  }
  return result;
};

const timeSpanMs = (value: string | undefined, fallbackMs: number, name: string): number => {
  if (value === undefined) return fallbackMs;
  const ms = parseTimeSpanMs(value);
  return ms === undefined ? configError(`${name} must be a TimeSpan like "00:00:02" (got "${value}")`) : ms;
};

/**
 * The queue options the Azure host would use for this host.json. newBatchThreshold defaults, as in
 * Azure, to batchSize / 2 times the number of cores (this machine's `os.availableParallelism()`).
 */
export const queueOptionsFrom = (options: { hostJson: unknown; cores: number; leaseSeconds?: number }): QueueOptions => {
  const decoded = QueuesHostJson.decode(options.hostJson ?? {});
  if (decoded._tag === 'Left') {
    const paths = decoded.left.map(
      (e) =>
        e.context
          .map((c) => c.key)
          .filter((k) => k !== '')
          .join('.') || '(root)',
    );
    return configError(
      `invalid value at ${[...new Set(paths)].join(', ')}: expected numbers for batchSize/newBatchThreshold/maxDequeueCount, TimeSpan strings for intervals, "base64" or "none" for messageEncoding`,
    );
  }
  const q = decoded.right;
  const batchSize = integerIn(q.batchSize, DEFAULT_BATCH_SIZE, { name: 'batchSize', min: 1, max: MAX_BATCH_SIZE });
  const maxPollingIntervalMs = timeSpanMs(q.maxPollingInterval, DEFAULT_MAX_POLLING_INTERVAL_MS, 'maxPollingInterval');
  if (maxPollingIntervalMs < MIN_POLLING_INTERVAL_MS) configError(`maxPollingInterval must be at least ${MIN_POLLING_INTERVAL_MS} ms`);
  const visibilityTimeoutMs = timeSpanMs(q.visibilityTimeout, 0, 'visibilityTimeout');
  const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 2 || leaseSeconds > 7 * 24 * 3600) {
    throw new BindingConfigError(`LOCAL_HOST_QUEUE_LEASE_SECONDS must be an integer from 2 to ${7 * 24 * 3600} (got ${leaseSeconds})`);
  }
  return {
    batchSize,
    newBatchThreshold: integerIn(q.newBatchThreshold, Math.floor(batchSize / 2) * options.cores, { name: 'newBatchThreshold', min: 0, max: 1000 }),
    maxPollingIntervalMs,
    // The queue service counts whole seconds; round a fraction up rather than retry early.
    visibilityTimeoutSeconds: Math.ceil(visibilityTimeoutMs / 1000),
    maxDequeueCount: integerIn(q.maxDequeueCount, DEFAULT_MAX_DEQUEUE_COUNT, { name: 'maxDequeueCount', min: 1, max: 1000 }),
    messageEncoding: q.messageEncoding ?? 'base64',
    leaseSeconds,
  };
};

/** Trigger metadata as the Azure host sends it; strings go as JSON so they never turn into numbers. */
const triggerMetadataOf = (m: ReceivedMessageItem, text: string): Record<string, TypedData> => ({
  QueueTrigger: { string: text },
  Id: { json: JSON.stringify(m.messageId) },
  DequeueCount: { int: m.dequeueCount },
  InsertionTime: { json: JSON.stringify(m.insertedOn.toISOString()) },
  ExpirationTime: { json: JSON.stringify(m.expiresOn.toISOString()) },
  NextVisibleTime: { json: JSON.stringify(m.nextVisibleOn.toISOString()) },
  PopReceipt: { json: JSON.stringify(m.popReceipt) },
});

type Listener = { queueName: string; start(): Promise<void>; stop(): Promise<void>; wake(): void };

const createListener = (args: { ctx: HostContext; fn: RegisteredFunction; clients: QueueClients; options: QueueOptions }): Listener => {
  const { ctx, fn, clients, options } = args;
  const name = fn.metadata.name;
  const [, binding] = triggerBinding(fn);
  const where = `Function "${name}", queue trigger`;
  const queueName = resolveQueueName(binding.queueName, where);
  const connectionString = resolveStorageConnection(ctx, binding.connection, where);
  const log: WorkerLog = (level, message, fields) => ctx.log.log(level, 'host', message, fields);
  let queue: QueueClient | undefined;
  let stopping = false;

  // Copies the message text unchanged (still encoded), as the Azure host does, then deletes the original.
  const poison = async (q: QueueClient, m: ReceivedMessageItem, popReceipt: string, reason: string): Promise<void> => {
    const poisonQueue = await clients.get(connectionString, `${queueName}-poison`);
    await poisonQueue.sendMessage(m.messageText);
    await q.deleteMessage(m.messageId, popReceipt);
    ctx.log.log('warning', 'host', `${name}: message ${m.messageId} moved to ${queueName}-poison: ${reason}`, {
      function: name,
      messageId: m.messageId,
      queue: queueName,
      dequeueCount: m.dequeueCount,
    });
  };

  const handle = async (q: QueueClient, m: ReceivedMessageItem): Promise<void> => {
    const body = decodeMessage(m.messageText, options.messageEncoding);
    if (body === undefined) return poison(q, m, m.popReceipt, 'its text is not valid base64 (host.json messageEncoding is "base64")');
    // A message whose earlier attempts crashed the host may already be past the limit.
    if (m.dequeueCount > options.maxDequeueCount) return poison(q, m, m.popReceipt, `dequeued ${m.dequeueCount} times (maxDequeueCount ${options.maxDequeueCount})`);
    const text = body.toString('utf8');
    // Like the Azure host's listener: the message stays invisible while the function runs.
    const held = holdMessage({
      clock: systemClock,
      popReceipt: m.popReceipt,
      visibilitySeconds: options.leaseSeconds,
      renew: async (popReceipt) => (await q.updateMessage(m.messageId, popReceipt, undefined, options.leaseSeconds)).popReceipt,
      onRenewalError: (e) => log('warning', `${name}: could not renew the visibility of message ${m.messageId}: ${errorText(e)}`),
    });
    const outcome = await ctx.invoker.invoke(fn, { data: { string: text }, triggerMetadata: triggerMetadataOf(m, text) });
    const popReceipt = await held.release();
    ctx.log.invocation({
      function: name,
      invocationId: outcome.invocationId,
      durationMs: outcome.durationMs,
      outcome: outcome.kind,
      trigger: 'queue',
      error: outcome.kind === 'failed' ? outcome.error.message : undefined,
    });
    if (outcome.kind === 'succeeded') return void (await q.deleteMessage(m.messageId, popReceipt));
    ctx.log.log('error', name, outcome.error.stack ?? outcome.error.message, { invocationId: outcome.invocationId, messageId: m.messageId, dequeueCount: m.dequeueCount });
    if (m.dequeueCount >= options.maxDequeueCount) {
      return poison(q, m, popReceipt, `the function failed on attempt ${m.dequeueCount} of ${options.maxDequeueCount}`);
    }
    await q.updateMessage(m.messageId, popReceipt, undefined, options.visibilityTimeoutSeconds);
  };

  const handleLogged = (q: QueueClient, m: ReceivedMessageItem): Promise<void> =>
    handle(q, m).catch((e: unknown) => {
      // The message stays invisible until its lease ends, then comes back: nothing is lost.
      log('error', `${name}: storage operation on message ${m.messageId} failed: ${errorText(e)}`, { function: name, messageId: m.messageId });
    });

  const worker = createQueueWorker<ReceivedMessageItem>({
    name: `${name}: queue ${queueName}`,
    log,
    receive: async (max) => {
      if (queue === undefined) return [];
      return (await queue.receiveMessages({ numberOfMessages: max, visibilityTimeout: options.leaseSeconds })).receivedMessageItems;
    },
    handle: (messages) => messages.map((m) => (queue === undefined ? Promise.resolve() : handleLogged(queue, m))),
    // As in Azure: fetch the next batch of batchSize once no more than newBatchThreshold messages are in flight.
    batchSize: options.batchSize,
    refillAt: options.newBatchThreshold,
    maxInFlight: options.newBatchThreshold + options.batchSize,
    maxPollingIntervalMs: options.maxPollingIntervalMs,
  });
  let opened: { done: Promise<void>; wake: () => void } | undefined;

  return {
    queueName,
    start: async () => {
      const describe = `${name}: queueTrigger on "${queueName}" (batchSize ${options.batchSize}, newBatchThreshold ${options.newBatchThreshold}, maxPollingInterval ${options.maxPollingIntervalMs} ms, maxDequeueCount ${options.maxDequeueCount}, encoding ${options.messageEncoding})`;
      opened = await openThenRun({
        open: async () => {
          try {
            queue = await clients.get(connectionString, queueName);
          } catch (e) {
            if (isRefusal(e)) throw new BindingConfigError(`${where}: cannot create or reach queue "${queueName}": ${errorText(e)}`);
            throw e;
          }
        },
        run: () => {
          ctx.log.log('information', 'host', describe);
          return worker.run();
        },
        isFatal: (e) => e instanceof BindingConfigError,
        stopped: () => stopping,
        log,
        what: `${name}: queue "${queueName}"`,
        maxPollingIntervalMs: options.maxPollingIntervalMs,
      });
    },
    stop: async () => {
      stopping = true;
      worker.stop();
      opened?.wake();
      await opened?.done;
    },
    wake: () => worker.wake(),
  };
};

const leaseSecondsFromEnv = (): number | undefined => {
  const text = process.env.LOCAL_HOST_QUEUE_LEASE_SECONDS;
  return text === undefined || text.trim() === '' ? undefined : Number(text);
};

/**
 * Storage queue triggers with the Azure host's semantics, and the `queue` output binding for every
 * function (registered on the invoker, so HTTP, queue and timer functions all get it).
 */
export const createQueueComponent = (ctx: HostContext): HostComponent => {
  const options = queueOptionsFrom({ hostJson: ctx.hostJson.extensions?.queues, cores: availableParallelism(), leaseSeconds: leaseSecondsFromEnv() });
  const clients = createQueueClients();
  const listeners = functionsWithTrigger(ctx.invoker.registry, 'queueTrigger').map((fn) => createListener({ ctx, fn, clients, options }));
  // Bad output bindings fail the start, as they fail indexing in Azure, rather than every invocation.
  for (const fn of ctx.invoker.registry.functions) {
    for (const [, binding] of outputBindings(fn, 'queue')) {
      const where = `Function "${fn.metadata.name}", queue output`;
      resolveQueueName(binding.queueName, where);
      resolveStorageConnection(ctx, binding.connection, where);
    }
  }
  ctx.invoker.handleOutput(
    'queue',
    createQueueOutputHandler({
      ctx,
      clients,
      encoding: options.messageEncoding,
      onEnqueued: (queueName) => listeners.filter((l) => l.queueName === queueName).forEach((l) => l.wake()),
    }),
  );
  const started: Listener[] = [];
  return {
    name: 'queues',
    start: async () => {
      try {
        for (const listener of listeners) {
          await listener.start();
          started.push(listener);
        }
      } catch (e) {
        await Promise.all(started.map((l) => l.stop()));
        throw e;
      }
    },
    stop: async () => {
      await Promise.all(started.map((l) => l.stop()));
    },
  };
};
