import { sharedReads } from '../sharedReads';

describe('reads in flight shared by key', () => {
  const deferred = <V>() => {
    let resolve!: (v: V) => void;
    const promise = new Promise<V>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('concurrent callers of one key share one start; another key, or a call after it settled, starts again', async () => {
    const reads = sharedReads<string>();
    const gate = deferred<string>();
    let starts = 0;
    const start = () => {
      starts++;
      return gate.promise;
    };
    const [a, b] = [reads.read('k', start), reads.read('k', start)];
    void reads.read('other', async () => 'o');
    gate.resolve('v');
    expect(await Promise.all([a, b])).toEqual(['v', 'v']);
    expect(starts).toBe(1);
    await reads.read('k', async () => 'fresh');
    expect(await reads.read('k', async () => 'again')).toBe('again');
  });

  it('after clear, a caller starts afresh while the cleared read still settles for its own callers', async () => {
    const reads = sharedReads<string>();
    const old = deferred<string>();
    const first = reads.read('k', () => old.promise);
    reads.clear();
    const second = reads.read('k', async () => 'after the write');
    old.resolve('before the write');
    expect(await first).toBe('before the write');
    expect(await second).toBe('after the write');
    // The cleared read settling does not drop the newer one: a third caller joins it only while it is in flight.
    expect(await reads.read('k', async () => 'later')).toBe('later');
  });

  it('a failed read rejects every caller that joined it and is not kept', async () => {
    const reads = sharedReads<string>();
    const gate = deferred<string>();
    const failing = () => gate.promise.then(() => Promise.reject(new Error('storage down')));
    const [a, b] = [reads.read('k', failing), reads.read('k', failing)];
    gate.resolve('');
    await expect(a).rejects.toThrow('storage down');
    await expect(b).rejects.toThrow('storage down');
    expect(await reads.read('k', async () => 'recovered')).toBe('recovered');
  });
});
