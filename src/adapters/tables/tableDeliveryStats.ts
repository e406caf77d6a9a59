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
 * memory and writes the whole row (absolute values, Replace) once per webhook per message: no read,
 * no etag, no lost update between instances, and a failed write is repaired by the next one.
 * A message run twice is counted twice: these are stats, not the delivery record.
 */

/** Totals older than this are dropped from memory; their rows are final. */
const KEEP_HOURS = 2;
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

export const tableDeliveryStats = (table: EnsuredTable, options: { writerId?: string } = {}): DeliveryStats => {
  const writer = options.writerId ?? randomBytes(9).toString('base64url');
  const totals = new Map<string, { webhookId: string; hour: string; counters: StatsCounters }>();

  const forget = (currentHour: string): void => {
    const oldest = hourOf(new Date(Date.parse(`${currentHour}:00:00.000Z`) - (KEEP_HOURS - 1) * 3_600_000));
    for (const [key, entry] of totals) if (entry.hour < oldest) totals.delete(key);
  };

  return {
    record: (observations) =>
      TE.tryCatch(async () => {
        if (observations.length === 0) return;
        const touched = new Set<string>();
        const newest = observations.reduce((h, o) => (hourOf(o.at) > h ? hourOf(o.at) : h), '');
        forget(newest);
        for (const o of observations) {
          const hour = hourOf(o.at);
          // An hour already dropped would restart from zero and overwrite its row with less.
          if (hour < hourOf(new Date(Date.parse(`${newest}:00:00.000Z`) - (KEEP_HOURS - 1) * 3_600_000))) continue;
          const key = `${o.webhookId}|${hour}`;
          const entry = totals.get(key) ?? { webhookId: o.webhookId, hour, counters: emptyCounters() };
          totals.set(key, { ...entry, counters: addObservation(entry.counters, o) });
          touched.add(key);
        }
        const client = await table.ready();
        await Promise.all(
          [...touched].map((key) => {
            const entry = totals.get(key);
            if (entry === undefined) return Promise.resolve();
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
            return client.upsertEntity(row, 'Replace');
          }),
        );
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
