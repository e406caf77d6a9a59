import type * as T from 'fp-ts/Task';

/**
 * A process-wide bound on the request bodies being sent at once (MAX_INFLIGHT_DELIVERY_BYTES): a
 * large payload fanned out to many webhooks would otherwise be serialized for every delivery of
 * every message in flight together (64 messages of 50 deliveries of 1 MB is 3 GB). A body waits
 * until it fits; one larger than the whole budget waits for it to be empty and goes alone.
 */
export type InFlightBytes = { readonly within: <A>(bytes: number, task: T.Task<A>) => T.Task<A>; readonly inUse: () => number };

export const inFlightBytes = (budgetBytes: number): InFlightBytes => {
  let used = 0;
  const waiting: { bytes: number; go: () => void }[] = [];
  const admit = (): void => {
    // First come, first served: a large body is not starved by a stream of small ones.
    while (waiting.length > 0) {
      const next = waiting[0] as { bytes: number; go: () => void };
      if (used > 0 && used + next.bytes > budgetBytes) return;
      waiting.shift();
      used += next.bytes;
      next.go();
    }
  };
  return {
    inUse: () => used,
    within: (bytes, task) => async () => {
      await new Promise<void>((go) => {
        waiting.push({ bytes, go });
        admit();
      });
      try {
        return await task();
      } finally {
        used -= bytes;
        admit();
      }
    },
  };
};
