import { MAX_QUEUE_VISIBILITY_DELAY_SECONDS } from '../backoff';
import { paceFor, reserveSlots, WAIT_IN_INVOCATION_MS } from '../rateLimit';

describe('reserveSlots', () => {
  it('spaces slots 1000/rate ms apart from now when the webhook was idle', () => {
    const { slots, next } = reserveSlots({ state: { nextFreeMs: 500 }, ratePerSecond: 20, count: 3, nowMs: 10_000 });
    expect(slots).toEqual([10_000, 10_050, 10_100]);
    expect(next).toEqual({ nextFreeMs: 10_150 });
  });

  it('continues after slots already reserved (by this or another instance), never sharing one', () => {
    const first = reserveSlots({ state: undefined, ratePerSecond: 4, count: 2, nowMs: 0 });
    const second = reserveSlots({ state: first.next, ratePerSecond: 4, count: 2, nowMs: 10 });
    expect([...first.slots, ...second.slots]).toEqual([0, 250, 500, 750]);
  });

  it('any one-second window of a long reservation holds at most the rate', () => {
    const { slots } = reserveSlots({ state: undefined, ratePerSecond: 20, count: 500, nowMs: 1234 });
    const perWindow = new Map<number, number>();
    for (const s of slots) perWindow.set(Math.floor((s - 1234) / 1000), (perWindow.get(Math.floor((s - 1234) / 1000)) ?? 0) + 1);
    expect(Math.max(...perWindow.values())).toBe(20);
    expect(perWindow.size).toBe(25);
  });
});

describe('paceFor', () => {
  it('sends now a slot that has come, and waits in the invocation for one within WAIT_IN_INVOCATION_MS', () => {
    expect(paceFor(900, 1000)).toEqual({ kind: 'SendAfter', waitMs: 0 });
    expect(paceFor(1000 + WAIT_IN_INVOCATION_MS, 1000)).toEqual({ kind: 'SendAfter', waitMs: WAIT_IN_INVOCATION_MS });
  });

  it('holds a further slot back, rounding the delay down so the message comes back before its slot', () => {
    expect(paceFor(1000 + 2_999, 1000)).toEqual({ kind: 'Hold', delaySeconds: 2, slotMs: 3_999 });
    expect(paceFor(1000 + 1_001, 1000)).toEqual({ kind: 'Hold', delaySeconds: 1, slotMs: 2_001 });
  });

  it('never asks the queue for more than its longest visibility delay (the delivery comes back and waits again)', () => {
    const far = 30 * 24 * 3600 * 1000;
    expect(paceFor(far, 0)).toEqual({ kind: 'Hold', delaySeconds: MAX_QUEUE_VISIBILITY_DELAY_SECONDS, slotMs: far });
  });
});
