import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TransactionAction } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { tableAttemptLog } from '../src/adapters/tables/tableAttemptLog';
import { tableEventStore } from '../src/adapters/tables/tableEventStore';
import { bucketRow, tablePrivacyIndex } from '../src/adapters/tables/tablePrivacyIndex';
import { ensuredTable } from '../src/adapters/tables/tables';
import { DEFAULTS } from '../src/config';
import { deliveryIdFor } from '../src/domain/delivery';
import type { EventId } from '../src/domain/events';
import { startMeasuredStack } from './stack';
import { runConcurrently } from './baselines';
import { startReceivers } from './receivers';
import { measureThroughput, type Env, type Throughput } from './scenarios';
import { ms, round } from './stats';

/*
 * Throughput must not decay as data accumulates (issue 19): fan-out 1 measured on a fresh Azurite,
 * then again on the same Azurite and host after SEED_EVENTS more events stored straight into the
 * tables, each as ingest and the worker leave it (privacy bucket row, dispatched event row, one
 * `Delivered` attempt row), through the product's own adapters. Goal: within 20% of the fresh rate.
 * Runs inside `npm run bench` (registered in run.ts) or alone: `node dist/bench/decay.js [--quick]`.
 */

export type Decay = { readonly seeded: number; readonly seedSeconds: number; readonly fresh: Throughput; readonly after: Throughput; readonly ratio: number };
export type DecayRow = { metric: string; result: string; baseline?: string; goal?: string; status?: 'pass' | 'miss' | '' };

const SEED_CONCURRENCY = 64;
/** The rate the seeded history was received at: 50 000 events span about 17 minutes. */
const SEED_EVENTS_PER_SECOND = 50;
const GOAL_RATIO = 0.8;

/**
 * Stores `count` delivered `ping` events the way ingest, the dispatch and the worker would have:
 * event rows and attempt rows through the product's adapters (each in its own partition, so one
 * request each), bucket rows with the product's row function, 100 to a transaction per partition.
 */
export const seedDeliveredEvents = async (input: { connectionString: string; count: number; prefix: string; webhookId: string }): Promise<void> => {
  const table = (tableName: string) => ensuredTable({ connectionString: input.connectionString, tableName });
  const events = tableEventStore(table(DEFAULTS.EVENTS_TABLE ?? 'events'));
  const privacy = table(DEFAULTS.PRIVACY_TABLE ?? 'privacy');
  const attempts = tableAttemptLog(table(DEFAULTS.ATTEMPTS_TABLE ?? 'attempts'));
  // Received over the time before now at SEED_EVENTS_PER_SECOND, as a deployment's history is: the
  // bucket rows then fill minute partitions as ingest at that rate would (not all one minute).
  const endedAt = Date.now();
  const ids = Array.from({ length: input.count }, (_, i) => `${input.prefix}-${i}` as EventId);
  const receivedAt = (i: number): string => new Date(endedAt - Math.round(((input.count - i) * 1000) / SEED_EVENTS_PER_SECOND)).toISOString();
  const buckets = new Map<string, ReturnType<typeof bucketRow>[]>();
  ids.forEach((id, i) => {
    const row = bucketRow({ eventId: id, receivedAt: receivedAt(i), subjectHashes: [] });
    const rows = buckets.get(row.partitionKey) ?? [];
    rows.push(row);
    buckets.set(row.partitionKey, rows);
  });
  const batches = [...buckets.values()].flatMap((rows) => Array.from({ length: Math.ceil(rows.length / 100) }, (_, i) => rows.slice(i * 100, (i + 1) * 100)));
  const client = await privacy.ready();
  // As on a deployment past its first purge: the backfill of events stored before the retention
  // index is done (otherwise the next purge run re-indexes every seeded event, inside the measurement).
  const marked = await tablePrivacyIndex(privacy).saveBackfillState({ done: true })();
  if (E.isLeft(marked)) throw new Error(`seeding the backfill marker: ${marked.left.message}`);
  await runConcurrently(batches.length, 8, async (i) => void (await client.submitTransaction((batches[i] ?? []).map((row): TransactionAction => ['upsert', row, 'Replace']))));
  await runConcurrently(input.count, SEED_CONCURRENCY, async (i) => {
    const id = ids[i] as EventId;
    const at = receivedAt(i);
    const steps = [
      events.add({ id, name: 'ping', payload: { name: 'seeded' }, receivedAt: at, status: 'dispatched', firstPage: { deliveries: 1, orchestrated: false } }),
      attempts.record([
        {
          eventId: id,
          deliveryId: deliveryIdFor({ eventId: id, publicEventName: 'ping', webhookId: input.webhookId }),
          webhookId: input.webhookId,
          attempt: 1,
          at,
          decision: 'Delivered',
          result: { kind: 'Response', status: 204, latencyMs: 3, excerpt: '', bodyRead: 'Complete' },
        },
      ]),
    ];
    for (const step of steps) {
      const result = await step();
      if (E.isLeft(result)) throw new Error(`seeding event ${id}: ${result.left.message}`);
    }
  });
};

/** `env.app` must be a host on a fresh Azurite reachable at `connectionString` (directly, so the seed is not counted). */
export const measureDecay = async (env: Env, input: { connectionString: string; events: number; coldEvents: number; seed: number; drainTimeoutMs: number }): Promise<Decay> => {
  env.progress(`decay: fan-out 1, ${input.events} events on a fresh Azurite`);
  // Both measurements on a warm host: the first events of a fresh one cost it about twice the CPU
  // (scenarios.ts), which made the "after" run look faster than the "fresh" one (118-127% before).
  const fresh = await measureThroughput(env, { fanOut: 1, events: input.events, drainTimeoutMs: input.drainTimeoutMs, group: 'decay0', coldEvents: input.coldEvents });
  env.progress(`  ${fresh.eventsPerSecond} events/s, ${fresh.storage.perDelivery} transactions/delivery`);
  const started = performance.now();
  await seedDeliveredEvents({ connectionString: input.connectionString, count: input.seed, prefix: 'seed', webhookId: '01JDECAYSEEDED0000000000WH' });
  const seedSeconds = round((performance.now() - started) / 1000, 1);
  env.progress(`decay: ${input.seed} events stored in ${seedSeconds} s; fan-out 1 again`);
  const after = await measureThroughput(env, { fanOut: 1, events: input.events, drainTimeoutMs: input.drainTimeoutMs, group: 'decay1' });
  env.progress(`  ${after.eventsPerSecond} events/s, ${after.storage.perDelivery} transactions/delivery`);
  return { seeded: input.seed, seedSeconds, fresh, after, ratio: round(after.eventsPerSecond / Math.max(0.001, fresh.eventsPerSecond), 3) };
};

export const decayRows = (d: Decay): DecayRow[] => [
  {
    metric: `decay: fan-out 1 events/s after ${d.seeded} stored events (seeded in ${d.seedSeconds} s) / fresh; ingest p50 / p99 after`,
    result: `${d.after.eventsPerSecond} / ${d.fresh.eventsPerSecond} (${round(d.ratio * 100, 1)}%); ${ms(d.after.ingest.p50Ms)} / ${ms(d.after.ingest.p99Ms)} (fresh ${ms(d.fresh.ingest.p50Ms)} / ${ms(d.fresh.ingest.p99Ms)})`,
    baseline: `${d.fresh.eventsPerSecond} events/s fresh`,
    goal: `>= ${GOAL_RATIO * 100}% of fresh`,
    status: d.ratio >= GOAL_RATIO && d.after.delivered === d.after.deliveriesExpected ? 'pass' : 'miss',
  },
  {
    metric: 'decay: storage transactions per event fresh / after; host CPU ms per event fresh / after',
    result: `${d.fresh.storage.perDelivery} / ${d.after.storage.perDelivery}; ${d.fresh.cpuMsPerDelivery.host ?? 'n/a'} / ${d.after.cpuMsPerDelivery.host ?? 'n/a'}`,
  },
];

/** Its own fresh Azurite (in memory), counting proxy and host; for run.ts and the standalone run. */
export const runDecayPhase = async (input: { quick: boolean; progress: (m: string) => void; env?: Record<string, string> }): Promise<{ decay: Decay; rows: DecayRow[] }> => {
  const stops: (() => Promise<void>)[] = [];
  try {
    const { azurite, proxy, app } = await startMeasuredStack({ stops, progress: input.progress, env: input.env ?? {} });
    const receivers = await startReceivers();
    stops.unshift(() => receivers.close());
    const decay = await measureDecay(
      { app, proxy, receivers, progress: input.progress },
      { connectionString: azurite.connectionString, events: input.quick ? 300 : 1000, coldEvents: input.quick ? 150 : 300, seed: input.quick ? 10_000 : 50_000, drainTimeoutMs: 60_000 },
    );
    return { decay, rows: decayRows(decay) };
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
};

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const progress = (m: string): void => void process.stderr.write(`bench: ${m}\n`);
  runDecayPhase({ quick, progress })
    .then(({ decay, rows }) => {
      const dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `decay${quick ? '-quick' : ''}.json`), JSON.stringify({ date: new Date().toISOString(), decay }, null, 2) + '\n');
      process.stdout.write(rows.map((r) => `| ${r.metric} | ${r.result} | ${r.goal ?? ''} | ${r.status ?? ''} |`).join('\n') + '\n');
      process.exit(0);
    })
    .catch((e: unknown) => {
      process.stderr.write(`decay failed: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    });
}
