import { MAX_TRANSACTION_ROWS, partitionCommitter } from '../partitionCommitter';

/*
 * The group commit of the retention index's bucket rows (issue 19), against a fake write that holds
 * each call until the test releases it: what goes together, what goes at once, who fails.
 */

type Row = { partitionKey: string; rowKey: string; subjects: string };

const row = (partitionKey: string, rowKey: string, subjects = ''): Row => ({ partitionKey, rowKey, subjects });

/** Records every write and keeps it pending until `release` (or `fail`) is called for it. */
const heldWrites = () => {
  const calls: { rows: readonly Row[]; release: () => void; fail: (e: Error) => void }[] = [];
  const write = (rows: readonly Row[]): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      calls.push({ rows, release: resolve, fail: reject });
    });
  return { calls, write };
};

const settled = <T>(p: Promise<T>): { state: () => 'pending' | 'resolved' | 'rejected'; promise: Promise<unknown> } => {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  const promise = p.then(
    () => void (state = 'resolved'),
    () => void (state = 'rejected'),
  );
  return { state: () => state, promise };
};

/** Lets every promise callback queued so far run. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const mergeSubjects = (a: Row, b: Row): Row => ({ ...b, subjects: [...new Set([...a.subjects.split(','), ...b.subjects.split(',')].filter((s) => s !== ''))].join(',') });

describe('group commit of rows by partition', () => {
  it('writes a lone row at once, without waiting for a timer or another row', async () => {
    const writes = heldWrites();
    const commit = partitionCommitter<Row>({ write: writes.write, merge: mergeSubjects });
    const done = settled(commit(row('p', 'a')));
    // Synchronously: nothing was waited for.
    expect(writes.calls.map((c) => c.rows)).toEqual([[row('p', 'a')]]);
    await tick();
    expect(done.state()).toBe('pending');
    writes.calls[0]?.release();
    await done.promise;
    expect(done.state()).toBe('resolved');
  });

  it('rows arriving while a write is in flight wait for it, then go as one write per partition', async () => {
    const writes = heldWrites();
    const commit = partitionCommitter<Row>({ write: writes.write, merge: mergeSubjects });
    const first = settled(commit(row('p', 'a')));
    const waiting = ['b', 'c', 'd'].map((k) => settled(commit(row('p', k))));
    const other = settled(commit(row('q', 'x')));
    const otherToo = settled(commit(row('q', 'y')));
    // p's first row and q's first row went at once; the rest wait for their partition's write.
    expect(writes.calls.map((c) => c.rows.map((r) => r.rowKey))).toEqual([['a'], ['x']]);
    await tick();
    expect(waiting.map((w) => w.state())).toEqual(['pending', 'pending', 'pending']);
    writes.calls[0]?.release();
    await first.promise;
    await tick();
    // One write holding the three of p; q's second row still waits for q's first write.
    expect(writes.calls.map((c) => c.rows.map((r) => r.rowKey))).toEqual([['a'], ['x'], ['b', 'c', 'd']]);
    expect(waiting.map((w) => w.state())).toEqual(['pending', 'pending', 'pending']);
    writes.calls[2]?.release();
    writes.calls[1]?.release();
    await Promise.all([...waiting.map((w) => w.promise), other.promise]);
    await tick();
    expect(writes.calls.map((c) => c.rows.map((r) => r.rowKey))).toEqual([['a'], ['x'], ['b', 'c', 'd'], ['y']]);
    writes.calls[3]?.release();
    await otherToo.promise;
    expect([first, ...waiting, other, otherToo].map((w) => w.state())).toEqual(Array(6).fill('resolved'));
  });

  it('a failed write fails exactly the callers whose rows it held; the next rows are written', async () => {
    const writes = heldWrites();
    const commit = partitionCommitter<Row>({ write: writes.write, merge: mergeSubjects });
    const first = settled(commit(row('p', 'a')));
    const grouped = ['b', 'c'].map((k) => settled(commit(row('p', k))));
    const elsewhere = settled(commit(row('q', 'x')));
    writes.calls[0]?.release();
    await first.promise;
    await tick();
    const later = settled(commit(row('p', 'd')));
    writes.calls[2]?.fail(new Error('transaction refused'));
    writes.calls[1]?.release();
    await Promise.all([...grouped.map((g) => g.promise), elsewhere.promise]);
    await tick();
    expect(writes.calls.map((c) => c.rows.map((r) => r.rowKey))).toEqual([['a'], ['x'], ['b', 'c'], ['d']]);
    writes.calls[3]?.release();
    await later.promise;
    expect({ first: first.state(), grouped: grouped.map((g) => g.state()), elsewhere: elsewhere.state(), later: later.state() }).toEqual({
      first: 'resolved',
      grouped: ['rejected', 'rejected'],
      elsewhere: 'resolved',
      later: 'resolved',
    });
    // The callers get the write's own error.
    const failing = commit(row('p', 'e'));
    await tick();
    writes.calls[4]?.fail(new Error('storage unavailable'));
    await expect(failing).rejects.toThrow('storage unavailable');
  });

  it('one row key twice in a group (a repeated post) is written once, merged, and both callers settle with it', async () => {
    const writes = heldWrites();
    const commit = partitionCommitter<Row>({ write: writes.write, merge: mergeSubjects });
    const first = commit(row('p', 'a'));
    const again = [commit(row('p', 'dup', 'h1')), commit(row('p', 'dup', 'h2')), commit(row('p', 'z'))];
    writes.calls[0]?.release();
    await first;
    await tick();
    expect(writes.calls[1]?.rows).toEqual([row('p', 'dup', 'h1,h2'), row('p', 'z')]);
    writes.calls[1]?.release();
    await Promise.all(again);
  });

  it('more rows than a transaction takes go as several writes of at most 100', async () => {
    const writes = heldWrites();
    const commit = partitionCommitter<Row>({ write: writes.write, merge: mergeSubjects });
    const first = commit(row('p', 'first'));
    const many = Array.from({ length: 250 }, (_, i) => commit(row('p', `r${i}`)));
    writes.calls[0]?.release();
    await first;
    await tick();
    expect(writes.calls.slice(1).map((c) => c.rows.length)).toEqual([MAX_TRANSACTION_ROWS, MAX_TRANSACTION_ROWS, 50]);
    writes.calls.forEach((c) => c.release());
    await Promise.all(many);
    expect(new Set(writes.calls.flatMap((c) => c.rows.map((r) => r.rowKey))).size).toBe(251);
  });
});
