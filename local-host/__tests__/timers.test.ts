import path from 'node:path';
import { NEVER, parseSchedule, timerInput } from '../timers';
import { type LogLine, spawnHost } from '../testing/spawnHost';

const appDir = path.join(__dirname, 'fixtures', 'timer-app');

type Report = { fn: string; phase?: string; timer?: unknown };

const reports = (logs: LogLine[], fn: string): Report[] => logs.filter((l) => l.category === fn && l.message.startsWith('{')).map((l) => JSON.parse(l.message) as Report);

const waitForReports = async (logs: LogLine[], fn: string, count: number, timeoutMs = 20_000): Promise<Report[]> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = reports(logs, fn);
    if (found.length >= count) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} reports from ${fn}; got ${found.length}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('NCRONTAB schedules (pure parts)', () => {
  it('computes the next occurrence of a six-field schedule', () => {
    const schedule = parseSchedule('0 */5 * * * *');
    if ('error' in schedule) throw new Error(schedule.error);
    const after = new Date(2024, 0, 1, 10, 2, 30);
    expect(schedule.next(after)).toEqual(new Date(2024, 0, 1, 10, 5, 0));
    expect(schedule.next(new Date(2024, 0, 1, 10, 5, 0))).toEqual(new Date(2024, 0, 1, 10, 10, 0));
  });

  it('rejects five-field (classic cron) schedules, bad fields and schedules that never fire', () => {
    expect(parseSchedule('*/5 * * * *')).toEqual({ error: expect.stringMatching(/six fields.*got 5/) });
    expect(parseSchedule('x * * * * *')).toEqual({ error: expect.stringMatching(/x/) });
    expect(parseSchedule('0 0 0 31 2 *')).toHaveProperty('error');
  });

  it('builds the timer input the Azure host sends, with .NET\'s default date for "never"', () => {
    const next = new Date('2025-01-01T00:00:00.000Z');
    expect(timerInput({ last: undefined, next, lastUpdated: undefined }, false)).toEqual({
      Schedule: { AdjustForDST: true },
      ScheduleStatus: { Last: NEVER, Next: next.toISOString(), LastUpdated: NEVER },
      IsPastDue: false,
    });
    expect(timerInput(undefined, false)).toEqual({ Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false });
  });
});

describe('local host: timer triggers', () => {
  it('runs a one-second timer repeatedly and a runOnStartup timer at start, with the Azure timer input', async () => {
    const host = await spawnHost({ appDir, env: { QA_EVERY_SECOND: '1', QA_STARTUP: '1' } });
    try {
      const [startup] = await waitForReports(host.logs, 'onStartup', 1);
      // A yearly schedule keeps a schedule status (the monitor); the first run has no last run yet.
      expect(startup?.timer).toEqual({
        schedule: { adjustForDST: true },
        scheduleStatus: { last: NEVER, next: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), lastUpdated: NEVER },
        isPastDue: false,
      });
      const next = new Date(String((startup?.timer as { scheduleStatus: { next: string } }).scheduleStatus.next));
      expect(next.getMonth()).toBe(0);
      expect(next.getDate()).toBe(1);
      const everySecond = await waitForReports(host.logs, 'everySecond', 3);
      // As in Azure, a schedule under a minute keeps no status.
      expect(everySecond[0]?.timer).toEqual({ schedule: { adjustForDST: true }, scheduleStatus: null, isPastDue: false });
      const lines = host.logs.filter((l) => l.function === 'everySecond' && l.trigger === 'timer');
      expect(lines.length).toBeGreaterThanOrEqual(3);
      expect(lines.every((l) => l.outcome === 'succeeded' && typeof l.invocationId === 'string' && typeof l.durationMs === 'number')).toBe(true);
      expect(reports(host.logs, 'onStartup')).toHaveLength(1);
    } finally {
      expect(await host.stop()).toBe(0);
    }
  });

  it('never overlaps runs of one timer, keeps its schedule after a failure, and finishes a run in flight on SIGTERM', async () => {
    const host = await spawnHost({ appDir, env: { QA_SLOW_TIMER_MS: '1500', QA_SLOW_TIMER_THROWS: '1' } });
    await waitForReports(host.logs, 'slowTimer', 5, 30_000);
    await host.waitForLog((l) => l.category === 'slowTimer' && l.message.includes('"phase":"start"') && reports(host.logs, 'slowTimer').length % 2 === 1);
    expect(await host.stop('SIGTERM')).toBe(0);
    const phases = reports(host.logs, 'slowTimer').map((r) => r.phase);
    expect(phases.length % 2).toBe(0);
    expect(phases).toEqual(phases.map((_, i) => (i % 2 === 0 ? 'start' : 'done')));
    const failed = host.logs.filter((l) => l.function === 'slowTimer' && l.outcome === 'failed');
    expect(failed.length).toBe(phases.length / 2);
    expect(String(failed[0]?.error)).toContain('timer handler failed');
  });

  it('exits non-zero with a message naming the function when a schedule has five fields', async () => {
    await expect(spawnHost({ appDir, env: { QA_SCHEDULE: '*/5 * * * *' }, startTimeoutMs: 15_000 })).rejects.toThrow(
      /host exited \(code 1\)[\s\S]*Function "badSchedule", timer trigger: invalid schedule "\*\/5 \* \* \* \*": expected six fields/,
    );
  });

  it('exits non-zero with a message naming the function when a schedule field is invalid', async () => {
    await expect(spawnHost({ appDir, env: { QA_SCHEDULE: '0 0 25 * * *' }, startTimeoutMs: 15_000 })).rejects.toThrow(
      /host exited \(code 1\)[\s\S]*Function "badSchedule", timer trigger: invalid schedule "0 0 25 \* \* \*"/,
    );
  });
});
