import * as RA from 'fp-ts/ReadonlyArray';
import { groupCommit, type Pending } from '../groupCommit';

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

/** Answers a function that stores a row and resolves once it is stored (one write in flight per partition: ../groupCommit.ts). */
export const partitionCommitter = <R extends PartitionRow>(input: PartitionCommitterInput<R>): ((row: R) => Promise<void>) => {
  const writeGroup = async (group: readonly { row: R; callers: Pending<R>[] }[]): Promise<void> => {
    const callers = group.flatMap((g) => g.callers);
    try {
      await input.write(group.map((g) => g.row));
    } catch (error) {
      for (const caller of callers) caller.reject(error);
      return;
    }
    for (const caller of callers) caller.resolve();
  };

  const commit = groupCommit<R>(async (queued) => {
    const byRowKey = new Map<string, { row: R; callers: Pending<R>[] }>();
    for (const w of queued) {
      const same = byRowKey.get(w.item.rowKey);
      if (same === undefined) byRowKey.set(w.item.rowKey, { row: w.item, callers: [w] });
      else byRowKey.set(w.item.rowKey, { row: input.merge(same.row, w.item), callers: [...same.callers, w] });
    }
    await Promise.all(RA.chunksOf(MAX_TRANSACTION_ROWS)([...byRowKey.values()]).map(writeGroup));
  });

  return (row) => commit(row.partitionKey, row);
};
