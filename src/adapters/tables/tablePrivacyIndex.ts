import { odata } from '@azure/data-tables';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { EventId } from '../../domain/events';
import type { BackfillState, BucketedEvent, PrivacyIndex } from '../../ports/privacyIndex';
import { statusOf, storageError } from './storageErrors';
import { type EnsuredTable, queryUpTo } from './tables';

/*
 * Its own table (PRIVACY_TABLE), so no row here can be mistaken for an event. RowKey = event id;
 * PartitionKey `t|YYYYMMDDHH|<shard>` (hour bucket, split in BUCKET_SHARDS by a hash of the event
 * id: the purge walks the old ones in key order) or `s|<subject hash>` (erasure reads one
 * partition). A bucket row also lists the event's subject hashes (`subjects`), so the purge can
 * remove them when the event row is already gone. Rows written before the shards sit in
 * `t|YYYYMMDDHH`; the ranges below cover both.
 *
 * Why shards: every ingest writes a bucket row, so one partition per hour took every event of the
 * hour (144 000 at 40 events/s). On Table Storage that caps ingest at one partition's throughput
 * (about 2000 entities/s); on Azurite a write into a partition costs in proportion to its rows,
 * and ingest slowed as the hour filled (issue 19, bench/decay.ts).
 */

const BUCKET_SHARDS = 64;
/** The shard of an event's bucket row: from its id, so every path that knows the id and the hour finds the row. */
const shardOf = (eventId: string): string => {
  let h = 0;
  for (let i = 0; i < eventId.length; i++) h = (h * 31 + eventId.charCodeAt(i)) >>> 0;
  return String(h % BUCKET_SHARDS).padStart(2, '0');
};
const bucketPartition = (hour: string, eventId: string): string => `t|${hour}|${shardOf(eventId)}`;
/** Where rows written before the shards sit (still read and deleted). */
const legacyBucketPartition = (hour: string): string => `t|${hour}`;
/** The first partition key after every bucket of `hour`, sharded or not ('~' sorts after '|'). */
const afterHour = (hour: string): string => `t|${hour}~`;
/** `t|YYYYMMDDHH` or `t|YYYYMMDDHH|07`: the hour. */
const hourOfPartition = (partitionKey: string): string => partitionKey.slice(2, 12);
/** The backfill's marker row: `m|` sorts before `t|`, so the bucket walk never meets it. */
const MARKER = { partitionKey: 'm|backfill', rowKey: 'state' } as const;
const MarkerRow = t.intersection([t.type({ done: t.boolean }), t.partial({ continuationToken: t.string })]);
const subjectPartition = (hash: string): string => `s|${hash}`;

const IndexRow = t.intersection([t.type({ partitionKey: t.string, rowKey: EventId }), t.partial({ subjects: t.string })]);

const decodeRows = (rows: readonly unknown[]): t.TypeOf<typeof IndexRow>[] => rows.flatMap((r) => (IndexRow.is(r) ? [r] : []));

const ignoreMissing = async (run: () => Promise<unknown>): Promise<void> => {
  try {
    await run();
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
  }
};

/** An event's bucket row, as ingest writes it (the bench seeds rows with it, 100 to a transaction). */
export const bucketRow = (input: { eventId: string; hour: string; subjectHashes: readonly string[] }): { partitionKey: string; rowKey: string; subjects: string } => ({
  partitionKey: bucketPartition(input.hour, input.eventId),
  rowKey: input.eventId,
  subjects: input.subjectHashes.join(','),
});

export const tablePrivacyIndex = (table: EnsuredTable): PrivacyIndex => ({
  record: ({ eventId, hour, subjectHashes }) =>
    TE.tryCatch(async () => {
      const client = await table.ready();
      // Different partitions, so no transaction: one upsert each (a repeated ingest rewrites them).
      await Promise.all([
        client.upsertEntity(bucketRow({ eventId, hour, subjectHashes }), 'Replace'),
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
      TE.map((rows) =>
        decodeRows(rows).map((r): BucketedEvent => ({
          eventId: r.rowKey,
          hour: hourOfPartition(r.partitionKey),
          subjectHashes: String(r.subjects ?? '')
            .split(',')
            .filter((h) => h !== ''),
        })),
      ),
    ),
  bucketPage: ({ fromHour, toHour, pageSize, continuationToken }) =>
    pipe(
      TE.tryCatch(async () => {
        const client = await table.ready();
        const filter = odata`PartitionKey ge ${legacyBucketPartition(fromHour)} and PartitionKey lt ${afterHour(toHour)}`;
        const pages = client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: pageSize, ...(continuationToken === undefined ? {} : { continuationToken }) });
        const first = await pages.next();
        if (first.done === true) return { rows: [] as Record<string, unknown>[] };
        return { rows: [...first.value], continuationToken: first.value.continuationToken };
      }, storageError('read the retention index')),
      TE.map(({ rows, continuationToken: next }) => ({
        items: decodeRows(rows).map((r): BucketedEvent => ({
          eventId: r.rowKey,
          hour: hourOfPartition(r.partitionKey),
          subjectHashes: String(r.subjects ?? '')
            .split(',')
            .filter((h) => h !== ''),
        })),
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
  forget: ({ eventId, hours, subjectHashes }) =>
    TE.tryCatch(async () => {
      const client = await table.ready();
      const buckets = [...new Set(hours.map((h) => h.slice(0, 10)))].flatMap((h) => [bucketPartition(h, eventId), legacyBucketPartition(h)]);
      await Promise.all([...buckets, ...subjectHashes.map(subjectPartition)].map((pk) => ignoreMissing(() => client.deleteEntity(pk, eventId))));
    }, storageError('delete privacy index rows')),
});
