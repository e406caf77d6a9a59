/** Small statistics for the bench: percentiles by nearest rank, rounding for tables. */

export const percentile = (values: readonly number[], p: number): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
};

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export type Distribution = { count: number; p50Ms?: number; p90Ms?: number; p99Ms?: number; maxMs?: number };

/**
 * Samples a percentile needs before it is reported: at least one sample above it, and never fewer
 * than 5 (p50 from 5, p90 from 10, p99 from 100). Below that the percentile is left out ("n/a"), and
 * a goal judged on it misses: a p99 of 2 samples is their maximum, not a p99.
 */
export const minSamplesFor = (p: number): number => (p >= 100 ? 1 : Math.max(5, Math.ceil(100 / (100 - p))));

export const distribution = (valuesMs: readonly number[]): Distribution => {
  const at = (p: number): number | undefined => {
    if (valuesMs.length < minSamplesFor(p)) return undefined;
    const v = percentile(valuesMs, p);
    return v === undefined ? undefined : round(v, 1);
  };
  return { count: valuesMs.length, p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), maxMs: at(100) };
};

export const ms = (value: number | undefined): string => (value === undefined ? 'n/a' : value >= 10_000 ? `${round(value / 1000, 1)} s` : `${Math.round(value)} ms`);

/** `p50 / p90 / p99` of a distribution, each "n/a" without enough samples (minSamplesFor). */
export const percentiles = (d: Distribution): string => `${ms(d.p50Ms)} / ${ms(d.p90Ms)} / ${ms(d.p99Ms)}`;
