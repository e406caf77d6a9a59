import * as t from 'io-ts';

/*
 * Endpoint stats from counters kept as deliveries finish (docs/delivery.md, "Endpoint stats"):
 * per webhook and hour, counts by outcome and a latency histogram in fixed buckets, so p50 and p99
 * come from a few numbers, never from the attempts themselves.
 */

/** Upper bounds of the latency buckets; one more bucket holds everything slower. */
export const LATENCY_BUCKETS_MS = [25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 15_000, 30_000] as const;
/** What a percentile falling in the last (open) bucket reports: the longest timeout a setting allows. */
export const OVERFLOW_BUCKET_MS = 300_000;

/** An attempt's outcome as the counters see it. */
export type StatsOutcome = 'Delivered' | 'RetryLater' | 'Poisoned' | 'Gone';

export type StatsObservation = { readonly webhookId: string; readonly at: string; readonly outcome: StatsOutcome; readonly latencyMs: number };

export const StatsCounters = t.intersection(
  [t.type({ delivered: t.number, retrying: t.number, poisoned: t.number, latency: t.array(t.number) }), t.partial({ lastSuccessAt: t.string, lastFailureAt: t.string })],
  'StatsCounters',
);
export type StatsCounters = t.TypeOf<typeof StatsCounters>;

export const emptyCounters = (): StatsCounters => ({ delivered: 0, retrying: 0, poisoned: 0, latency: LATENCY_BUCKETS_MS.map(() => 0).concat(0) });

export const bucketOf = (latencyMs: number): number => {
  const i = LATENCY_BUCKETS_MS.findIndex((bound) => latencyMs <= bound);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
};

const later = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined ? b : b === undefined ? a : a >= b ? a : b);

export const addObservation = (counters: StatsCounters, o: StatsObservation): StatsCounters => {
  const latency = [...counters.latency];
  const b = bucketOf(o.latencyMs);
  latency[b] = (latency[b] ?? 0) + 1;
  const success = o.outcome === 'Delivered';
  const lastSuccessAt = success ? later(counters.lastSuccessAt, o.at) : counters.lastSuccessAt;
  const lastFailureAt = success ? counters.lastFailureAt : later(counters.lastFailureAt, o.at);
  return {
    delivered: counters.delivered + (success ? 1 : 0),
    retrying: counters.retrying + (o.outcome === 'RetryLater' ? 1 : 0),
    poisoned: counters.poisoned + (o.outcome === 'Poisoned' || o.outcome === 'Gone' ? 1 : 0),
    latency,
    ...(lastSuccessAt === undefined ? {} : { lastSuccessAt }),
    ...(lastFailureAt === undefined ? {} : { lastFailureAt }),
  };
};

export const mergeCounters = (a: StatsCounters, b: StatsCounters): StatsCounters => {
  const lastSuccessAt = later(a.lastSuccessAt, b.lastSuccessAt);
  const lastFailureAt = later(a.lastFailureAt, b.lastFailureAt);
  return {
    delivered: a.delivered + b.delivered,
    retrying: a.retrying + b.retrying,
    poisoned: a.poisoned + b.poisoned,
    latency: a.latency.map((n, i) => n + (b.latency[i] ?? 0)),
    ...(lastSuccessAt === undefined ? {} : { lastSuccessAt }),
    ...(lastFailureAt === undefined ? {} : { lastFailureAt }),
  };
};

/** The upper bound of the bucket holding the q-th quantile; null without attempts. */
export const percentileMs = (latency: readonly number[], q: number): number | null => {
  const total = latency.reduce((s, n) => s + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < latency.length; i++) {
    seen += latency[i] ?? 0;
    if (seen >= rank) return LATENCY_BUCKETS_MS[i] ?? OVERFLOW_BUCKET_MS;
  }
  return OVERFLOW_BUCKET_MS;
};

/** The hour a counter row covers: `2026-12-05T15`. */
export const hourOf = (at: string | Date): string => new Date(at).toISOString().slice(0, 13);

/** GET /api/webhooks/{id}/stats: attempts since the start of the hour holding `since`. */
export const WebhookStats = t.type(
  {
    since: t.string,
    delivered: t.number,
    failed: t.number,
    retrying: t.number,
    poisoned: t.number,
    successRate: t.union([t.number, t.null]),
    lastSuccessAt: t.union([t.string, t.null]),
    lastFailureAt: t.union([t.string, t.null]),
    p50Ms: t.union([t.number, t.null]),
    p99Ms: t.union([t.number, t.null]),
  },
  'WebhookStats',
);
export type WebhookStats = t.TypeOf<typeof WebhookStats>;

export const toWebhookStats = (counters: StatsCounters, since: string): WebhookStats => {
  const failed = counters.retrying + counters.poisoned;
  const attempts = counters.delivered + failed;
  return {
    since,
    delivered: counters.delivered,
    failed,
    retrying: counters.retrying,
    poisoned: counters.poisoned,
    successRate: attempts === 0 ? null : counters.delivered / attempts,
    lastSuccessAt: counters.lastSuccessAt ?? null,
    lastFailureAt: counters.lastFailureAt ?? null,
    p50Ms: percentileMs(counters.latency, 0.5),
    p99Ms: percentileMs(counters.latency, 0.99),
  };
};
