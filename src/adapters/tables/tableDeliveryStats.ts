import { odata, type TableEntity } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { randomBytes } from 'node:crypto';
import { addObservation, emptyCounters, hourOf, mergeCounters, type StatsCounters } from '../../domain/deliveryStats';
import type { DeliveryStats } from '../../ports/deliveryStats';
import { storageError } from './storageErrors';
import type { EnsuredTable } from './tables';

/*
 * Layout (docs/delivery.md, "Endpoint stats"): partition = webhook id, row `<hour>|<writer>`, one
 * row per webhook, hour and process. A process keeps its running totals of the current hours in
 * memory and writes the whole row (absolute values, an upsert): no read, no etag, no lost update
 * between instances, and a failed write is repaired by the next one. A row is written at once when
 * it was not written for WRITE_INTERVAL_SECONDS, otherwise by a timer at the end of that interval:
 * a busy webhook costs one write per interval and process, not one per message.
 * A message run twice is counted twice: these are stats, not the delivery record.
 */

/** Totals older than this are dropped from memory (after a last write); their rows are final. */
const KEEP_HOURS = 2;
/** A row is written at most this often per process; the stats route lags by at most this much. */
export const WRITE_INTERVAL_SECONDS = 5;
/** One partition's rows for a year of hours and a few writers: the read stops there. */
const MAX_ROWS_READ = 50_000;

type StatsRow = TableEntity<{ delivered: number; retrying: number; poisoned: number; latency: string; lastSuccessAt: string; lastFailureAt: string }>;

const StoredRow = t.intersection([
  t.type({ delivered: t.number, retrying: t.number, poisoned: t.number, latency: t.string }),
  t.partial({ lastSuccessAt: t.string, lastFailureAt: t.string }),
]);

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

type Entry = { readonly webhookId: string; readonly hour: string; counters: StatsCounters; dirty: boolean; writtenAt: number };

const hoursBefore = (hour: string, n: number): string => hourOf(new Date(Date.parse(`${hour}:00:00.000Z`) - n * 3_600_000));

export const tableDeliveryStats = (table: EnsuredTable, options: { writerId?: string; now?: () => number; onError?: (message: string) => void } = {}): DeliveryStats => {
  const writer = options.writerId ?? randomBytes(9).toString('base64url');
  const now = options.now ?? Date.now;
  const totals = new Map<string, Entry>();
  let timer: NodeJS.Timeout | undefined;

  const write = async (entries: readonly Entry[]): Promise<void> => {
    if (entries.length === 0) return;
    const client = await table.ready();
    await Promise.all(
      entries.map(async (entry) => {
        const row: StatsRow = {
          partitionKey: entry.webhookId,
          rowKey: `${entry.hour}|${writer}`,
          delivered: entry.counters.delivered,
          retrying: entry.counters.retrying,
          poisoned: entry.counters.poisoned,
          latency: JSON.stringify(entry.counters.latency),
          lastSuccessAt: entry.counters.lastSuccessAt ?? '',
          lastFailureAt: entry.counters.lastFailureAt ?? '',
        };
        entry.dirty = false;
        entry.writtenAt = now();
        try {
          await client.upsertEntity(row, 'Replace');
        } catch (e) {
          // Written again with the next change (or the next timer): the totals are absolute.
          entry.dirty = true;
          throw e;
        }
      }),
    );
  };

  /** Writes what is left dirty once its interval is over; one timer per process. */
  const schedule = (): void => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      const due = [...totals.values()].filter((e) => e.dirty && now() - e.writtenAt >= WRITE_INTERVAL_SECONDS * 1000);
      write(due).catch((e: unknown) => options.onError?.(`delivery stats not written: ${e instanceof Error ? e.message : String(e)}`));
      if ([...totals.values()].some((e) => e.dirty)) schedule();
    }, WRITE_INTERVAL_SECONDS * 1000);
    // Pending stats never keep a process alive.
    timer.unref();
  };

  return {
    record: (observations) =>
      TE.tryCatch(async () => {
        if (observations.length === 0) return;
        const newest = observations.reduce((h, o) => (hourOf(o.at) > h ? hourOf(o.at) : h), '');
        const oldest = hoursBefore(newest, KEEP_HOURS - 1);
        for (const [key, entry] of totals) if (entry.hour < oldest && !entry.dirty) totals.delete(key);
        const touched = new Set<Entry>();
        for (const o of observations) {
          const hour = hourOf(o.at);
          // An hour already dropped would restart from zero and overwrite its row with less.
          if (hour < oldest) continue;
          const key = `${o.webhookId}|${hour}`;
          const entry = totals.get(key) ?? { webhookId: o.webhookId, hour, counters: emptyCounters(), dirty: false, writtenAt: 0 };
          entry.counters = addObservation(entry.counters, o);
          entry.dirty = true;
          totals.set(key, entry);
          touched.add(entry);
        }
        const dueNow = [...touched].filter((e) => now() - e.writtenAt >= WRITE_INTERVAL_SECONDS * 1000);
        if (dueNow.length < touched.size) schedule();
        await write(dueNow);
      }, storageError('write delivery stats')),

    read: ({ webhookId, since }) =>
      TE.tryCatch(async () => {
        const client = await table.ready();
        let sum = emptyCounters();
        let rows = 0;
        const filter = odata`PartitionKey eq ${webhookId} and RowKey ge ${hourOf(since)}`;
        for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
          const counters = countersOf(row);
          if (counters !== undefined) sum = mergeCounters(sum, counters);
          if (++rows >= MAX_ROWS_READ) break;
        }
        return sum;
      }, storageError('read delivery stats')),
  };
};
