/**
 * The one queue worker of the local host: a poll loop with jittered backoff, a wake-up, a cap on the
 * work in flight and lease renewal that logs its failures. The queue trigger and both durable loops
 * (control and activity) run on it, so they share one set of rules.
 */

/** Time as the worker sees it; tests and episodes inject their own. */
export type Clock = {
  now: () => number;
  /** Calls `f` after `ms`; the result cancels it. */
  after: (ms: number, f: () => void) => () => void;
  /** Calls `f` every `ms`; the result stops it. */
  every: (ms: number, f: () => void) => () => void;
};

export const systemClock: Clock = {
  now: () => Date.now(),
  after: (ms, f) => {
    const timer = setTimeout(f, ms);
    return () => clearTimeout(timer);
  },
  every: (ms, f) => {
    const timer = setInterval(f, ms);
    return () => clearInterval(timer);
  },
};

/** The queue service's shortest useful pause between polls of an empty queue (as the Azure host's queue listener). */
export const MIN_POLLING_INTERVAL_MS = 100;

export type WorkerLog = (level: 'debug' | 'information' | 'warning' | 'error', message: string, fields?: Record<string, unknown>) => void;

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Randomized exponential backoff for polling an empty queue, as the Azure host does: from about
 * `minMs`, doubling (plus or minus 20%) per empty poll, capped at `maxMs`; reset when a message arrives.
 */
export const createPollingBackoff = (options: { minMs: number; maxMs: number; random?: () => number }) => {
  const random = options.random ?? Math.random;
  let emptyPolls = 0;
  return {
    reset: (): void => {
      emptyPolls = 0;
    },
    next: (): number => {
      emptyPolls = Math.min(emptyPolls + 1, 30);
      const base = options.minMs * 2 ** (emptyPolls - 1);
      return Math.round(Math.min(options.maxMs, base * (0.8 + 0.4 * random())));
    },
  };
};

/** A sleep that `wake` cuts short. */
const createSleeper = (clock: Clock) => {
  let wakeUp: (() => void) | undefined;
  return {
    sleep: (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const done = (): void => {
          cancel();
          wakeUp = undefined;
          resolve();
        };
        const cancel = clock.after(ms, done);
        wakeUp = done;
      }),
    wake: (): void => wakeUp?.(),
  };
};

/**
 * Keeps a received message invisible while its work runs, renewing at half the visibility time;
 * a failed renewal is logged (the message may then run twice, which every handler tolerates).
 * `release` stops renewing and gives the latest pop receipt.
 */
export const holdMessage = (args: {
  clock: Clock;
  popReceipt: string;
  visibilitySeconds: number;
  renew: (popReceipt: string) => Promise<string | undefined>;
  onRenewalError: (e: unknown) => void;
}): { release: () => Promise<string>; popReceipt: () => string } => {
  let popReceipt = args.popReceipt;
  let renewal = Promise.resolve();
  const stop = args.clock.every((args.visibilitySeconds * 1000) / 2, () => {
    renewal = renewal.then(async () => {
      try {
        popReceipt = (await args.renew(popReceipt)) ?? popReceipt;
      } catch (e) {
        args.onRenewalError(e);
      }
    });
  });
  return {
    popReceipt: () => popReceipt,
    release: async () => {
      stop();
      await renewal;
      return popReceipt;
    },
  };
};

export type QueueWorkerOptions<M> = {
  /** Names the worker in its log lines. */
  name: string;
  log: WorkerLog;
  clock?: Clock;
  random?: () => number;
  /** Receives up to `max` messages (at least 1). */
  receive: (max: number) => Promise<M[]>;
  /** Starts the work of a batch; each promise is one unit in flight. Failures are the handler's to log. */
  handle: (messages: M[]) => Promise<void>[];
  /** The most messages one receive asks for. */
  batchSize: number;
  /** The next batch is fetched once no more than this many units are in flight. */
  refillAt: number;
  /** Never more than this many units in flight: a receive asks for the room left, up to batchSize. */
  maxInFlight: number;
  minPollingIntervalMs?: number;
  maxPollingIntervalMs: number;
};

export type QueueWorker = {
  /** Runs the poll loop until `stop`; resolves once it ended and all its work settled. */
  run: () => Promise<void>;
  stop: () => void;
  /** A message was just sent: poll now rather than at the end of the backoff. */
  wake: () => void;
};

export const createQueueWorker = <M>(options: QueueWorkerOptions<M>): QueueWorker => {
  const clock = options.clock ?? systemClock;
  const backoff = createPollingBackoff({ minMs: options.minPollingIntervalMs ?? MIN_POLLING_INTERVAL_MS, maxMs: options.maxPollingIntervalMs, random: options.random });
  const sleeper = createSleeper(clock);
  const inFlight = new Set<Promise<void>>();
  let stopping = false;

  const track = (work: Promise<void>): void => {
    // A handler that throws anyway must not stop the loop: its message comes back after its lease.
    const settled = work.catch((e: unknown) => options.log('error', `${options.name}: unhandled failure: ${errorText(e)}`));
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
  };

  const run = async (): Promise<void> => {
    while (!stopping) {
      while (inFlight.size > options.refillAt && !stopping) await Promise.race(inFlight);
      if (stopping) break;
      const room = Math.min(options.batchSize, options.maxInFlight - inFlight.size);
      let received: M[] = [];
      try {
        received = await options.receive(room);
      } catch (e) {
        // An outage: keep polling with the same backoff as an empty queue.
        options.log('warning', `${options.name}: polling failed: ${errorText(e)}`);
      }
      if (received.length > 0) {
        backoff.reset();
        for (const work of options.handle(received)) track(work);
      } else {
        await sleeper.sleep(backoff.next());
      }
    }
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  };

  return {
    run,
    stop: () => {
      stopping = true;
      sleeper.wake();
    },
    wake: () => {
      backoff.reset();
      sleeper.wake();
    },
  };
};

/** Storage that answers with a status refused the request (a bad name, bad credentials): configuration, not an outage. */
export const isRefusal = (e: unknown): boolean => typeof (e as { statusCode?: unknown }).statusCode === 'number';

/**
 * Opens what a worker needs (queues, tables), then runs it. A refusal fails the start, as it fails
 * the Azure host's; no answer at all is an outage, which the Azure host rides out: keep trying in the
 * background with the same backoff, then run. The result is the background work (or the run).
 */
export const openThenRun = async (args: {
  open: () => Promise<void>;
  run: () => Promise<void>;
  isFatal: (e: unknown) => boolean;
  stopped: () => boolean;
  log: WorkerLog;
  what: string;
  maxPollingIntervalMs: number;
  clock?: Clock;
}): Promise<{ done: Promise<void>; wake: () => void }> => {
  const sleeper = createSleeper(args.clock ?? systemClock);
  try {
    await args.open();
    return { done: args.run(), wake: sleeper.wake };
  } catch (e) {
    if (args.isFatal(e)) throw e;
    args.log('warning', `${args.what} is not reachable yet (${errorText(e)}); retrying in the background`);
  }
  const retry = createPollingBackoff({ minMs: MIN_POLLING_INTERVAL_MS, maxMs: args.maxPollingIntervalMs });
  const done = (async () => {
    while (!args.stopped()) {
      try {
        await args.open();
        return args.run();
      } catch {
        await sleeper.sleep(retry.next());
      }
    }
  })();
  return { done, wake: sleeper.wake };
};
