import { type Clock, createQueueWorker, holdMessage, type WorkerLog } from '../worker';

/*
 * The one queue worker under the queue trigger and both durable loops: it never has more than its
 * cap in flight, a wake-up ends the backoff sleep, a failed poll or renewal is logged and survived.
 * The clock is a fake: nothing here waits for real time.
 */

/** A clock whose timers fire only when the test says so. */
const fakeClock = () => {
  const pending = new Set<{ ms: number; f: () => void }>();
  const repeating = new Set<() => void>();
  const clock: Clock = {
    now: () => 0,
    after: (ms, f) => {
      const entry = { ms, f };
      pending.add(entry);
      return () => pending.delete(entry);
    },
    every: (_ms, f) => {
      repeating.add(f);
      return () => repeating.delete(f);
    },
  };
  return { clock, sleeps: () => [...pending].map((p) => p.ms), fireAll: () => [...pending].forEach((p) => p.f()), tick: () => [...repeating].forEach((f) => f()) };
};

const deferred = () => {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

/** Lets every pending promise callback run. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};

const logs = (): { log: WorkerLog; lines: string[] } => {
  const lines: string[] = [];
  return { log: (level, message) => lines.push(`${level}: ${message}`), lines };
};

describe('local host: the queue worker', () => {
  it('asks for no more than the room left under its cap, and waits for a slot when full', async () => {
    const { clock } = fakeClock();
    const asked: number[] = [];
    const jobs: ReturnType<typeof deferred>[] = [];
    const worker = createQueueWorker<number>({
      name: 'test',
      log: logs().log,
      clock,
      receive: async (max) => {
        asked.push(max);
        return Array.from({ length: max }, (_, i) => i);
      },
      handle: (ms) =>
        ms.map(() => {
          const job = deferred();
          jobs.push(job);
          return job.promise;
        }),
      batchSize: 2,
      refillAt: 2,
      maxInFlight: 3,
      maxPollingIntervalMs: 1000,
    });
    const done = worker.run();
    await flush();
    // 2 received (room 3, batch 2); 2 in flight is at the threshold: 1 more; 3 in flight: wait.
    expect(asked).toEqual([2, 1]);
    jobs[0]?.resolve();
    await flush();
    expect(asked).toEqual([2, 1, 1]);
    worker.stop();
    jobs.forEach((j) => j.resolve());
    await done;
  });

  it('sleeps with a jittered backoff on an empty queue, and a wake-up polls at once', async () => {
    const fake = fakeClock();
    let polls = 0;
    const worker = createQueueWorker<number>({
      name: 'test',
      log: logs().log,
      clock: fake.clock,
      random: () => 0.5,
      receive: async () => {
        polls++;
        return [];
      },
      handle: () => [],
      batchSize: 1,
      refillAt: 0,
      maxInFlight: 1,
      maxPollingIntervalMs: 1000,
    });
    const done = worker.run();
    await flush();
    expect(polls).toBe(1);
    expect(fake.sleeps()).toEqual([100]);
    fake.fireAll();
    await flush();
    expect(fake.sleeps()).toEqual([200]);
    worker.wake();
    await flush();
    // Woken: polled again, and the backoff starts over from the minimum.
    expect(polls).toBe(3);
    expect(fake.sleeps()).toEqual([100]);
    worker.stop();
    await done;
  });

  it('logs a failed poll and keeps polling', async () => {
    const fake = fakeClock();
    const { log, lines } = logs();
    let polls = 0;
    const handled: number[] = [];
    const worker = createQueueWorker<number>({
      name: 'test queue',
      log,
      clock: fake.clock,
      receive: async () => {
        polls++;
        if (polls === 1) throw new Error('storage is away');
        return polls === 2 ? [7] : [];
      },
      handle: (ms) => ms.map(async (m) => void handled.push(m)),
      batchSize: 1,
      refillAt: 0,
      maxInFlight: 1,
      maxPollingIntervalMs: 1000,
    });
    const done = worker.run();
    await flush();
    expect(lines).toEqual(['warning: test queue: polling failed: storage is away']);
    fake.fireAll();
    await flush();
    expect(handled).toEqual([7]);
    worker.stop();
    await done;
  });

  it('stops only after the work in flight settled', async () => {
    const { clock } = fakeClock();
    const job = deferred();
    let settled = false;
    const worker = createQueueWorker<number>({
      name: 'test',
      log: logs().log,
      clock,
      receive: async () => [1],
      handle: () => [job.promise.then(() => void (settled = true))],
      batchSize: 1,
      refillAt: 0,
      maxInFlight: 1,
      maxPollingIntervalMs: 1000,
    });
    const done = worker.run();
    await flush();
    worker.stop();
    let stopped = false;
    void done.then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    job.resolve();
    await done;
    expect(settled).toBe(true);
  });

  it('renews a held message with the latest pop receipt, and logs a renewal that fails', async () => {
    const fake = fakeClock();
    const { lines } = logs();
    const seen: string[] = [];
    let renewals = 0;
    const held = holdMessage({
      clock: fake.clock,
      popReceipt: 'p0',
      visibilitySeconds: 10,
      renew: async (popReceipt) => {
        seen.push(popReceipt);
        renewals++;
        if (renewals === 2) throw new Error('lost the message');
        return `p${renewals}`;
      },
      onRenewalError: (e) => lines.push(`warning: ${(e as Error).message}`),
    });
    fake.tick();
    await flush();
    fake.tick();
    await flush();
    fake.tick();
    expect(await held.release()).toBe('p3');
    expect(seen).toEqual(['p0', 'p1', 'p1']);
    expect(lines).toEqual(['warning: lost the message']);
  });
});
