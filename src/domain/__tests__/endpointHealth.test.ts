import { afterOwnerWrite, applyHealthChange, COUNT_REFRESH_SECONDS, healthChange } from '../endpointHealth';
import { aWebhook } from './fixtures';

const policy = { afterSeconds: 3600, minFailures: 3 };
const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const at = (seconds: number): Date => new Date(T0 + seconds * 1000);
const iso = (seconds: number): string => at(seconds).toISOString();
const failed = (n: number, seconds = 0) => ({ succeeded: false, failures: n, firstFailureAt: iso(seconds) });

describe('endpoint health: when the webhook row changes', () => {
  it('a first failure starts a streak at that failure', () => {
    expect(healthChange({ current: { disabled: false }, observed: failed(1, 5), now: at(6), policy })).toEqual({
      kind: 'Failing',
      streak: { since: iso(5), failures: 1, countedAt: iso(6) },
    });
  });

  it('a success without a streak writes nothing; with one, it ends the streak', () => {
    expect(healthChange({ current: { disabled: false }, observed: { succeeded: true, failures: 0 }, now: at(1), policy })).toBeUndefined();
    const failing = { since: iso(0), failures: 2, countedAt: iso(0) };
    expect(healthChange({ current: { disabled: false, failing }, observed: { succeeded: true, failures: 1 }, now: at(1), policy })).toEqual({ kind: 'Recovered' });
  });

  it('counts exactly up to the minimum, then writes only when the count is an hour old', () => {
    const below = { since: iso(0), failures: 2, countedAt: iso(10) };
    expect(healthChange({ current: { disabled: false, failing: below }, observed: failed(1), now: at(20), policy })).toEqual({
      kind: 'Failing',
      streak: { since: iso(0), failures: 3, countedAt: iso(20) },
    });
    const atMin = { since: iso(0), failures: 3, countedAt: iso(20) };
    expect(healthChange({ current: { disabled: false, failing: atMin }, observed: failed(1), now: at(30), policy })).toBeUndefined();
    const stale = healthChange({
      current: { disabled: false, failing: atMin },
      observed: failed(2),
      now: at(20 + COUNT_REFRESH_SECONDS),
      policy: { ...policy, afterSeconds: 10 * COUNT_REFRESH_SECONDS },
    });
    expect(stale).toEqual({ kind: 'Failing', streak: { since: iso(0), failures: 5, countedAt: iso(20 + COUNT_REFRESH_SECONDS) } });
  });

  it('disables once the streak is both long enough and has enough failures, with the reason', () => {
    const failing = { since: iso(0), failures: 5, countedAt: iso(100) };
    expect(healthChange({ current: { disabled: false, failing }, observed: failed(1), now: at(3599), policy })).toBeUndefined();
    expect(healthChange({ current: { disabled: false, failing }, observed: failed(1), now: at(3600), policy })).toEqual({
      kind: 'Disable',
      reason: { kind: 'FailingSince', since: iso(0), failures: 6 },
    });
    // Long enough but too few failures: a webhook that receives little is not disabled on time alone.
    const few = { since: iso(0), failures: 1, countedAt: iso(0) };
    expect(healthChange({ current: { disabled: false, failing: few }, observed: failed(1), now: at(7200), policy })).toEqual({
      kind: 'Failing',
      streak: { since: iso(0), failures: 2, countedAt: iso(7200) },
    });
  });

  it('AUTO_DISABLE_AFTER_SECONDS=0 never writes; a disabled webhook is left alone', () => {
    const failing = { since: iso(0), failures: 50, countedAt: iso(0) };
    expect(healthChange({ current: { disabled: false, failing }, observed: failed(1), now: at(1e6), policy: { ...policy, afterSeconds: 0 } })).toBeUndefined();
    expect(healthChange({ current: { disabled: true, failing }, observed: failed(1), now: at(1e6), policy })).toBeUndefined();
  });

  it('applying a change: disable sets the reason and drops the streak; recovery drops the streak', () => {
    const webhook = aWebhook({ failing: { since: iso(0), failures: 9, countedAt: iso(0) } });
    const disabled = applyHealthChange(webhook, { kind: 'Disable', reason: { kind: 'FailingSince', since: iso(0), failures: 10 } });
    expect(disabled).toEqual({ ...aWebhookWithout(webhook), disabled: true, disabledReason: { kind: 'FailingSince', since: iso(0), failures: 10 } });
    expect(applyHealthChange(webhook, { kind: 'Recovered' })).toEqual(aWebhookWithout(webhook));
    expect(applyHealthChange(webhook, { kind: 'Disable', reason: { kind: 'Gone' } }).disabledReason).toEqual({ kind: 'Gone' });
  });

  it("re-enabling (an owner's write with disabled false) clears the reason; other writes of a disabled webhook keep it", () => {
    const disabled = aWebhook({ disabled: true, disabledReason: { kind: 'Gone' } });
    expect(afterOwnerWrite(disabled, { ...disabled, disabled: false })).not.toHaveProperty('disabledReason');
    expect(afterOwnerWrite(disabled, { ...disabled, url: 'https://new.example/hook' as typeof disabled.url }).disabledReason).toEqual({ kind: 'Gone' });
  });
});

const aWebhookWithout = (w: ReturnType<typeof aWebhook>) => {
  const { failing: _f, disabledReason: _r, ...rest } = w;
  return rest;
};
