import { randomBytes } from 'node:crypto';
import { expectedDeliveryId, type RunningApp } from './app';
import { runConcurrently } from './baselines';
import { cpuMsPer, cpuSnapshot } from './cpu';
import type { CountingProxy } from './proxy';
import type { Receivers } from './receivers';
import type { Stall, StallProbe } from './stallProbe';
import { type Distribution, distribution, round } from './stats';
import { diffCounts, type OpCount, total } from './storageOps';

/*
 * The end-to-end measurements. Every event is a `ping` aimed at one group of webhooks (they share the
 * attribute name=<group>), so each phase reaches only its own webhooks. Event ids are ours, so the
 * `webhook-id` of every delivery is known in advance and each arrival maps to the post it came from.
 */

export type Env = { readonly app: RunningApp; readonly receivers: Receivers; readonly proxy: CountingProxy; readonly progress: (m: string) => void };

const POST_CONCURRENCY = 16;
const REGISTER_CONCURRENCY = 16;
const runTag = randomBytes(3).toString('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** After the last delivery, the worker still writes the attempt log and deletes the message. */
const SETTLE_MS = 1500;

export const registerGroup = async (env: Env, input: { group: string; count: number; firstIndex?: number; originOf?: (index: number) => 0 | 1 }): Promise<string[]> => {
  const ids: string[] = new Array<string>(input.count);
  const first = input.firstIndex ?? 0;
  await runConcurrently(input.count, REGISTER_CONCURRENCY, async (i) => {
    ids[i] = await env.app.registerWebhook({ url: env.receivers.urlFor(input.group, first + i, input.originOf?.(first + i) ?? 0), name: input.group });
  });
  return ids;
};

type Posted = { id: string; sentAt: number; acceptedAt: number; status: number };

/** With `id` the post names its event (a sender with its own ids); without, the dispatcher's answer does. */
const post = async (env: Env, id: string | undefined, target: string): Promise<Posted> => {
  const sentAt = performance.now();
  if (id !== undefined) {
    const status = await env.app.postPing({ id, target }).catch(() => 0);
    return { id, sentAt, acceptedAt: performance.now(), status };
  }
  const answer = await env.app.postPingWithoutId({ target }).catch(() => ({ status: 0, id: undefined }));
  return { id: answer.id ?? '', sentAt, acceptedAt: performance.now(), status: answer.id === undefined ? 0 : answer.status };
};

/** Arrival - acceptance for each expected (event, webhook) delivery that arrived; `missing` counts the others. */
const deliveryLatencies = (env: Env, posted: readonly Posted[], webhookIds: readonly string[]): { latencies: number[]; missing: number; lastArrival: number } => {
  const latencies: number[] = [];
  let missing = 0;
  let lastArrival = 0;
  for (const p of posted) {
    if (p.status !== 202) continue;
    for (const w of webhookIds) {
      const arrival = env.receivers.firstArrival.get(expectedDeliveryId(p.id, w));
      if (arrival === undefined) missing++;
      else {
        latencies.push(arrival.at - p.acceptedAt);
        lastArrival = Math.max(lastArrival, arrival.at);
      }
    }
  }
  return { latencies, missing, lastArrival };
};

export type Throughput = {
  fanOut: number;
  events: number;
  accepted: number;
  deliveriesExpected: number;
  delivered: number;
  repeats: number;
  acceptedEventsPerSecond: number;
  /** Events whose every delivery arrived, per second from the first post to the last arrival. */
  eventsPerSecond: number;
  deliveriesPerSecond: number;
  seconds: number;
  ingest: Distribution;
  acceptedToDeliveredAtSaturation: Distribution;
  storage: { transactions: number; perDelivery: number; counts: OpCount[] };
  /** CPU milliseconds per delivery, per process (host, azurite, proxy, bench). */
  cpuMsPerDelivery: Record<string, number>;
  /** The first events of a fresh host, measured alone before this run (`coldEvents`). */
  coldStart?: Throughput;
  /** Events posted with the sender's own ids, measured after this run on the same host (`clientIdEvents`). */
  withClientIds?: Throughput;
  /** Azurite's pauses (stallProbe.ts) from the first post to the last delivery, when a probe ran. */
  storageStalls?: Stall[];
};

/**
 * Posts `events` events as fast as POST_CONCURRENCY clients can, each to `fanOut` webhooks, and waits for
 * every delivery. With `coldEvents`, the first events a fresh host serves are measured on their own first
 * (`coldStart`): a Node process runs its hot paths interpreted until the JIT has seen them a few hundred
 * times, so a fresh host's first events cost it about twice the CPU of the same events later. Both are
 * reported; the measured run is the steady state of a host that has served `coldEvents` already.
 */
export const measureThroughput = async (
  env: Env,
  input: { fanOut: number; events: number; drainTimeoutMs: number; group?: string; coldEvents?: number; clientIdEvents?: number; probe?: StallProbe },
): Promise<Throughput> => {
  const group = input.group ?? `fo${input.fanOut}`;
  const webhooks = await registerGroup(env, { group, count: input.fanOut });
  const run = { env, group, webhooks, fanOut: input.fanOut, drainTimeoutMs: input.drainTimeoutMs, ...(input.probe === undefined ? {} : { probe: input.probe }) };
  const coldStart = input.coldEvents === undefined ? undefined : await measureRun({ ...run, events: input.coldEvents, tag: 'cold' });
  const measured = await measureRun({ ...run, events: input.events, tag: 'run' });
  const withClientIds = input.clientIdEvents === undefined ? undefined : await measureRun({ ...run, events: input.clientIdEvents, tag: 'ids', clientIds: true });
  return { ...measured, ...(coldStart === undefined ? {} : { coldStart }), ...(withClientIds === undefined ? {} : { withClientIds }) };
};

/** What the fan-out phases post: events per fan-out, and fan-out 1's cold and own-ids runs. */
export type FanOutPlan = { readonly fanOutEvents: Record<1 | 10 | 100, number>; readonly coldEvents: number; readonly clientIdEvents: number; readonly drainMs: number };

/** Fan-out 1, 10 and 100 through the counting proxy, in that order on one host (the full run and `--phase throughput`). */
export const measureFanOuts = async (env: Env, plan: FanOutPlan): Promise<Throughput[]> => {
  const measured: Throughput[] = [];
  for (const fanOut of [1, 10, 100] as const) {
    env.progress(`throughput: fan-out ${fanOut}, ${plan.fanOutEvents[fanOut]} events`);
    const t = await measureThroughput(env, {
      fanOut,
      events: plan.fanOutEvents[fanOut],
      drainTimeoutMs: plan.drainMs,
      ...(fanOut === 1 ? { coldEvents: plan.coldEvents, clientIdEvents: plan.clientIdEvents } : {}),
    });
    measured.push(t);
    env.progress(`  ${t.deliveriesPerSecond} deliveries/s, ${t.eventsPerSecond} events/s, ${t.storage.perDelivery} transactions/delivery`);
  }
  return measured;
};

/**
 * One measured run. Posts carry no `id` (the contract's default, and what the goal rows judge) unless
 * `clientIds`: a sender's own id makes ingest store the event before it enqueues and mark it after
 * (docs/architecture.md item 31), one more write per event.
 */
const measureRun = async (input: {
  env: Env;
  group: string;
  webhooks: string[];
  fanOut: number;
  events: number;
  drainTimeoutMs: number;
  tag: string;
  clientIds?: boolean;
  probe?: StallProbe;
}): Promise<Throughput> => {
  const { env, group, webhooks } = input;
  const before = await env.proxy.snapshot();
  const cpuBefore = cpuSnapshot();
  const repeatsBefore = env.receivers.repeats();
  const arrivedBefore = env.receivers.distinctIn(group);
  const posted: Posted[] = [];
  const started = performance.now();
  await runConcurrently(input.events, POST_CONCURRENCY, async (i) => {
    posted.push(await post(env, input.clientIds === true ? `${group}-${runTag}-${input.tag}${i}` : undefined, group));
  });
  const accepted = posted.filter((p) => p.status === 202);
  const postedFor = (performance.now() - started) / 1000;
  const expected = accepted.length * input.fanOut;
  env.progress(`  fan-out ${input.fanOut} (${input.tag}): ${accepted.length}/${input.events} events accepted in ${round(postedFor, 2)} s; waiting for ${expected} deliveries`);
  const complete = await env.receivers.waitFor(() => env.receivers.distinctIn(group) - arrivedBefore >= expected, input.drainTimeoutMs);
  if (!complete) env.progress(`  fan-out ${input.fanOut} (${input.tag}): only ${env.receivers.distinctIn(group) - arrivedBefore} of ${expected} deliveries within ${input.drainTimeoutMs} ms`);
  const stalls = input.probe?.stallsBetween(started, performance.now());
  // After the settle window: the attempt log writes and message deletes of the last deliveries are part of their cost.
  await sleep(SETTLE_MS);
  const cpuAfter = cpuSnapshot();
  const counts = diffCounts(before, await env.proxy.snapshot());
  const { latencies, lastArrival } = deliveryLatencies(env, accepted, webhooks);
  const seconds = (lastArrival - started) / 1000;
  const completeEvents = accepted.filter((p) => webhooks.every((w) => env.receivers.firstArrival.has(expectedDeliveryId(p.id, w)))).length;
  const transactions = total(counts);
  return {
    fanOut: input.fanOut,
    events: input.events,
    accepted: accepted.length,
    deliveriesExpected: expected,
    delivered: latencies.length,
    repeats: env.receivers.repeats() - repeatsBefore,
    acceptedEventsPerSecond: round(accepted.length / postedFor),
    eventsPerSecond: round(completeEvents / seconds),
    deliveriesPerSecond: round(latencies.length / seconds),
    seconds: round(seconds, 2),
    ingest: distribution(posted.map((p) => p.acceptedAt - p.sentAt)),
    acceptedToDeliveredAtSaturation: distribution(latencies),
    storage: { transactions, perDelivery: round(transactions / Math.max(1, latencies.length), 3), counts },
    cpuMsPerDelivery: cpuMsPer(cpuBefore, cpuAfter, latencies.length),
    ...(stalls === undefined ? {} : { storageStalls: stalls }),
  };
};

/**
 * Posts at a fixed rate (open loop: a slow answer does not delay the next post) for `seconds`. With
 * `prefix` each post carries its own id (`<prefix>-<run>-<i>`); without, the dispatcher chooses it.
 */
const postAtRate = async (env: Env, input: { prefix?: string; target: string; ratePerSecond: number; seconds: number }): Promise<Posted[]> => {
  const count = Math.max(1, Math.round(input.ratePerSecond * input.seconds));
  const intervalMs = 1000 / input.ratePerSecond;
  const started = performance.now();
  const inFlight: Promise<Posted>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(post(env, input.prefix === undefined ? undefined : `${input.prefix}-${runTag}-${i}`, input.target));
  }
  return Promise.all(inFlight);
};

export type SteadyLatency = {
  fanOut: number;
  ratePerSecond: number;
  seconds: number;
  events: number;
  accepted: number;
  delivered: number;
  missing: number;
  ingest: Distribution;
  acceptedToDelivered: Distribution;
  storage: { transactions: number; perDelivery: number; counts: OpCount[] };
  /** Azurite's pauses (stallProbe.ts) from the first post to the last delivery, when a probe ran. */
  storageStalls?: Stall[];
};

/** Accepted -> delivered at a steady offered rate, one webhook per event. */
export const measureSteadyLatency = async (env: Env, input: { group: string; ratePerSecond: number; seconds: number; drainTimeoutMs: number; probe?: StallProbe }): Promise<SteadyLatency> => {
  const group = input.group;
  const webhooks = await registerGroup(env, { group, count: 1 });
  const before = await env.proxy.snapshot();
  const started = performance.now();
  // Without ids, as the fan-out 1 rate this window is a share of was measured.
  const posted = await postAtRate(env, { target: group, ratePerSecond: input.ratePerSecond, seconds: input.seconds });
  const accepted = posted.filter((p) => p.status === 202);
  await env.receivers.waitFor(() => env.receivers.distinctIn(group) >= accepted.length, input.drainTimeoutMs);
  const stalls = input.probe?.stallsBetween(started, performance.now());
  await sleep(SETTLE_MS);
  const counts = diffCounts(before, await env.proxy.snapshot());
  const { latencies, missing } = deliveryLatencies(env, accepted, webhooks);
  const transactions = total(counts);
  return {
    fanOut: 1,
    ratePerSecond: round(input.ratePerSecond, 2),
    seconds: input.seconds,
    events: posted.length,
    accepted: accepted.length,
    delivered: latencies.length,
    missing,
    ingest: distribution(posted.map((p) => p.acceptedAt - p.sentAt)),
    acceptedToDelivered: distribution(latencies),
    storage: { transactions, perDelivery: round(transactions / Math.max(1, latencies.length), 3), counts },
    ...(stalls === undefined ? {} : { storageStalls: stalls }),
  };
};

export type IsolationRun = { label: string; posted: number; events: number; healthyDelivered: number; healthyMissing: number; healthy: Distribution; faultyAttempts: number };

export type Isolation = {
  fanOut: number;
  ratePerSecond: number;
  faultyOrigin: string;
  seconds: number;
  waitAfterPostingMs: number;
  control: IsolationRun;
  faulty: IsolationRun;
  /** Healthy p99 with the faulty receivers over healthy p99 without them, minus one, in percent. */
  p99IncreasePercent?: number;
};

/**
 * The same load twice over one group of webhooks: first all healthy, then with one receiver that
 * hangs (until the dispatcher's timeout) and one that answers 500. Healthy receivers' latencies are
 * compared; deliveries still missing when the wait ends count as "later than the wait" in the p99.
 */
/** How late the latest of an event's deliveries to `webhookIds` came (or is, if still missing). */
const slowestOf = (env: Env, p: Posted, webhookIds: readonly string[]): number =>
  Math.max(...webhookIds.map((w) => (env.receivers.firstArrival.get(expectedDeliveryId(p.id, w))?.at ?? performance.now()) - p.acceptedAt));

/** Healthy deliveries slower than this are listed in the progress output of the isolation runs. */
const SLOW_DELIVERY_MS = 2_000;

export const measureIsolation = async (
  env: Env,
  input: { fanOut: number; ratePerSecond: number; seconds: number; waitAfterPostingMs: number; faultyOrigin?: 0 | 1; group?: string },
): Promise<Isolation> => {
  const group = input.group ?? 'iso';
  const faultyOrigin = input.faultyOrigin ?? 1;
  const hangIndex = input.fanOut - 2;
  const failIndex = input.fanOut - 1;
  // The faulty two live on another port (origin), as another company's endpoint would; or, with
  // faultyOrigin 0, on the healthy receivers' own origin (one company, one endpoint misbehaving).
  const webhooks = await registerGroup(env, { group, count: input.fanOut, originOf: (i) => (i >= hangIndex ? faultyOrigin : 0) });
  const healthyIds = webhooks.slice(0, hangIndex);
  const run = async (label: string): Promise<IsolationRun> => {
    const faultyBefore = env.receivers.arrivalsIn(group);
    const posted = await postAtRate(env, { prefix: `${group}-${label}`, target: group, ratePerSecond: input.ratePerSecond, seconds: input.seconds });
    const accepted = posted.filter((p) => p.status === 202);
    const postingEnded = performance.now();
    const expectedHealthy = accepted.length * healthyIds.length;
    const healthyArrived = (): number => deliveryLatencies(env, accepted, healthyIds).latencies.length;
    // Counting this way is O(events) per check: check every 200 ms only, not at each arrival.
    let lastCheck = 0;
    await env.receivers.waitFor(() => {
      const now = performance.now();
      if (now - lastCheck < 200) return false;
      lastCheck = now;
      return healthyArrived() >= expectedHealthy;
    }, input.waitAfterPostingMs);
    const { latencies, missing } = deliveryLatencies(env, accepted, healthyIds);
    // A delivery that has not arrived yet is at least this late: counted so the p99 cannot look better than it is.
    const lowerBounds = accepted.flatMap((p) => healthyIds.filter((w) => !env.receivers.firstArrival.has(expectedDeliveryId(p.id, w))).map(() => performance.now() - p.acceptedAt));
    env.progress(`  isolation ${label}: ${accepted.length} events, ${latencies.length}/${expectedHealthy} healthy deliveries ${Math.round(performance.now() - postingEnded)} ms after posting ended`);
    // The outliers, named: which event (by its order in the run) and when it was accepted.
    const started = accepted[0]?.acceptedAt ?? 0;
    const slow = accepted.flatMap((p, i) =>
      healthyIds.flatMap((w) => {
        const arrival = env.receivers.firstArrival.get(expectedDeliveryId(p.id, w));
        const ms = (arrival?.at ?? performance.now()) - p.acceptedAt;
        return ms > SLOW_DELIVERY_MS ? [`event ${i} (accepted at +${Math.round(p.acceptedAt - started)} ms): ${Math.round(ms)} ms${arrival === undefined ? ' (not arrived)' : ''}`] : [];
      }),
    );
    if (slow.length > 0) {
      env.progress(`  isolation ${label}: ${slow.length} healthy deliveries over ${SLOW_DELIVERY_MS} ms; ${[...new Set(slow)].slice(0, 5).join('; ')}`);
      // The slowest event as the dispatcher saw it: received, dispatch state and attempt times.
      const slowest = accepted.reduce((worst, p) => (slowestOf(env, p, healthyIds) > slowestOf(env, worst, healthyIds) ? p : worst));
      env.progress(
        `  isolation ${label}: event ${slowest.id} accepted at ${new Date(performance.timeOrigin + slowest.acceptedAt).toISOString()}: ${JSON.stringify(await env.app.eventStatus(slowest.id))}`,
      );
    }
    return {
      label,
      posted: posted.length,
      events: accepted.length,
      healthyDelivered: latencies.length,
      healthyMissing: missing,
      healthy: distribution([...latencies, ...lowerBounds]),
      faultyAttempts: env.receivers.arrivalsIn(group) - faultyBefore - latencies.length,
    };
  };
  const control = await run('control');
  env.receivers.setBehaviour(`/r/${group}/${hangIndex}`, 'hang');
  env.receivers.setBehaviour(`/r/${group}/${failIndex}`, 'fail');
  const faulty = await run('faulty');
  // Let the held requests go and the retries succeed, so later phases run on a quiet dispatcher.
  env.receivers.setBehaviour(`/r/${group}/`, 'ok');
  const c99 = control.healthy.p99Ms;
  const f99 = faulty.healthy.p99Ms;
  return {
    fanOut: input.fanOut,
    ratePerSecond: round(input.ratePerSecond, 2),
    faultyOrigin: faultyOrigin === 0 ? 'same as the healthy receivers' : 'another origin',
    seconds: input.seconds,
    waitAfterPostingMs: input.waitAfterPostingMs,
    control,
    faulty,
    ...(c99 !== undefined && f99 !== undefined && c99 > 0 ? { p99IncreasePercent: round((f99 / c99 - 1) * 100, 1) } : {}),
  };
};

export type ScalePoint = {
  registered: number;
  matching: number;
  registrationSeconds: number;
  fanOut: Distribution;
  transactionsPerEvent: number;
  pages?: number;
  /** One `ping:all` to every registered webhook (all have a name): the whole fan-out, through the orchestration past one page. */
  everyone?: {
    deliveries: number;
    delivered: number;
    seconds: number;
    /** Seconds after acceptance at which the first delivery, 10%, 50% and 90% of them had arrived. */
    curve?: { firstS: number; p10S: number; p50S: number; p90S: number };
    /** CPU seconds per process (host, azurite, proxy, bench) from acceptance to the last delivery. */
    cpuSeconds?: Record<string, number>;
    transactionsPerDelivery: number;
    pages?: number;
    counts?: OpCount[];
  };
};

/**
 * One `ping:all` reaching every registered webhook: accepted -> the last first arrival. Counted by
 * new arrivals (the seeded webhooks' ids are not known here); nothing else is in flight meanwhile.
 */
const pingEveryone = async (env: Env, input: { id: string; deliveries: number; deliveryTimeoutMs: number }): Promise<ScalePoint['everyone']> => {
  const arrivedBefore = env.receivers.firstArrival.size;
  const before = await env.proxy.snapshot();
  const cpuBefore = cpuSnapshot();
  const sentAt = performance.now();
  const status = await env.app.postPingAll({ id: input.id }).catch(() => 0);
  if (status !== 202) return undefined;
  const arrived = () => env.receivers.firstArrival.size - arrivedBefore;
  await env.receivers.waitFor(() => arrived() >= input.deliveries, input.deliveryTimeoutMs);
  let lastAt = sentAt;
  for (const a of env.receivers.firstArrival.values()) lastAt = Math.max(lastAt, a.at);
  const delivered = arrived();
  // CPU seconds of each process until the last delivery: which one bounds the fan-out.
  const cpuSeconds = Object.fromEntries(Object.entries(cpuMsPer(cpuBefore, cpuSnapshot(), 1)).map(([k, v]) => [k, round(v / 1000, 2)]));
  // When the first 10%, 50% and 90% had arrived: the shape of the fan-out, not only its end.
  const times = [...env.receivers.firstArrival.values()]
    .map((a) => a.at)
    .filter((at) => at >= sentAt)
    .sort((x, y) => x - y);
  const arrivedBy = (share: number): number => round(((times[Math.max(0, Math.ceil(times.length * share) - 1)] ?? sentAt) - sentAt) / 1000, 2);
  const curve = { firstS: arrivedBy(0), p10S: arrivedBy(0.1), p50S: arrivedBy(0.5), p90S: arrivedBy(0.9) };
  await sleep(SETTLE_MS);
  const counts = diffCounts(before, await env.proxy.snapshot());
  const pages = ((await env.app.eventStatus(input.id)) as { dispatch?: { pages?: number } } | undefined)?.dispatch?.pages;
  env.progress(`  scale: ping:all to ${input.deliveries} webhooks: ${delivered} delivered in ${round((lastAt - sentAt) / 1000, 2)} s`);
  return {
    deliveries: input.deliveries,
    delivered,
    seconds: round((lastAt - sentAt) / 1000, 2),
    curve,
    cpuSeconds,
    transactionsPerDelivery: round(total(counts) / Math.max(1, delivered), 3),
    ...(pages !== undefined ? { pages } : {}),
    counts,
  };
};

/**
 * Fan-out time (accepted -> last of the matching deliveries) as the number of webhooks subscribed to
 * the event grows, only `matching` of them matching it; the rest are read and skipped.
 */
export const measureScale = async (
  env: Env,
  input: {
    sizes: readonly number[];
    matching: number;
    eventsPerSize: number;
    deliveryTimeoutMs: number;
    /** Registers the webhooks that do not match (fast, straight into storage). */
    seed: (input: { count: number; firstIndex: number; urlFor: (i: number) => string }) => Promise<void>;
  },
): Promise<ScalePoint[]> => {
  let registered = 0;
  const points: ScalePoint[] = [];
  for (const size of input.sizes) {
    const adding = Math.max(0, size - registered - input.matching);
    const regStarted = performance.now();
    await input.seed({ count: adding, firstIndex: registered, urlFor: (i) => env.receivers.urlFor('fill', i) });
    // The matching ones are registered last: ids grow with time, so they sit on the last page and
    // their arrival marks the end of the whole scan. Earlier sizes' matching webhooks now only fill.
    const target = `scale${size}`;
    const webhooks = await registerGroup(env, { group: target, count: input.matching });
    registered += adding + input.matching;
    const registrationSeconds = (performance.now() - regStarted) / 1000;
    env.progress(`  scale: ${registered} webhooks registered (${adding} added in ${round(registrationSeconds, 1)} s); posting ${input.eventsPerSize} events`);
    const before = await env.proxy.snapshot();
    const times: number[] = [];
    let pages: number | undefined;
    let lastEvent: string | undefined;
    for (let i = 0; i < input.eventsPerSize; i++) {
      const p = await post(env, `${target}-${runTag}-${i}`, target);
      if (p.status !== 202) continue;
      const ids = webhooks.map((w) => expectedDeliveryId(p.id, w));
      const arrived = await env.receivers.waitFor(() => ids.every((d) => env.receivers.firstArrival.has(d)), input.deliveryTimeoutMs);
      if (!arrived) {
        env.progress(`  scale: event ${p.id} not fully delivered within ${input.deliveryTimeoutMs} ms`);
        times.push(input.deliveryTimeoutMs);
        continue;
      }
      times.push(Math.max(...ids.map((d) => (env.receivers.firstArrival.get(d)?.at ?? 0) - p.acceptedAt)));
      lastEvent = p.id;
    }
    await sleep(SETTLE_MS);
    const counts = diffCounts(before, await env.proxy.snapshot());
    // Read after the snapshot: the status query is the bench's, not the fan-out's.
    if (lastEvent !== undefined) pages = ((await env.app.eventStatus(lastEvent)) as { dispatch?: { pages?: number } } | undefined)?.dispatch?.pages;
    const everyone = await pingEveryone(env, { id: `everyone${size}-${runTag}`, deliveries: registered, deliveryTimeoutMs: input.deliveryTimeoutMs });
    points.push({
      registered,
      matching: input.matching,
      registrationSeconds: round(registrationSeconds, 1),
      fanOut: distribution(times),
      transactionsPerEvent: round(total(counts) / input.eventsPerSize, 1),
      ...(pages !== undefined ? { pages } : {}),
      ...(everyone !== undefined ? { everyone } : {}),
    });
  }
  return points;
};

/** Storage transactions per second while nothing happens: the price of polling. */
export const measureIdle = async (env: Env, seconds: number): Promise<{ seconds: number; transactionsPerSecond: number; counts: OpCount[] }> => {
  const before = await env.proxy.snapshot();
  await sleep(seconds * 1000);
  const counts = diffCounts(before, await env.proxy.snapshot());
  return { seconds, transactionsPerSecond: round(total(counts) / seconds, 2), counts };
};
