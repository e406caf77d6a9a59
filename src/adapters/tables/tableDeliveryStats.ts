import * as RA from 'fp-ts/ReadonlyArray';
import * as RNEA from 'fp-ts/ReadonlyNonEmptyArray';
import { odata, type TableEntity, type TransactionAction } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { randomBytes } from 'node:crypto';
import { addObservation, emptyCounters, hourOf, mergeCounters, type StatsCounters } from '../../domain/deliveryStats';
import type { DeliveryStats } from '../../ports/deliveryStats';
import { storageError } from './storageErrors';
import { type EnsuredTable, queryUpTo } from './tables';

/*
 * Layout (docs/delivery.md, "Endpoint stats"): partition `d|<day>|<shard>` (the shard a hash of the
 * webhook id, 0-15), row `<webhookId>|<hour>|<writer>`: one row per webhook, hour and process, and
 * the rows of many webhooks share a partition, so a flush writes them 100 to a transaction. (Rows
 * used to sit in one partition per webhook: a `ping:all` to 10 000 webhooks cost 10 000 upserts and
 * took 74 s instead of 27.) A process keeps its running totals of the current hours in memory and
 * writes whole rows (absolute values, upserts): no read, no etag, no lost update between instances,
 * and a failed write is repaired by the next flush. Every dirty row is written at once when nothing
 * was flushed for WRITE_INTERVAL_SECONDS, otherwise by a timer at the end of that interval: a
 * process costs at most one flush per interval, of about (dirty rows / 100) transactions.
 * A message run twice is counted twice: these are stats, not the delivery record.
 */

/** Totals older than this are dropped from memory (after a last write); their rows are final. */
const KEEP_HOURS = 2;
/** A row is written at most this often per process; the stats route lags by at most this much. */
export const WRITE_INTERVAL_SECONDS = 5;
/** One partition's rows for a year of hours and a few writers: the read stops there. */
const MAX_ROWS_READ = 50_000;

type StatsRow = TableEntity<{ delivered: number; retrying: number; poisoned: number; latency: string; lastSuccessAt: string; lastFailureAt: string }>;

const StoredRow = t.intersection([t.type({ delivered: t.number, retrying: t.number, poisoned: t.number, latency: t.string }), t.partial({ lastSuccessAt: t.string, lastFailureAt: t.string })]);

const parseLatency = (text: string): number[] => {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.every((n) => typeof n === 'number') ? (parsed as number[]) : [];
  } catch {
    return [];
  }
};

/** A row this code did not write is skipped: stats must not fail a read for one odd row. */
const countersOf = (row: unknown): StatsCounters | undefined =>
  pipe(
    StoredRow.decode(row),
    E.map((r): StatsCounters => {
      const base = emptyCounters();
      const latency = parseLatency(r.latency);
      return {
        delivered: r.delivered,
        retrying: r.retrying,
        poisoned: r.poisoned,
        latency: base.latency.map((_, i) => latency[i] ?? 0),
        ...(r.lastSuccessAt ? { lastSuccessAt: r.lastSuccessAt } : {}),
        ...(r.lastFailureAt ? { lastFailureAt: r.lastFailureAt } : {}),
      };
    }),
    E.getOrElseW(() => undefined),
  );

type Entry = { readonly webhookId: string; readonly hour: string; counters: StatsCounters };

const hoursBefore = (hour: string, n: number): string => hourOf(new Date(Date.parse(`${hour}:00:00.000Z`) - n * 3_600_000));

const SHARDS = 16;
/** Rows per entity group transaction (the service's limit). */
const MAX_TRANSACTION_ROWS = 100;
/** Day partitions a read walks at once. */
const PARALLEL_DAY_READS = 8;

/** Spreads a day's rows over SHARDS partitions (a partition serves about 2000 entities/s on Table Storage); a webhook's rows stay in one. */
const shardOf = (webhookId: string): string => {
  let h = 0;
  for (let i = 0; i < webhookId.length; i++) h = (h * 31 + webhookId.charCodeAt(i)) >>> 0;
  return String(h % SHARDS).padStart(2, '0');
};
/** `hour` is `YYYY-MM-DDTHH`; its day is the first 10 characters. */
export const statsPartition = (webhookId: string, hour: string): string => `d|${hour.slice(0, 10)}|${shardOf(webhookId)}`;
const statsRowKey = (webhookId: string, hour: string, writer: string): string => `${webhookId}|${hour}|${writer}`;

/** The days from the one holding `since` to the one holding `now`, oldest first. */
const daysBetween = (since: Date, now: Date): string[] => {
  const days: string[] = [];
  for (let d = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate()); d <= now.getTime(); d += 86_400_000) days.push(new Date(d).toISOString().slice(0, 10));
  return days;
};

export const tableDeliveryStats = (table: EnsuredTable, options: { writerId?: string; now?: () => number; onError?: (message: string) => void } = {}): DeliveryStats => {
  const writer = options.writerId ?? randomBytes(9).toString('base64url');
  const now = options.now ?? Date.now;
  const totals = new Map<string, Entry>();
  /** The entries changed since their last write: a flush and a record touch only these, not every webhook's totals. */
  const dirty = new Set<Entry>();
  /** Hours older than this were dropped from `totals` (a walk of every entry, done when the newest hour moves on). */
  let prunedBelow = '';
  let timer: NodeJS.Timeout | undefined;
  let flushedAt = 0;

  const rowOf = (entry: Entry): StatsRow => ({
    partitionKey: statsPartition(entry.webhookId, entry.hour),
    rowKey: statsRowKey(entry.webhookId, entry.hour, writer),
    delivered: entry.counters.delivered,
    retrying: entry.counters.retrying,
    poisoned: entry.counters.poisoned,
    latency: JSON.stringify(entry.counters.latency),
    lastSuccessAt: entry.counters.lastSuccessAt ?? '',
    lastFailureAt: entry.counters.lastFailureAt ?? '',
  });

  /** Every dirty row, grouped by partition, 100 to a transaction (a lone row as a plain upsert). */
  const flush = async (): Promise<void> => {
    flushedAt = now();
    if (dirty.size === 0) return;
    const byPartition = RNEA.groupBy((entry: Entry) => statsPartition(entry.webhookId, entry.hour))([...dirty]);
    const client = await table.ready();
    const failures: unknown[] = [];
    await Promise.all(
      Object.values(byPartition)
        .flatMap((entries) => RA.chunksOf(MAX_TRANSACTION_ROWS)(entries))
        .map(async (entries) => {
          const rows = entries.map(rowOf);
          for (const e of entries) dirty.delete(e);
          try {
            if (rows.length === 1) await client.upsertEntity(rows[0] as StatsRow, 'Replace');
            else await client.submitTransaction(rows.map((row): TransactionAction => ['upsert', row, 'Replace']));
          } catch (e) {
            // Written again with the next flush: the totals are absolute.
            for (const entry of entries) dirty.add(entry);
            failures.push(e);
          }
        }),
    );
    if (failures.length > 0) throw failures[0];
  };

  /** A flush at the end of the interval; one timer per process. */
  const schedule = (): void => {
    if (timer !== undefined) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        flush()
          .catch((e: unknown) => options.onError?.(`delivery stats not written: ${e instanceof Error ? e.message : String(e)}`))
          .finally(() => {
            if (dirty.size > 0) schedule();
          });
      },
      Math.max(0, flushedAt + WRITE_INTERVAL_SECONDS * 1000 - now()),
    );
    // Pending stats never keep a process alive.
    timer.unref();
  };

  return {
    record: (observations) =>
      TE.tryCatch(async () => {
        if (observations.length === 0) return;
        const newest = observations.reduce((h, o) => {
          const hour = hourOf(o.at);
          return hour > h ? hour : h;
        }, '');
        const oldest = hoursBefore(newest, KEEP_HOURS - 1);
        if (oldest > prunedBelow) {
          // An entry still to be written stays until a later walk: its totals are not lost.
          for (const [key, entry] of totals) if (entry.hour < oldest && !dirty.has(entry)) totals.delete(key);
          prunedBelow = oldest;
        }
        for (const o of observations) {
          const hour = hourOf(o.at);
          // An hour already dropped would restart from zero and overwrite its row with less.
          if (hour < oldest) continue;
          const key = `${o.webhookId}|${hour}`;
          const entry = totals.get(key) ?? { webhookId: o.webhookId, hour, counters: emptyCounters() };
          entry.counters = addObservation(entry.counters, o);
          dirty.add(entry);
          totals.set(key, entry);
        }
        if (timer === undefined && now() - flushedAt >= WRITE_INTERVAL_SECONDS * 1000) await flush();
        else schedule();
      }, storageError('write delivery stats')),

    read: ({ webhookId, since }) =>
      TE.tryCatch(async () => {
        const client = await table.ready();
        let sum = emptyCounters();
        let rows = 0;
        const add = (row: Record<string, unknown>): void => {
          const counters = countersOf(row);
          if (counters !== undefined && rows++ < MAX_ROWS_READ) sum = mergeCounters(sum, counters);
        };
        const first = hourOf(since);
        // One key range per day (within the webhook's shard), and the webhook's own partition, where rows written before the day partitions sit.
        const ranges = [
          ...daysBetween(since, new Date(now())).map((day) => {
            const from = statsRowKey(webhookId, day === first.slice(0, 10) ? first : '', '').replace(/\|$/, '');
            return odata`PartitionKey eq ${statsPartition(webhookId, day)} and RowKey ge ${from} and RowKey lt ${`${webhookId}|~`}`;
          }),
          odata`PartitionKey eq ${webhookId} and RowKey ge ${first}`,
        ];
        for (const part of RA.chunksOf(PARALLEL_DAY_READS)(ranges)) {
          const found = await Promise.all(part.map((filter) => queryUpTo<Record<string, unknown>>(client, { filter, max: MAX_ROWS_READ })));
          for (const row of found.flat()) add(row);
        }
        return sum;
      }, storageError('read delivery stats')),
  };
};
