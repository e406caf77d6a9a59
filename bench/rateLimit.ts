import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startAzurite } from '../local-host/azurite';
import { DEFAULTS } from '../src/config';
import { azuriteNodeArgs } from './evidence';
import { ADMIN_API_KEY, expectedDeliveryId, startApp } from './app';
import { runConcurrently } from './baselines';
import { startCountingProxy } from './proxy';
import { startReceivers } from './receivers';
import { type Env, registerGroup } from './scenarios';
import { type Distribution, distribution, round } from './stats';
import { diffCounts, type OpCount, total } from './storageOps';

/*
 * `npm run bench -- --phase rate-limit [--quick]`: one webhook limited to LIMIT deliveries/s gets a
 * burst of EVENTS events at fan-out 1 while an unlimited webhook gets the same burst; the same burst
 * to the unlimited webhook alone first is the control. At the receiver: the limited webhook's
 * arrivals per one-second window (fixed windows from its first arrival, and the busiest sliding
 * one), the unlimited webhook's rate and latency against the control, and nothing lost.
 * Results: bench/results/rate-limit{-<limit>}{-quick}.{json,md}.
 */

/** The issue's limit; `--limit n` tries another (a loaded machine may not offer 20 events/s to bind it). */
const limitArg = process.argv.indexOf('--limit');
const LIMIT = limitArg > 0 && /^[0-9]{1,4}$/.test(process.argv[limitArg + 1] ?? '') ? Number(process.argv[limitArg + 1]) : 20;
const POST_CONCURRENCY = 16;
const runTag = randomBytes(3).toString('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Burst = { group: string; webhookId: string; posted: { id: string; acceptedAt: number; status: number }[] };

/** Arrival times (ms, performance.now()) of the burst's deliveries that came, and how many did not. */
const arrivals = (env: Env, burst: Burst): { at: number[]; latencies: number[]; missing: number } => {
  const at: number[] = [];
  const latencies: number[] = [];
  let missing = 0;
  for (const p of burst.posted) {
    if (p.status !== 202) continue;
    const arrival = env.receivers.firstArrival.get(expectedDeliveryId(p.id, burst.webhookId));
    if (arrival === undefined) missing++;
    else {
      at.push(arrival.at);
      latencies.push(arrival.at - p.acceptedAt);
    }
  }
  return { at: at.sort((a, b) => a - b), latencies, missing };
};

/** Arrivals per fixed one-second window from the first, and the most in any one-second window (sliding). */
const windows = (at: readonly number[]): { fixed: number[]; maxSliding: number } => {
  if (at.length === 0) return { fixed: [], maxSliding: 0 };
  const first = at[0] as number;
  const fixed: number[] = [];
  for (const t of at) {
    const i = Math.floor((t - first) / 1000);
    while (fixed.length <= i) fixed.push(0);
    fixed[i] = (fixed[i] ?? 0) + 1;
  }
  let maxSliding = 0;
  let start = 0;
  for (let end = 0; end < at.length; end++) {
    while ((at[end] as number) - (at[start] as number) >= 1000) start++;
    maxSliding = Math.max(maxSliding, end - start + 1);
  }
  return { fixed, maxSliding };
};

const burst = async (env: Env, group: string, events: number, limit?: number): Promise<Burst> => {
  const [webhookId] = await registerGroup(env, { group, count: 1 });
  if (webhookId === undefined) throw new Error('no webhook registered');
  if (limit !== undefined) {
    const res = await fetch(`${env.app.baseUrl}/api/webhooks/${webhookId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ rateLimitPerSecond: limit }),
    });
    if (res.status !== 200) throw new Error(`setting the rate limit answered ${res.status}: ${await res.text()}`);
  }
  return { group, webhookId, posted: [] };
};

const post = (env: Env, bursts: readonly Burst[], events: number): Promise<void> =>
  // Interleaved: both webhooks' events arrive together, as one backlog.
  runConcurrently(events * bursts.length, POST_CONCURRENCY, async (i) => {
    const b = bursts[i % bursts.length] as Burst;
    const id = `${b.group}-${runTag}-${Math.floor(i / bursts.length)}`;
    const status = await env.app.postPing({ id, target: b.group }).catch(() => 0);
    b.posted.push({ id, acceptedAt: performance.now(), status });
  });

type Side = { delivered: number; missing: number; seconds: number; deliveriesPerSecond: number; latency: Distribution };
const sideOf = (env: Env, b: Burst, started: number): Side & { at: number[] } => {
  const a = arrivals(env, b);
  const seconds = a.at.length === 0 ? 0 : ((a.at[a.at.length - 1] as number) - started) / 1000;
  return { delivered: a.at.length, missing: a.missing, seconds: round(seconds, 2), deliveriesPerSecond: round(a.at.length / Math.max(0.001, seconds)), latency: distribution(a.latencies), at: a.at };
};

export type RateLimitResult = {
  limitPerSecond: number;
  events: number;
  control: Side;
  unlimited: Side;
  limited: Side & { offeredPerSecond: number; fixedWindows: number[]; maxFixedWindow: number; maxSlidingWindow: number; meanRatePerSecond: number; repeats: number };
  storage: { rateLimitTableOpsPerLimitedDelivery: number; transactionsPerDeliveryControl: number; transactionsPerDeliveryMixed: number };
};

export const measureRateLimit = async (env: Env, input: { events: number; drainTimeoutMs: number }): Promise<RateLimitResult> => {
  const rateTable = DEFAULTS.RATE_LIMITS_TABLE;
  // The control: the unlimited webhook's burst alone.
  const control = await burst(env, 'rlcontrol', input.events);
  let before: OpCount[] = await env.proxy.snapshot();
  let started = performance.now();
  await post(env, [control], input.events);
  await env.receivers.waitFor(() => env.receivers.distinctIn('rlcontrol') >= input.events, input.drainTimeoutMs);
  const controlSide = sideOf(env, control, started);
  await sleep(1500);
  const controlCounts = diffCounts(before, await env.proxy.snapshot());
  env.progress(`  control: ${controlSide.delivered} delivered, ${controlSide.deliveriesPerSecond}/s`);

  const limited = await burst(env, 'rllimited', input.events, LIMIT);
  const free = await burst(env, 'rlfree', input.events);
  const repeatsBefore = env.receivers.repeats();
  before = await env.proxy.snapshot();
  started = performance.now();
  await post(env, [limited, free], input.events);
  const acceptedFor = (performance.now() - started) / 1000;
  // The limited burst needs events / LIMIT seconds at least.
  await env.receivers.waitFor(() => env.receivers.distinctIn('rllimited') >= input.events && env.receivers.distinctIn('rlfree') >= input.events, input.drainTimeoutMs + (input.events / LIMIT) * 1000);
  const freeSide = sideOf(env, free, started);
  const limitedSide = sideOf(env, limited, started);
  await sleep(1500);
  const counts = diffCounts(before, await env.proxy.snapshot());
  const w = windows(limitedSide.at);
  const spanSeconds = limitedSide.at.length < 2 ? 0 : ((limitedSide.at[limitedSide.at.length - 1] as number) - (limitedSide.at[0] as number)) / 1000;
  const { at: _a, ...limitedRest } = limitedSide;
  const { at: _f, ...freeRest } = freeSide;
  const { at: _c, ...controlRest } = controlSide;
  return {
    limitPerSecond: LIMIT,
    events: input.events,
    control: controlRest,
    unlimited: freeRest,
    limited: {
      ...limitedRest,
      // The limit binds only when the limited webhook's events come faster than it.
      offeredPerSecond: round(limited.posted.filter((p) => p.status === 202).length / Math.max(0.001, acceptedFor), 1),
      fixedWindows: w.fixed,
      maxFixedWindow: Math.max(0, ...w.fixed),
      maxSlidingWindow: w.maxSliding,
      meanRatePerSecond: round((limitedSide.at.length - 1) / Math.max(0.001, spanSeconds), 2),
      repeats: env.receivers.repeats() - repeatsBefore,
    },
    storage: {
      rateLimitTableOpsPerLimitedDelivery: round(total(counts, (c) => c.resource === rateTable) / Math.max(1, limitedSide.delivered), 3),
      transactionsPerDeliveryControl: round(total(controlCounts) / Math.max(1, controlSide.delivered), 3),
      transactionsPerDeliveryMixed: round(total(counts) / Math.max(1, limitedSide.delivered + freeSide.delivered), 3),
    },
  };
};

const markdownOf = (r: RateLimitResult, header: string): string =>
  [
    `# Rate limit phase (${header})`,
    '',
    '| metric | result |',
    '|---|---|',
    `| limited webhook (${r.limitPerSecond}/s), ${r.events}-event burst: delivered / missing / repeats | ${r.limited.delivered} / ${r.limited.missing} / ${r.limited.repeats} |`,
    `| limited: events accepted per second (the offered rate; the limit binds only above ${r.limitPerSecond}) | ${r.limited.offeredPerSecond} |`,
    `| limited: arrivals in the busiest one-second window, sliding / fixed from the first arrival | ${r.limited.maxSlidingWindow} / ${r.limited.maxFixedWindow} (limit ${r.limitPerSecond}) |`,
    `| limited: mean rate first -> last arrival, per s | ${r.limited.meanRatePerSecond} |`,
    `| limited: arrivals per fixed one-second window | ${r.limited.fixedWindows.join(' ')} |`,
    `| limited: accepted -> delivered p50 / p99 | ${Math.round(r.limited.latency.p50Ms ?? 0)} / ${Math.round(r.limited.latency.p99Ms ?? 0)} ms |`,
    `| unlimited beside it: deliveries/s; accepted -> delivered p50 / p99; missing | ${r.unlimited.deliveriesPerSecond}; ${Math.round(r.unlimited.latency.p50Ms ?? 0)} / ${Math.round(r.unlimited.latency.p99Ms ?? 0)} ms; ${r.unlimited.missing} |`,
    `| control (the unlimited burst alone): deliveries/s; accepted -> delivered p50 / p99 | ${r.control.deliveriesPerSecond}; ${Math.round(r.control.latency.p50Ms ?? 0)} / ${Math.round(r.control.latency.p99Ms ?? 0)} ms |`,
    `| RATE_LIMITS_TABLE operations per limited delivery | ${r.storage.rateLimitTableOpsPerLimitedDelivery} |`,
    `| storage transactions per delivery: control / mixed run | ${r.storage.transactionsPerDeliveryControl} / ${r.storage.transactionsPerDeliveryMixed} |`,
    '',
  ].join('\n');

/** The phase on its own: a fresh Azurite, counting proxy, host and receivers. */
export const runRateLimitPhase = async (options: { quick: boolean; progress: (m: string) => void; settings?: Record<string, string> }): Promise<void> => {
  const events = options.quick ? 200 : 500;
  const azurite = await startAzurite({ inMemory: true, nodeArgs: azuriteNodeArgs() });
  const proxy = await startCountingProxy(azurite.ports);
  const app = await startApp({ storageConnectionString: proxy.connectionString, progress: options.progress, env: options.settings ?? {} });
  const receivers = await startReceivers();
  try {
    options.progress(`rate limit: ${events} events at fan-out 1 to a webhook limited to ${LIMIT}/s beside an unlimited one`);
    const result = await measureRateLimit({ app, receivers, proxy, progress: options.progress }, { events, drainTimeoutMs: 120_000 });
    const header = `${options.quick ? 'quick' : 'full'}, ${new Date().toISOString()}, ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => round(l, 2))
      .join(' ')}`;
    const dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const name = `rate-limit${LIMIT === 20 ? '' : `-${LIMIT}`}${options.quick ? '-quick' : ''}`;
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2) + '\n');
    const markdown = markdownOf(result, header);
    writeFileSync(path.join(dir, `${name}.md`), markdown);
    process.stdout.write(markdown);
  } finally {
    await receivers.close();
    await app.stop();
    await proxy.stop();
    await azurite.stop();
  }
};
