import { odata, type TransactionAction } from '@azure/data-tables';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { EventId } from '../../domain/events';
import { hourBucketOf } from '../../domain/privacy';
import type { BackfillState, BucketedEvent, PrivacyIndex } from '../../ports/privacyIndex';
import { MAX_TRANSACTION_ROWS, partitionCommitter } from './partitionCommitter';
import { statusOf, storageError } from './storageErrors';
import { type EnsuredTable, queryUpTo } from './tables';

/*
 * Its own table (PRIVACY_TABLE), so no row here can be mistaken for an event. RowKey = event id;
 * PartitionKey `t|YYYYMMDDHHmmss|<shard>` (the second the event was received, in one of BUCKET_SHARDS:
 * the purge walks the old ones in key order) or `s|<subject hash>`
 * (erasure reads one partition). A bucket row also lists the event's subject hashes (`subjects`), so
 * the purge can remove them when the event row is already gone. Rows of three older layouts are still
 * read and deleted: `t|YYYYMMDDHH` (one partition per hour), `t|YYYYMMDDHH|NN` (64 shards per hour)
 * and `t|YYYYMMDDHHmm|<shard>` (minutes); the ranges below cover all four, and an hour's keys sort
 * before the next hour's in each.
 *
 * Why seconds and few shards (issue 19): every ingest writes a bucket row. One partition per hour
 * took every event of the hour: on Table Storage one partition serves about 2000 entities/s, and on
 * Azurite a write into a partition costs in proportion to its rows. 64 shards per hour bounded both
 * but gave every concurrent ingest its own partition, so each paid a request of its own. Concurrent
 * ingests share a partition, so their rows go as one transaction (partitionCommitter). A minute
 * still held rate x 60 rows: Azurite's upsert looks a row up twice by scanning its partition, which
 * at 200 events/s (12 000 rows by the minute's end) was half of Azurite's CPU in the bench's later
 * fan-out 1 runs (CPU profile of Azurite). A second holds rate rows, and concurrent ingests still meet.
 */

/**
 * Shards per second. A row goes to the first shard of its second that holds fewer than a
 * transaction's rows (MAX_TRANSACTION_ROWS) not yet stored by this process, so concurrent ingests
 * share shard 0's transactions, and a burst that fills its next transaction spills into shard 1.
 * Rows spread by a hash of the event id instead went to both at any rate, which halved the rows
 * each transaction could join (the bench's fan-out 1, bucket writes per event: 0.37 with 1 shard,
 * 0.64 with 2 by hash, 0.97 with 4). Two partitions take about 4000 entities/s on Table Storage,
 * the ingest rate at which an account's 20 000 requests/s run out anyway (4-5 requests per event);
 * a partition that Table Storage throttles answers later, which leaves more rows unsettled and spills.
 * A row's shard is not known from the event alone: paths that start from a time delete it in each.
 */
const BUCKET_SHARDS = 2;
/** Shards per hour of the layout before the minute buckets. */
const LEGACY_HOUR_SHARDS = 64;
const hashOf = (eventId: string): number => {
  let h = 0;
  for (let i = 0; i < eventId.length; i++) h = (h * 31 + eventId.charCodeAt(i)) >>> 0;
  return h;
};
/** `YYYYMMDDHHmmss` (UTC) of an ISO time: sorts as time does, and its first 10 characters are the hour. */
const secondOf = (receivedAt: string): string => receivedAt.slice(0, 19).replace(/[-T:]/g, '');
/** `YYYYMMDDHHmm`: the bucket of the layout before the seconds. */
const minuteOf = (receivedAt: string): string => secondOf(receivedAt).slice(0, 12);
const shardsOf = (bucket: string): string[] => Array.from({ length: BUCKET_SHARDS }, (_, shard) => `t|${bucket}|${shard}`);
/** The partitions of the second `receivedAt` falls in, shard 0 first. */
const bucketPartitions = (receivedAt: string): string[] => shardsOf(secondOf(receivedAt));
/** Where rows of the three older layouts sit (still read and deleted): the hour, its 64 shards, the minute's shards. */
const legacyBucketPartitions = (receivedAt: string, eventId: string): string[] => {
  const hour = hourBucketOf(receivedAt);
  return [`t|${hour}`, `t|${hour}|${String(hashOf(eventId) % LEGACY_HOUR_SHARDS).padStart(2, '0')}`, ...shardsOf(minuteOf(receivedAt))];
};
/** The first partition key of `hour` in every layout, and the first after them ('~' sorts after '|' and digits). */
const firstOfHour = (hour: string): string => `t|${hour}`;
const afterHour = (hour: string): string => `t|${hour}~`;
/** `t|YYYYMMDDHH`, `t|YYYYMMDDHH|07`, `t|YYYYMMDDHHmm|1` or `t|YYYYMMDDHHmmss|1`: the hour. */
const hourOfPartition = (partitionKey: string): string => partitionKey.slice(2, 12);
/** The backfill's marker row: `m|` sorts before `t|`, so the bucket walk never meets it. */
const MARKER = { partitionKey: 'm|backfill', rowKey: 'state' } as const;
const MarkerRow = t.intersection([t.type({ done: t.boolean }), t.partial({ continuationToken: t.string })]);
const subjectPartition = (hash: string): string => `s|${hash}`;

const IndexRow = t.intersection([t.type({ partitionKey: t.string, rowKey: EventId }), t.partial({ subjects: t.string })]);

const decodeRows = (rows: readonly unknown[]): t.TypeOf<typeof IndexRow>[] => rows.flatMap((r) => (IndexRow.is(r) ? [r] : []));

const bucketedEvents = (rows: readonly unknown[]): BucketedEvent[] =>
  decodeRows(rows).map((r) => ({
    eventId: r.rowKey,
    hour: hourOfPartition(r.partitionKey),
    subjectHashes: String(r.subjects ?? '')
      .split(',')
      .filter((h) => h !== ''),
    bucket: r.partitionKey,
  }));

type BucketRow = { partitionKey: string; rowKey: string; subjects: string };

/** Two rows of one event id waiting together (a repeated post): one row listing the subjects of both. */
const mergeBucketRows = (a: BucketRow, b: BucketRow): BucketRow => ({
  ...b,
  subjects: [...new Set([...a.subjects.split(','), ...b.subjects.split(',')])].filter((h) => h !== '').join(','),
});

const ignoreMissing = async (run: () => Promise<unknown>): Promise<void> => {
  try {
    await run();
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
  }
};

/** An event's bucket row in shard 0 of its second, where ingest writes it unless a burst spills (the bench seeds rows with it). */
export const bucketRow = (input: { eventId: string; receivedAt: string; subjectHashes: readonly string[] }): BucketRow => ({
  partitionKey: bucketPartitions(input.receivedAt)[0] as string,
  rowKey: input.eventId,
  subjects: input.subjectHashes.join(','),
});

export const tablePrivacyIndex = (table: EnsuredTable): PrivacyIndex => {
  // One per process (the composition root builds the index once), so concurrent ingests share writes.
  const commitBucketRow = partitionCommitter<BucketRow>({
    write: async (rows) => {
      const client = await table.ready();
      // A lone row as a plain upsert: one request either way, and a third of a transaction's price.
      if (rows.length === 1) await client.upsertEntity(rows[0] as BucketRow, 'Replace');
      else await client.submitTransaction(rows.map((row): TransactionAction => ['upsert', row, 'Replace']));
    },
    merge: mergeBucketRows,
  });
  // Rows given to the committer and not yet settled, by partition: where the next row has room.
  const unsettled = new Map<string, number>();
  const commitWithRoom = async (row: BucketRow, receivedAt: string): Promise<void> => {
    const partitions = bucketPartitions(receivedAt);
    const load = (pk: string): number => unsettled.get(pk) ?? 0;
    const partitionKey = partitions.find((pk) => load(pk) < MAX_TRANSACTION_ROWS) ?? partitions.reduce((a, b) => (load(b) < load(a) ? b : a));
    unsettled.set(partitionKey, load(partitionKey) + 1);
    try {
      await commitBucketRow({ ...row, partitionKey });
    } finally {
      const left = load(partitionKey) - 1;
      if (left > 0) unsettled.set(partitionKey, left);
      else unsettled.delete(partitionKey);
    }
  };
  return {
    record: ({ eventId, receivedAt, subjectHashes }) =>
      TE.tryCatch(async () => {
        const client = await table.ready();
        // Subject rows: one partition per person, so no group to join; one upsert each (a repeated ingest rewrites them).
        await Promise.all([
          commitWithRoom(bucketRow({ eventId, receivedAt, subjectHashes }), receivedAt),
          ...subjectHashes.map((hash) => client.upsertEntity({ partitionKey: subjectPartition(hash), rowKey: eventId }, 'Replace')),
        ]);
      }, storageError('write the privacy index')),
    eventsOfSubject: ({ subjectHash, limit }) =>
      pipe(
        TE.tryCatch(
          async () => queryUpTo<Record<string, unknown>>(await table.ready(), { filter: odata`PartitionKey eq ${subjectPartition(subjectHash)}`, max: limit }),
          storageError('read the privacy index'),
        ),
        TE.map((rows) => decodeRows(rows).map((r) => r.rowKey)),
      ),
    bucketsUpTo: ({ lastHour, limit }) =>
      pipe(
        TE.tryCatch(
          async () => queryUpTo<Record<string, unknown>>(await table.ready(), { filter: odata`PartitionKey ge ${'t|'} and PartitionKey lt ${afterHour(lastHour)}`, max: limit }),
          storageError('read the retention index'),
        ),
        TE.map(bucketedEvents),
      ),
    bucketPage: ({ fromHour, toHour, pageSize, continuationToken }) =>
      pipe(
        TE.tryCatch(async () => {
          const client = await table.ready();
          const filter = odata`PartitionKey ge ${firstOfHour(fromHour)} and PartitionKey lt ${afterHour(toHour)}`;
          const pages = client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: pageSize, ...(continuationToken === undefined ? {} : { continuationToken }) });
          const first = await pages.next();
          if (first.done === true) return { rows: [] as Record<string, unknown>[] };
          return { rows: [...first.value], continuationToken: first.value.continuationToken };
        }, storageError('read the retention index')),
        TE.map(({ rows, continuationToken: next }) => ({
          items: bucketedEvents(rows),
          ...(next === undefined ? {} : { continuationToken: next }),
        })),
      ),
    backfillState: () =>
      TE.tryCatch(async (): Promise<BackfillState> => {
        try {
          const row = await (await table.ready()).getEntity<Record<string, unknown>>(MARKER.partitionKey, MARKER.rowKey);
          // An unreadable marker starts the scan over: indexing an event twice is harmless.
          return MarkerRow.is(row) ? { done: row.done, ...(row.continuationToken ? { continuationToken: row.continuationToken } : {}) } : { done: false };
        } catch (e) {
          if (statusOf(e) === 404) return { done: false };
          throw e;
        }
      }, storageError('read the backfill marker')),
    saveBackfillState: (state) =>
      TE.tryCatch(async () => {
        await (await table.ready()).upsertEntity({ ...MARKER, done: state.done, continuationToken: state.continuationToken ?? '' }, 'Replace');
      }, storageError('write the backfill marker')),
    forget: ({ eventId, receivedAt, buckets, subjectHashes }) =>
      TE.tryCatch(async () => {
        const client = await table.ready();
        // A walk knows the row's partition; from a time, the row may sit in any shard and layout it was written in.
        const fromTimes = receivedAt.flatMap((at) => [...bucketPartitions(at), ...legacyBucketPartitions(at, eventId)]);
        const partitions = [...new Set([...buckets.filter((b) => b.startsWith('t|')), ...fromTimes, ...subjectHashes.map(subjectPartition)])];
        await Promise.all(partitions.map((pk) => ignoreMissing(() => client.deleteEntity(pk, eventId))));
      }, storageError('delete privacy index rows')),
  };
};
