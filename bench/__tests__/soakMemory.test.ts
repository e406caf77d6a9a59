import { memoryOfLife } from '../soak';

/*
 * The soak's verdict on a host life's memory (bench/soak.ts): a leak raises the ceiling of RSS's
 * sawtooth and fails it; a flat ceiling passes wherever in the saw the minutes' samples fall.
 */

/** One sample every 5 s for `seconds`, RSS from `mbAt(seconds since the life began)`. */
const life = (seconds: number, mbAt: (t: number) => number) => Array.from({ length: Math.floor(seconds / 5) + 1 }, (_, i) => ({ at: 10_000 + i * 5000, rssMb: mbAt(i * 5) }));

/** A saw between 180 and 280 MB with a 70 s period, rising by `leakMbPerMinute`. */
const saw =
  (leakMbPerMinute: number) =>
  (t: number): number =>
    180 + ((t % 70) / 70) * 100 + (t / 60) * leakMbPerMinute;

describe('the soak memory verdict', () => {
  it('passes a flat sawtooth even when the means of the two minutes differ widely', () => {
    // Mostly low in the second minute (the saw's peak once, at 65 s), high in the last: the means
    // differ by more than 10%, the ceilings do not.
    const samples = life(240, (t) => (t >= 60 && t < 120 && t !== 65 ? 185 : saw(0)(t)));
    const judged = memoryOfLife(samples);
    expect(((judged.lastMinuteMb ?? 0) - (judged.secondMinuteMb ?? 0)) / (judged.secondMinuteMb ?? 1)).toBeGreaterThan(0.1);
    expect(judged.pass).toBe(true);
    expect(judged.growthPercent).toBeLessThan(10);
  });

  it('fails memory that keeps growing', () => {
    const judged = memoryOfLife(life(240, saw(20)));
    expect(judged.growthPercent).toBeGreaterThan(10);
    expect(judged.pass).toBe(false);
  });

  it('does not judge a life shorter than three minutes', () => {
    const judged = memoryOfLife(life(150, saw(0)));
    expect(judged.pass).toBeUndefined();
    expect(judged.growthPercent).toBeUndefined();
    expect(memoryOfLife([]).pass).toBeUndefined();
  });
});
