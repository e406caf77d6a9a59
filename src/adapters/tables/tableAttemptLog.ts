import { createHash } from 'node:crypto';
import * as RNEA from 'fp-ts/ReadonlyNonEmptyArray';
import * as RA from 'fp-ts/ReadonlyArray';
import { odata, type TableEntity, type TransactionAction } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { AttemptResult, loggedResult } from '../../domain/outcome';
import type { AttemptDecision, AttemptLog, AttemptLogEntry } from '../../ports/attemptLog';
import { statusOf, storageError } from './storageErrors';
import { type EnsuredTable, queryUpTo } from './tables';

/*
 * Layout: the attempts one queue message writes for one event are rows of one partition of that
 * event, `event|<eventId>!<shard>` (the shard is named after the smallest delivery id among them), so
 * they go in one transaction. An event's partitions are one contiguous key range, from
 * `event|<eventId>` (where rows written before the shards live) to `event|<eventId>"`: event ids
 * hold letters, digits and `_ . : -`, all of which sort after `!`, so no other event's partition falls
 * in between. Reads and deletes of an event are one range query. Why shards: a `ping:all` to 10 000
 * webhooks wrote 10 000 rows into one partition, past what one partition takes (Table Storage's
 * target is 2 000 entities/s per partition; on Azurite a write costs in proportion to the rows its
 * partition holds); now each message's rows (at most 100 deliveries) have a partition of their own.
 * Attempts that were not a first-try success are also written to the webhook's partition
 * (`webhook|<id>`, newest first), so ops can see a webhook's trouble without scanning; successes, the
 * bulk, cost nothing extra.
 *
 * A message's first-try successes (two or more) are one packed row, `<its first delivery id>|ok|<that
 * delivery's time>|<n>` in the same partition, its `delivered` column a JSON list of `[deliveryId, webhookId, at, result,
 * tenantId]` (several rows when the list would pass MAX_PACKED_CHARS): a fan-out 100 message wrote a
 * 100-row transaction, which the SDK builds as 100 sub-requests (about 13% of the host's CPU at
 * fan-out 100) and Azurite stores as 100 entities; now it is one write of one entity. Reads unpack
 * it; deletes remove it with the event like any row (docs/architecture.md item 32).
 */

const MAX_TRANSACTION_ROWS = 100;
/** Fewer first-try successes than this in one message are plain rows (a fan-out 1 message's one row stays as it was). */
const MIN_PACKED = 2;
/** A packed row's list stays below Table Storage's 64 KiB string property (32 767 UTF-16 characters). */
const MAX_PACKED_CHARS = 30_000;
/** Newest first in a webhook partition: row keys sort ascending. */
const invertedTime = (iso: string): string => String(9_999_999_999_999 - Date.parse(iso)).padStart(13, '0');

const eventPartition = (eventId: string): string => `event|${eventId}`;
const byPartitionKey = <A extends { partitionKey: string }>(rows: readonly A[]) => RNEA.groupBy((row: A) => row.partitionKey)(rows);
/** The partition of one call's rows for one event, named after the smallest of their delivery ids (8 hex digits of its hash). */
const eventShard = (eventId: string, smallestDeliveryId: string): string => `${eventPartition(eventId)}!${createHash('sha256').update(smallestDeliveryId).digest('hex').slice(0, 8)}`;
/** Whether a partition is one of this event's (the range below holds only these; this says so exactly). */
const isEventPartition = (eventId: string, partitionKey: unknown): boolean =>
  partitionKey === eventPartition(eventId) || (typeof partitionKey === 'string' && partitionKey.startsWith(`${eventPartition(eventId)}!`));
/** Every partition of one event: the one before the shards and its shards (see the layout above). */
const eventRange = (eventId: string): string => odata`PartitionKey ge ${eventPartition(eventId)} and PartitionKey lt ${`${eventPartition(eventId)}"`}`;
const webhookPartition = (webhookId: string): string => `webhook|${webhookId}`;

type AttemptRow = TableEntity<{ eventId: string; deliveryId: string; webhookId: string; attempt: number; at: string; decision: string; result: string; nextAttemptAt: string; tenantId: string }>;

const trimResult = (result: AttemptResult | undefined): string => {
  if (result === undefined) return '';
  return JSON.stringify(loggedResult(result));
};

const rowOf = (entry: AttemptLogEntry, partitionKey: string, rowKey: string): AttemptRow => ({
  partitionKey,
  rowKey,
  eventId: entry.eventId,
  deliveryId: entry.deliveryId,
  webhookId: entry.webhookId,
  attempt: entry.attempt,
  at: entry.at,
  decision: entry.decision,
  result: trimResult(entry.result),
  nextAttemptAt: entry.nextAttemptAt ?? '',
  tenantId: entry.tenantId ?? '',
});

const isProblem = (entry: AttemptLogEntry): boolean => !(entry.decision === 'Delivered' && entry.attempt === 1);
/** What a packed row holds without loss: a first-try success with no next attempt. */
const isPackable = (entry: AttemptLogEntry): boolean => !isProblem(entry) && entry.nextAttemptAt === undefined;

type PackedRow = TableEntity<{ eventId: string; delivered: string }>;
type Packed = readonly [deliveryId: string, webhookId: string, at: string, result: AttemptResult | null, tenantId: string];

const packedOf = (entry: AttemptLogEntry): Packed => [entry.deliveryId, entry.webhookId, entry.at, entry.result === undefined ? null : loggedResult(entry.result), entry.tenantId ?? ''];

/** One message's first-try successes of one event as packed rows, each list under MAX_PACKED_CHARS. */
const packedRows = (eventId: string, partitionKey: string, entries: readonly AttemptLogEntry[]): PackedRow[] => {
  const rows: PackedRow[] = [];
  let items: string[] = [];
  let chars = 2;
  let first: AttemptLogEntry | undefined;
  const close = (): void => {
    if (first === undefined) return;
    rows.push({ partitionKey, rowKey: `${first.deliveryId}|ok|${first.at}|${rows.length}`, eventId, delivered: `[${items.join(',')}]` });
    items = [];
    chars = 2;
    first = undefined;
  };
  for (const entry of entries) {
    const item = JSON.stringify(packedOf(entry));
    if (chars + item.length + 1 > MAX_PACKED_CHARS) close();
    first ??= entry;
    items.push(item);
    chars += item.length + 1;
  }
  close();
  return rows;
};

const AttemptDecisionCodec = t.keyof({
  Delivered: null,
  RetryLater: null,
  WebhookDisabledByGone: null,
  Poisoned: null,
  SkippedDisabledWebhook: null,
  SkippedDeletedWebhook: null,
  SkippedErasedEvent: null,
  Requeued: null,
});
const StoredRow = t.intersection([
  t.type({ eventId: t.string, deliveryId: t.string, webhookId: t.string, attempt: t.number, at: t.string, decision: AttemptDecisionCodec, result: t.string, nextAttemptAt: t.string }),
  // Rows written before tenants lack it.
  t.partial({ tenantId: t.string }),
]);

const parseResult = (text: string): AttemptResult | undefined => {
  if (text === '') return undefined;
  try {
    const decoded = AttemptResult.decode(JSON.parse(text));
    // Rows written before the summary rule may hold an excerpt: it is not shown either.
    return E.isRight(decoded) ? loggedResult(decoded.right) : undefined;
  } catch {
    return undefined;
  }
};

const StoredPackedRow = t.type({ eventId: t.string, delivered: t.string });
const PackedItem = t.tuple([t.string, t.string, t.string, t.unknown, t.string]);

const resultOf = (stored: unknown): AttemptResult | undefined => {
  const decoded = AttemptResult.decode(stored);
  return E.isRight(decoded) ? loggedResult(decoded.right) : undefined;
};

/** The first-try successes a packed row holds; an item this code cannot read is skipped, as a row would be. */
const unpacked = (row: t.TypeOf<typeof StoredPackedRow>): AttemptLogEntry[] => {
  let items: unknown;
  try {
    items = JSON.parse(row.delivered);
  } catch {
    return [];
  }
  if (!Array.isArray(items)) return [];
  return items.flatMap((item) => {
    const decoded = PackedItem.decode(item);
    if (E.isLeft(decoded)) return [];
    const [deliveryId, webhookId, at, stored, tenantId] = decoded.right;
    const result = stored === null ? undefined : resultOf(stored);
    return [{ eventId: row.eventId, deliveryId, webhookId, attempt: 1, at, decision: 'Delivered' as const, ...(result ? { result } : {}), ...(tenantId ? { tenantId } : {}) }];
  });
};

/** Rows are read back like any input; one this code did not write is skipped. */
const fromRows = (rows: readonly unknown[]): AttemptLogEntry[] =>
  rows.flatMap((row) => {
    // A packed row by its guard first: the plain row's codec would fail on it and build its error report.
    if (StoredPackedRow.is(row)) return unpacked(row);
    const decoded = StoredRow.decode(row);
    if (E.isLeft(decoded)) return [];
    const r = decoded.right;
    const result = parseResult(r.result);
    return [
      {
        eventId: r.eventId,
        deliveryId: r.deliveryId,
        webhookId: r.webhookId,
        attempt: r.attempt,
        at: r.at,
        decision: r.decision as AttemptDecision,
        ...(result ? { result } : {}),
        ...(r.nextAttemptAt ? { nextAttemptAt: r.nextAttemptAt } : {}),
        ...(r.tenantId ? { tenantId: r.tenantId } : {}),
      },
    ];
  });

export const tableAttemptLog = (table: EnsuredTable): AttemptLog => ({
  record: (entries) =>
    TE.tryCatch(async () => {
      if (entries.length === 0) return;
      const client = await table.ready();
      const rows: (AttemptRow | PackedRow)[] = [];
      for (const [eventId, group] of Object.entries(RNEA.groupBy((e: AttemptLogEntry) => e.eventId)(entries))) {
        const shard = eventShard(
          eventId,
          group.map((e) => e.deliveryId).reduce((a, b) => (b < a ? b : a)),
        );
        const { left: others, right: packable } = RA.partition(isPackable)(group);
        const packing = packable.length >= MIN_PACKED;
        if (packing) rows.push(...packedRows(eventId, shard, packable));
        for (const entry of packing ? others : group) {
          // The time is part of the key: a redrive starts counting attempts again, and must not
          // overwrite the attempts that put the delivery in the poison queue.
          const attemptKey = `${entry.deliveryId}|${String(entry.attempt).padStart(3, '0')}|${entry.at}`;
          rows.push(rowOf(entry, shard, attemptKey));
          if (isProblem(entry)) rows.push(rowOf(entry, webhookPartition(entry.webhookId), `${invertedTime(entry.at)}|${attemptKey}`));
        }
      }
      // Upserts: a message run twice (after a crash) rewrites the same rows instead of failing. A
      // lone row goes as a plain upsert: one write, cheaper than a one-row transaction in CPU and
      // in price (Azure bills a transaction as a batch operation).
      await Promise.all(
        Object.values(byPartitionKey(rows))
          .flatMap((partition) => RA.chunksOf(MAX_TRANSACTION_ROWS)(partition))
          .map(async (part) => {
            if (part.length === 1) await client.upsertEntity(part[0] as (typeof part)[number], 'Replace');
            else await client.submitTransaction(part.map((row): TransactionAction => ['upsert', row, 'Replace']));
          }),
      );
    }, storageError('write the attempt log')),
  forEvent: (eventId) =>
    pipe(
      TE.tryCatch(async () => queryUpTo<Record<string, unknown>>(await table.ready(), { filter: eventRange(eventId), max: 100_000 }), storageError('read the attempt log')),
      TE.map((rows) => fromRows(rows.filter((row) => isEventPartition(eventId, row.partitionKey))).sort((a, b) => a.at.localeCompare(b.at))),
    ),
  problemsForWebhook: ({ webhookId, limit }) =>
    pipe(
      TE.tryCatch(
        async () => queryUpTo<Record<string, unknown>>(await table.ready(), { filter: odata`PartitionKey eq ${webhookPartition(webhookId)}`, max: limit }),
        storageError('read the attempt log'),
      ),
      TE.map(fromRows),
    ),
  // A key range of the webhook's partition (row keys start with the inverted time): no scan.
  problemsBetween: ({ webhookId, from, to, pageSize, continuationToken }) =>
    pipe(
      TE.tryCatch(async () => {
        const client = await table.ready();
        const filter = odata`PartitionKey eq ${webhookPartition(webhookId)} and RowKey ge ${invertedTime(to)} and RowKey lt ${`${invertedTime(from)}~`}`;
        const pages = client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: pageSize, ...(continuationToken === undefined ? {} : { continuationToken }) });
        const first = await pages.next();
        if (first.done === true) return { rows: [] as Record<string, unknown>[] };
        return { rows: [...first.value], continuationToken: first.value.continuationToken };
      }, storageError('read the attempt log')),
      TE.map(({ rows, continuationToken: next }) => ({ items: fromRows(rows), ...(next === undefined ? {} : { continuationToken: next }) })),
    ),
  removeForEvent: (eventId) =>
    TE.tryCatch(async () => {
      const client = await table.ready();
      const rows = await queryUpTo<Record<string, unknown>>(client, { filter: eventRange(eventId), max: 100_000 });
      // Every row of the event's partitions, those this code cannot read included (as before the shards).
      const keyed = rows.flatMap((row) =>
        typeof row.rowKey === 'string' && typeof row.partitionKey === 'string' && isEventPartition(eventId, row.partitionKey)
          ? [{ entries: fromRows([row]), partitionKey: row.partitionKey, rowKey: row.rowKey }]
          : [],
      );
      // The webhook copies first: were the event's rows gone first, a crash would orphan the copies.
      const copies = keyed.flatMap(({ entries, rowKey }) =>
        entries.filter(isProblem).map((entry) => ({ partitionKey: webhookPartition(entry.webhookId), rowKey: `${invertedTime(entry.at)}|${rowKey}` })),
      );
      const deleteAll = async (partitionKey: string, rowKeys: readonly string[]): Promise<void> => {
        for (const part of RA.chunksOf(MAX_TRANSACTION_ROWS)(rowKeys)) {
          if (part.length === 1) {
            await client.deleteEntity(partitionKey, part[0] as string).catch((e: unknown) => {
              if (statusOf(e) !== 404) throw e;
            });
          } else {
            // A transaction fails whole when one row is missing (a repeated purge): then one by one.
            await client.submitTransaction(part.map((rowKey): TransactionAction => ['delete', { partitionKey, rowKey }])).catch(async (e: unknown) => {
              if (statusOf(e) !== 404) throw e;
              for (const rowKey of part) await client.deleteEntity(partitionKey, rowKey).catch((x: unknown) => (statusOf(x) === 404 ? undefined : Promise.reject(x)));
            });
          }
        }
      };
      const deleteGroups = async (keys: readonly { partitionKey: string; rowKey: string }[]): Promise<void> => {
        await Promise.all(
          Object.entries(byPartitionKey(keys)).map(([pk, group]) =>
            deleteAll(
              pk,
              group.map((k) => k.rowKey),
            ),
          ),
        );
      };
      await deleteGroups(copies);
      await deleteGroups(keyed);
      // Attempts, not rows: a packed row holds several (a row this code cannot read counts as one).
      return keyed.reduce((n, { entries }) => n + Math.max(1, entries.length), 0);
    }, storageError('delete the attempt log of an event')),
});
