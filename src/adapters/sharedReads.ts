/**
 * Reads in flight by key: concurrent callers with one key share one promise until it settles, so a
 * burst of cache misses costs one storage read. `clear` makes later callers start afresh (a write
 * happened: a read begun before it must not be joined); a cleared read still settles for its callers.
 */
export type SharedReads<V> = {
  readonly read: (key: string, start: () => Promise<V>) => Promise<V>;
  readonly clear: () => void;
};

export const sharedReads = <V>(): SharedReads<V> => {
  const inflight = new Map<string, Promise<V>>();
  return {
    read: (key, start) => {
      const pending = inflight.get(key);
      if (pending !== undefined) return pending;
      const read: Promise<V> = start().finally(() => {
        if (inflight.get(key) === read) inflight.delete(key);
      });
      inflight.set(key, read);
      return read;
    },
    clear: () => inflight.clear(),
  };
};
