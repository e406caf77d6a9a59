/** Small statistics for the bench: percentiles by nearest rank, rounding for tables. */

export const percentile = (values: readonly number[], p: number): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
};

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export type Distribution = { count: number; p50Ms?: number; p90Ms?: number; p99Ms?: number; maxMs?: number };

export const distribution = (valuesMs: readonly number[]): Distribution => {
  const at = (p: number): number | undefined => {
    const v = percentile(valuesMs, p);
    return v === undefined ? undefined : round(v, 1);
  };
  return { count: valuesMs.length, p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), maxMs: at(100) };
};

export const ms = (value: number | undefined): string => (value === undefined ? 'n/a' : value >= 10_000 ? `${round(value / 1000, 1)} s` : `${Math.round(value)} ms`);
