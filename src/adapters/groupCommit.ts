/*
 * Group commit (issue 19): at most one write in flight per key. An item whose key has no write in
 * flight is written at once (no timer: a lone caller waits for nothing); items arriving meanwhile
 * wait for it and then go together as the next batch. `write` settles the callers of its batch
 * (it knows which part of the batch each caller's item went in); whatever it does, the next batch
 * of the key goes after it. Used by the deliveries queue (queues/coalescingEnqueue.ts) and the
 * retention index's bucket rows (tables/partitionCommitter.ts).
 */

/** An item with the caller's promise to settle. */
export type Pending<T> = { readonly item: T; readonly resolve: () => void; readonly reject: (error: unknown) => void };

export const groupCommit = <T>(write: (batch: readonly Pending<T>[], key: string) => Promise<void>): ((key: string, item: T) => Promise<void>) => {
  const waiting = new Map<string, Pending<T>[]>();
  const writing = new Set<string>();

  const flush = async (key: string): Promise<void> => {
    writing.add(key);
    for (let batch = waiting.get(key); batch !== undefined && batch.length > 0; batch = waiting.get(key)) {
      waiting.delete(key);
      try {
        await write(batch, key);
      } catch (error) {
        // A write that throws instead of settling its callers still settles them (and lets the next batch go).
        for (const p of batch) p.reject(error);
      }
    }
    writing.delete(key);
  };

  return (key, item) =>
    new Promise<void>((resolve, reject) => {
      const queued = waiting.get(key) ?? [];
      queued.push({ item, resolve, reject });
      waiting.set(key, queued);
      if (!writing.has(key)) void flush(key);
    });
};
