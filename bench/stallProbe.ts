import { QueueServiceClient } from '@azure/storage-queue';

/*
 * Azurite holds every request while its queue garbage collection runs (a minute after the previous
 * one ended; 3 s to 11 s after the bench's throughput phases) and, on disk, while it saves a store
 * (every 5 s, longer as rows accumulate; bench/README.md). Azure Storage has no such pauses, so a
 * latency window that holds one measures the emulator. The probe asks Azurite for its queue service properties every PROBE_EVERY_MS,
 * one request at a time, and keeps the requests that took STALL_MS or longer: a window's stalls are
 * recorded beside its latencies.
 */

const PROBE_EVERY_MS = 100;
/** A probe answered this late was held: Azurite answers one in a few milliseconds otherwise. */
export const STALL_MS = 500;

export type Stall = { readonly startedAt: number; readonly ms: number };

export type StallProbe = {
  /** Stalls that overlap the time between two `performance.now()` readings. */
  stallsBetween(from: number, to: number): Stall[];
  stop(): Promise<void>;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `none`, or each pause's length in milliseconds, as the results print them. */
export const pausesText = (pausesMs: readonly number[]): string => (pausesMs.length === 0 ? 'none' : pausesMs.map((ms) => `${ms} ms`).join(', '));

/** `stallMs`: the threshold (STALL_MS unless a test needs one above its own process's hiccups). */
export const startStallProbe = (connectionString: string, stallMs: number = STALL_MS): StallProbe => {
  // One try: Azurite down (the soak restarts it) fails at once instead of retrying into a false pause.
  const client = QueueServiceClient.fromConnectionString(connectionString, { retryOptions: { maxTries: 1 } });
  const stalls: Stall[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const startedAt = performance.now();
      await client.getProperties().catch(() => undefined);
      const ms = performance.now() - startedAt;
      if (ms >= stallMs) stalls.push({ startedAt, ms: Math.round(ms) });
      await sleep(Math.max(0, PROBE_EVERY_MS - ms));
    }
  })();
  return {
    stallsBetween: (from, to) => stalls.filter((s) => s.startedAt <= to && s.startedAt + s.ms >= from),
    stop: async () => {
      running = false;
      await loop;
    },
  };
};
