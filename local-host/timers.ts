import { CronExpressionParser } from 'cron-parser';
import type { HostComponent, HostContext } from './core/component';
import { functionsWithTrigger, triggerBinding } from './core/invoke';
import type { RegisteredFunction } from './core/types';
import { BindingConfigError, resolveSettingExpressions } from './outputs';

/** What .NET's `default(DateTime)` serializes to: the Azure host's "never" in a schedule status. */
export const NEVER = '0001-01-01T00:00:00';
/** Azure keeps a schedule status (the "monitor") by default only for schedules of a minute or more. */
export const MONITOR_MIN_INTERVAL_MS = 60_000;
// setTimeout takes at most a signed 32-bit delay; longer waits are done in steps.
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const NEXT_OCCURRENCES_LOGGED = 5;

export type Schedule = { readonly expression: string; next(after: Date): Date };

/**
 * Parses an NCRONTAB schedule as the Azure host reads it: exactly six fields,
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, in the host's local time zone.
 */
export const parseSchedule = (expression: string): Schedule | { error: string } => {
  const fields = expression
    .trim()
    .split(/\s+/)
    .filter((f) => f !== '');
  if (fields.length !== 6) {
    return { error: `expected six fields "{second} {minute} {hour} {day} {month} {day-of-week}", got ${fields.length}` };
  }
  const normalized = fields.join(' ');
  const next = (after: Date): Date => CronExpressionParser.parse(normalized, { currentDate: after }).next().toDate();
  try {
    // Parsing alone accepts schedules that never fire (e.g. 30 February): ask for an occurrence too.
    next(new Date());
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  return { expression: normalized, next };
};

type ScheduleStatus = { last: Date | undefined; next: Date; lastUpdated: Date | undefined };

const isoOrNever = (d: Date | undefined): string => (d === undefined ? NEVER : d.toISOString());

/** The timer input the Azure host sends (PascalCase; the programming model camel-cases it). */
export const timerInput = (status: ScheduleStatus | undefined, isPastDue: boolean): unknown => ({
  Schedule: { AdjustForDST: true },
  ScheduleStatus: status === undefined ? null : { Last: isoOrNever(status.last), Next: status.next.toISOString(), LastUpdated: isoOrNever(status.lastUpdated) },
  IsPastDue: isPastDue,
});

type Timer = { start(): void; stop(): Promise<void> };

const createTimer = (ctx: HostContext, fn: RegisteredFunction): Timer => {
  const name = fn.metadata.name;
  const [, binding] = triggerBinding(fn);
  const where = `Function "${name}", timer trigger`;
  if (typeof binding.schedule !== 'string' || binding.schedule.trim() === '') throw new BindingConfigError(`${where}: the binding has no schedule`);
  const expression = resolveSettingExpressions(binding.schedule, where);
  const schedule = parseSchedule(expression);
  if ('error' in schedule) throw new BindingConfigError(`${where}: invalid schedule "${expression}": ${schedule.error}`);
  const runOnStartup = binding.runOnStartup === true;
  const first = schedule.next(new Date());
  const useMonitor = typeof binding.useMonitor === 'boolean' ? binding.useMonitor : schedule.next(first).getTime() - first.getTime() >= MONITOR_MIN_INTERVAL_MS;
  // Kept in memory only: unlike Azure, a restart forgets the last run, so isPastDue is always false.
  let status: ScheduleStatus = { last: undefined, next: first, lastUpdated: undefined };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const invoke = async (reason: 'schedule' | 'startup'): Promise<void> => {
    const invocationTime = new Date();
    const outcome = await ctx.invoker.invoke(fn, { data: { json: JSON.stringify(timerInput(useMonitor ? status : undefined, false)) } });
    ctx.log.invocation({
      function: name,
      invocationId: outcome.invocationId,
      durationMs: outcome.durationMs,
      outcome: outcome.kind,
      trigger: 'timer',
      error: outcome.kind === 'failed' ? outcome.error.message : undefined,
    });
    if (outcome.kind === 'failed') ctx.log.log('error', name, outcome.error.stack ?? outcome.error.message, { invocationId: outcome.invocationId });
    // A timer that fires a hair early must not compute the same occurrence again (Azure does the same).
    const base = reason === 'schedule' && status.next > invocationTime ? status.next : invocationTime;
    status = { last: base, next: schedule.next(base), lastUpdated: base };
  };

  const report = (e: unknown): void => ctx.log.log('error', 'host', `${name}: timer failed: ${e instanceof Error ? e.message : String(e)}`);

  // The next run is armed only when the previous one has finished: runs of one timer never overlap.
  const arm = (): void => {
    if (stopped) return;
    const delay = Math.max(0, status.next.getTime() - Date.now());
    timer = setTimeout(
      () => {
        if (status.next.getTime() - Date.now() > 1_000) return arm();
        running = invoke('schedule').catch(report).then(arm);
      },
      Math.min(delay, MAX_TIMEOUT_MS),
    );
  };

  return {
    start: () => {
      const upcoming: Date[] = [first];
      while (upcoming.length < NEXT_OCCURRENCES_LOGGED) upcoming.push(schedule.next(upcoming[upcoming.length - 1] ?? first));
      ctx.log.log('information', 'host', `${name}: timerTrigger "${schedule.expression}"${runOnStartup ? ', runOnStartup' : ''}; next occurrences: ${upcoming.map((d) => d.toISOString()).join(', ')}`);
      if (!runOnStartup) return arm();
      running = invoke('startup').catch(report).then(arm);
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
};

/** Timer triggers: NCRONTAB schedules, runOnStartup, one run at a time per function. */
export const createTimerComponent = (ctx: HostContext): HostComponent => {
  // Built here, so a bad schedule fails the host start with a message naming the function.
  const timers = functionsWithTrigger(ctx.invoker.registry, 'timerTrigger').map((fn) => createTimer(ctx, fn));
  return {
    name: 'timers',
    start: async () => timers.forEach((t) => t.start()),
    stop: async () => {
      await Promise.all(timers.map((t) => t.stop()));
    },
  };
};
