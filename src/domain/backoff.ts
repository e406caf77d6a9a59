/**
 * The retry schedule of a delivery. Pure: the clock and the random source are arguments.
 *
 * Default, after Svix (the hosted service that defined Standard Webhooks): a first retry within
 * seconds catches blips (a deploy, a dropped connection), minutes cover a restart, hours cover an
 * outage; 7 retries over about 27.6 hours in all, so a receiver down for a day still gets
 * everything, while a dead endpoint costs only 8 attempts per delivery.
 */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: ReadonlyArray<number> = [
  5, // 5 s
  5 * 60, // 5 min
  30 * 60, // 30 min
  2 * 3600, // 2 h
  5 * 3600, // 5 h
  10 * 3600, // 10 h
  10 * 3600, // 10 h
];

/** ±20%: enough to spread a burst of failures to one receiver over time, small enough to keep the schedule's shape. */
export const DEFAULT_RETRY_JITTER_RATIO = 0.2;

/** An Azure Storage queue message cannot stay invisible longer than 7 days. */
export const MAX_QUEUE_VISIBILITY_DELAY_SECONDS = 7 * 24 * 3600;

export type RetryPolicy = {
  /** Delay before retry n (n from 1) is `scheduleSeconds[n - 1]`; its length is the number of retries. */
  readonly scheduleSeconds: ReadonlyArray<number>;
  /** Each scheduled delay is scaled by a random factor in [1 - ratio, 1 + ratio). */
  readonly jitterRatio: number;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  scheduleSeconds: DEFAULT_RETRY_SCHEDULE_SECONDS,
  jitterRatio: DEFAULT_RETRY_JITTER_RATIO,
};

export type RetryDecision = { readonly kind: 'Retry'; readonly delaySeconds: number } | { readonly kind: 'Exhausted' };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// The three HTTP-date forms a recipient must accept (RFC 9110 section 5.6.7), all in GMT.
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE = /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

type DateParts = { year: number; month: string; day: string; hour: string; minute: string; second: string };

const toEpochMs = ({ year, month, day, hour, minute, second }: DateParts): number | undefined => {
  const monthIndex = MONTHS.indexOf(month);
  if (monthIndex < 0) return undefined;
  const [d, h, m, s] = [day, hour, minute, second].map((x) => Number(x.trim())) as [number, number, number, number];
  if (d < 1 || d > 31 || h > 23 || m > 59 || s > 60) return undefined;
  return Date.UTC(year, monthIndex, d, h, m, s);
};

const parseHttpDate = (value: string, now: Date): number | undefined => {
  const imf = IMF_FIXDATE.exec(value);
  if (imf) {
    const [, day, month, year, hour, minute, second] = imf as unknown as string[];
    return toEpochMs({ year: Number(year), month: month!, day: day!, hour: hour!, minute: minute!, second: second! });
  }
  const rfc850 = RFC850_DATE.exec(value);
  if (rfc850) {
    const [, day, month, yy, hour, minute, second] = rfc850 as unknown as string[];
    // Two-digit years: the one in the current century, unless that is more than 50 years ahead (RFC 9110).
    const century = Math.floor(now.getUTCFullYear() / 100) * 100;
    const year = century + Number(yy) > now.getUTCFullYear() + 50 ? century - 100 + Number(yy) : century + Number(yy);
    return toEpochMs({ year, month: month!, day: day!, hour: hour!, minute: minute!, second: second! });
  }
  const asctime = ASCTIME_DATE.exec(value);
  if (asctime) {
    const [, month, day, hour, minute, second, year] = asctime as unknown as string[];
    return toEpochMs({ year: Number(year), month: month!, day: day!, hour: hour!, minute: minute!, second: second! });
  }
  return undefined;
};

/**
 * `Retry-After` as whole seconds from `now`: delta-seconds or an HTTP-date (a past date gives 0).
 * Anything else gives undefined, and the schedule applies.
 */
export const parseRetryAfter = (value: string, now: Date): number | undefined => {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = parseHttpDate(text, now);
  return at === undefined ? undefined : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
};

export type NextDelayInput = {
  readonly policy: RetryPolicy;
  /** Attempts made so far, counting the one that just failed: 1 after the first attempt. */
  readonly attempt: number;
  /** The receiver's raw `Retry-After` header, if any. */
  readonly retryAfter?: string;
  readonly now: Date;
  /** A number in [0, 1); Math.random unless a test pins it. */
  readonly random?: () => number;
  /** The webhook's own cap on attempts (domain/endpointControls.ts); absent = the whole schedule. */
  readonly maxAttempts?: number;
};

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

/**
 * The delay before the next attempt, or Exhausted when the schedule is used up.
 * `Retry-After` means "not before": it can lengthen the scheduled delay but never shorten it, so a
 * receiver cannot make us retry faster than the schedule, and it is clamped to the schedule's
 * largest step so a receiver cannot park a delivery for longer than we would ourselves.
 */
export const nextDelay = ({ policy, attempt, retryAfter, now, random = Math.random, maxAttempts }: NextDelayInput): RetryDecision => {
  if (maxAttempts !== undefined && attempt >= maxAttempts) return { kind: 'Exhausted' };
  const scheduled = policy.scheduleSeconds[Math.max(1, Math.floor(attempt)) - 1];
  if (scheduled === undefined) return { kind: 'Exhausted' };
  const ratio = clamp(policy.jitterRatio, 0, 1);
  const jittered = scheduled * (1 + ratio * (2 * clamp(random(), 0, 1) - 1));
  const maxStep = Math.max(...policy.scheduleSeconds);
  const requested = retryAfter === undefined ? undefined : parseRetryAfter(retryAfter, now);
  const honoured = requested === undefined ? 0 : clamp(requested, 0, maxStep);
  const delaySeconds = Math.round(clamp(Math.max(jittered, honoured), 0, MAX_QUEUE_VISIBILITY_DELAY_SECONDS));
  return { kind: 'Retry', delaySeconds };
};
