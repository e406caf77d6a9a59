import { addObservation, bucketOf, emptyCounters, LATENCY_BUCKETS_MS, mergeCounters, OVERFLOW_BUCKET_MS, percentileMs, type StatsObservation, toWebhookStats } from '../deliveryStats';

const obs = (outcome: StatsObservation['outcome'], latencyMs: number, at = '2026-12-05T10:00:00.000Z'): StatsObservation => ({ webhookId: 'W', at, outcome, latencyMs });

describe('delivery stats counters', () => {
  it('buckets latencies by their upper bound, with one open bucket above the last', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(25)).toBe(0);
    expect(bucketOf(26)).toBe(1);
    expect(bucketOf(30_000)).toBe(LATENCY_BUCKETS_MS.length - 1);
    expect(bucketOf(30_001)).toBe(LATENCY_BUCKETS_MS.length);
  });

  it('p50 and p99 are the bounds of the buckets holding those ranks', () => {
    const latency = emptyCounters().latency;
    latency[bucketOf(40)] = 98;
    latency[bucketOf(900)] = 1;
    latency[bucketOf(60_000)] = 1;
    expect(percentileMs(latency, 0.5)).toBe(50);
    expect(percentileMs(latency, 0.99)).toBe(1000);
    expect(percentileMs(latency, 1)).toBe(OVERFLOW_BUCKET_MS);
    expect(percentileMs(emptyCounters().latency, 0.5)).toBeNull();
  });

  it('counts outcomes, keeps the latest success and failure, and merges rows by adding', () => {
    const a = [obs('Delivered', 10, '2026-12-05T10:00:01.000Z'), obs('RetryLater', 2000, '2026-12-05T10:00:02.000Z'), obs('Poisoned', 5, '2026-12-05T10:00:03.000Z')].reduce(
      addObservation,
      emptyCounters(),
    );
    const b = [obs('Delivered', 10, '2026-12-05T11:00:00.000Z'), obs('Gone', 10, '2026-12-05T09:00:00.000Z')].reduce(addObservation, emptyCounters());
    const stats = toWebhookStats(mergeCounters(a, b), '2026-12-05T09:00:00.000Z');
    expect(stats).toEqual({
      since: '2026-12-05T09:00:00.000Z',
      delivered: 2,
      failed: 3,
      retrying: 1,
      poisoned: 2,
      successRate: 2 / 5,
      lastSuccessAt: '2026-12-05T11:00:00.000Z',
      lastFailureAt: '2026-12-05T10:00:03.000Z',
      p50Ms: 25,
      p99Ms: 2500,
    });
  });

  it('without attempts: zeros and nulls, no division by zero', () => {
    expect(toWebhookStats(emptyCounters(), 'x')).toMatchObject({ delivered: 0, failed: 0, successRate: null, p50Ms: null, lastSuccessAt: null });
  });
});
