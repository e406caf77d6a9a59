/*
 * Group commit of table rows by partition (issue 19: the retention index's bucket rows). A row whose
 * partition has no write in flight is written at once (no timer: a lone ingest waits for nothing);
 * rows arriving while one is in flight wait for it, then go together, 100 to an entity group
 * transaction. A caller's promise settles when the write holding its row has: a failed transaction
 * fails exactly the callers whose rows it held (not retried singly: storage that just failed a
 * transaction would take N writes instead), and the next rows of the partition go on regardless.
 */

export type PartitionRow = { readonly partitionKey: string; readonly rowKey: string };

/** Table Storage's limit of operations in one entity group transaction. */
export const MAX_TRANSACTION_ROWS = 100;

export type PartitionCommitterInput<R extends PartitionRow> = {
  /** Writes rows of one partition with distinct row keys, at most MAX_TRANSACTION_ROWS (one row: a plain write). */
  readonly write: (rows: readonly R[]) => Promise<void>;
  /** One row for two of the same row key waiting together (a transaction refuses a key twice). */
  readonly merge: (a: R, b: R) => R;
};

type Waiting<R> = { readonly row: R; readonly settle: (failure: { error: unknown } | undefined) => void };

const chunks = <X>(items: readonly X[], size: number): X[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Answers a function that stores a row and resolves once it is stored. */
export const partitionCommitter = <R extends PartitionRow>(input: PartitionCommitterInput<R>): ((row: R) => Promise<void>) => {
  const waiting = new Map<string, Waiting<R>[]>();
  const writing = new Set<string>();

  const writeGroup = async (group: readonly { row: R; callers: Waiting<R>[] }[]): Promise<void> => {
    let failure: { error: unknown } | undefined;
    try {
      await input.write(group.map((g) => g.row));
    } catch (error) {
      failure = { error };
    }
    for (const g of group) for (const caller of g.callers) caller.settle(failure);
  };

  const flush = (partitionKey: string): void => {
    const queued = waiting.get(partitionKey) ?? [];
    waiting.delete(partitionKey);
    if (queued.length === 0) {
      writing.delete(partitionKey);
      return;
    }
    writing.add(partitionKey);
    const byRowKey = new Map<string, { row: R; callers: Waiting<R>[] }>();
    for (const w of queued) {
      const same = byRowKey.get(w.row.rowKey);
      if (same === undefined) byRowKey.set(w.row.rowKey, { row: w.row, callers: [w] });
      else byRowKey.set(w.row.rowKey, { row: input.merge(same.row, w.row), callers: [...same.callers, w] });
    }
    void Promise.all(chunks([...byRowKey.values()], MAX_TRANSACTION_ROWS).map(writeGroup)).then(() => flush(partitionKey));
  };

  return (row) =>
    new Promise<void>((resolve, reject) => {
      const queued = waiting.get(row.partitionKey) ?? [];
      queued.push({ row, settle: (failure) => (failure === undefined ? resolve() : reject(failure.error)) });
      waiting.set(row.partitionKey, queued);
      if (!writing.has(row.partitionKey)) flush(row.partitionKey);
    });
};
