import fc from 'fast-check';
import { DEFAULT_RETRY_POLICY, DEFAULT_RETRY_SCHEDULE_SECONDS, MAX_QUEUE_VISIBILITY_DELAY_SECONDS, nextDelay, parseRetryAfter, RetryPolicy } from '../backoff';

const now = new Date('2025-03-01T12:00:00.000Z');
const middle = (): number => 0.5; // jitter factor exactly 1
const noJitter: RetryPolicy = { scheduleSeconds: [5, 300, 1800], jitterRatio: 0 };

describe('the default schedule', () => {
  it('starts within seconds, reaches hours, and lasts about a day', () => {
    const total = DEFAULT_RETRY_SCHEDULE_SECONDS.reduce((a, b) => a + b, 0);
    expect(DEFAULT_RETRY_SCHEDULE_SECONDS[0]).toBeLessThanOrEqual(10);
    expect(Math.max(...DEFAULT_RETRY_SCHEDULE_SECONDS)).toBeGreaterThanOrEqual(3600);
    expect(total).toBeGreaterThanOrEqual(20 * 3600);
    expect(total).toBeLessThanOrEqual(36 * 3600);
    expect([...DEFAULT_RETRY_SCHEDULE_SECONDS]).toEqual([...DEFAULT_RETRY_SCHEDULE_SECONDS].sort((a, b) => a - b));
  });

  it('follows the schedule step by step, then is exhausted', () => {
    const delays = DEFAULT_RETRY_SCHEDULE_SECONDS.map((_, i) => nextDelay({ policy: DEFAULT_RETRY_POLICY, attempt: i + 1, now, random: middle }));
    expect(delays).toEqual(DEFAULT_RETRY_SCHEDULE_SECONDS.map((delaySeconds) => ({ kind: 'Retry', delaySeconds })));
    expect(nextDelay({ policy: DEFAULT_RETRY_POLICY, attempt: DEFAULT_RETRY_SCHEDULE_SECONDS.length + 1, now, random: middle })).toEqual({ kind: 'Exhausted' });
  });
});

describe('nextDelay', () => {
  it('treats an attempt below 1 as the first', () => {
    expect(nextDelay({ policy: noJitter, attempt: 0, now })).toEqual({ kind: 'Retry', delaySeconds: 5 });
  });

  it('is exhausted at once with an empty schedule', () => {
    expect(nextDelay({ policy: { scheduleSeconds: [], jitterRatio: 0.2 }, attempt: 1, now })).toEqual({ kind: 'Exhausted' });
  });

  it('applies jitter at both ends of the random source, deterministically', () => {
    const policy: RetryPolicy = { scheduleSeconds: [100], jitterRatio: 0.2 };
    expect(nextDelay({ policy, attempt: 1, now, random: () => 0 })).toEqual({ kind: 'Retry', delaySeconds: 80 });
    expect(nextDelay({ policy, attempt: 1, now, random: () => 0.999999 })).toEqual({ kind: 'Retry', delaySeconds: 120 });
    expect(nextDelay({ policy, attempt: 1, now, random: () => 0.25 })).toEqual({ kind: 'Retry', delaySeconds: 90 });
  });

  it('stays within the jitter bounds and never exceeds the queue maximum (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: MAX_QUEUE_VISIBILITY_DELAY_SECONDS }), { minLength: 1, maxLength: 10 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.nat(12),
        (scheduleSeconds, jitterRatio, r, attemptIndex) => {
          const decision = nextDelay({ policy: { scheduleSeconds, jitterRatio }, attempt: attemptIndex + 1, now, random: () => r });
          const step = scheduleSeconds[attemptIndex];
          if (step === undefined) return decision.kind === 'Exhausted';
          if (decision.kind !== 'Retry') return false;
          return (
            Number.isInteger(decision.delaySeconds) &&
            decision.delaySeconds >= Math.floor(step * (1 - jitterRatio)) &&
            decision.delaySeconds <= Math.min(MAX_QUEUE_VISIBILITY_DELAY_SECONDS, Math.ceil(step * (1 + jitterRatio)))
          );
        },
      ),
    );
  });

  it('clamps a jittered step to the 7-day queue visibility maximum', () => {
    const policy: RetryPolicy = { scheduleSeconds: [MAX_QUEUE_VISIBILITY_DELAY_SECONDS], jitterRatio: 0.5 };
    expect(nextDelay({ policy, attempt: 1, now, random: () => 0.99 })).toEqual({
      kind: 'Retry',
      delaySeconds: MAX_QUEUE_VISIBILITY_DELAY_SECONDS,
    });
  });

  describe('with Retry-After', () => {
    it('waits longer when the receiver asks for it (delta-seconds)', () => {
      expect(nextDelay({ policy: noJitter, attempt: 1, retryAfter: '120', now })).toEqual({ kind: 'Retry', delaySeconds: 120 });
    });

    it('waits longer when the receiver asks for it (HTTP-date)', () => {
      expect(nextDelay({ policy: noJitter, attempt: 1, retryAfter: 'Sat, 01 Mar 2025 12:10:00 GMT', now })).toEqual({
        kind: 'Retry',
        delaySeconds: 600,
      });
    });

    it('never retries sooner than the schedule', () => {
      expect(nextDelay({ policy: noJitter, attempt: 2, retryAfter: '1', now })).toEqual({ kind: 'Retry', delaySeconds: 300 });
      expect(nextDelay({ policy: noJitter, attempt: 2, retryAfter: 'Sat, 01 Mar 2025 11:00:00 GMT', now })).toEqual({
        kind: 'Retry',
        delaySeconds: 300,
      });
    });

    it("is clamped to the schedule's largest step", () => {
      expect(nextDelay({ policy: noJitter, attempt: 1, retryAfter: '999999999', now })).toEqual({ kind: 'Retry', delaySeconds: 1800 });
      expect(nextDelay({ policy: noJitter, attempt: 1, retryAfter: 'Fri, 01 Mar 2030 12:00:00 GMT', now })).toEqual({
        kind: 'Retry',
        delaySeconds: 1800,
      });
    });

    it('is ignored when unreadable', () => {
      for (const retryAfter of ['soon', '-5', '1.5', '', 'Sat, 01 Foo 2025 12:10:00 GMT']) {
        expect(nextDelay({ policy: noJitter, attempt: 1, retryAfter, now })).toEqual({ kind: 'Retry', delaySeconds: 5 });
      }
    });

    it('does not revive an exhausted delivery', () => {
      expect(nextDelay({ policy: noJitter, attempt: 4, retryAfter: '10', now })).toEqual({ kind: 'Exhausted' });
    });
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['120', 120],
    [' 30 ', 30],
    ['Sat, 01 Mar 2025 12:00:30 GMT', 30], // IMF-fixdate
    ['Saturday, 01-Mar-25 12:01:00 GMT', 60], // obsolete RFC 850
    ['Sat Mar  1 12:02:00 2025', 120], // obsolete asctime
    ['Sat, 01 Mar 2025 12:00:00 GMT', 0],
    ['Fri, 28 Feb 2025 12:00:00 GMT', 0], // in the past: now, never negative
    ['Sat, 01 Mar 2025 12:00:00.5 GMT', undefined],
    ['2025-03-01T12:10:00Z', undefined], // not an HTTP-date
    ['Sat, 01 Mar 2025 25:00:00 GMT', undefined],
    ['-1', undefined],
    ['1e3', undefined],
    ['', undefined],
  ])('%j -> %p', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it('reads a two-digit RFC 850 year as at most 50 years ahead', () => {
    expect(parseRetryAfter('Monday, 01-Mar-99 12:00:00 GMT', now)).toBe(0); // 1999, in the past
  });

  it('rounds a fractional remainder up, so the receiver is never hit early', () => {
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:00:10 GMT', new Date('2025-03-01T12:00:00.400Z'))).toBe(10);
  });
});
