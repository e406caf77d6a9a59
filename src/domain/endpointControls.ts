import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import type { RetryPolicy } from './backoff';
import { type AppError, invalid } from './errors';

/*
 * Per-webhook delivery controls (docs/api.md, "Per-endpoint controls"): a rate limit, a cap on
 * attempts and the body format. Absent, each keeps today's behaviour (no limit, the whole retry
 * schedule, the pagopa body). `timeoutMs` sits in ./webhook beside them (it came first).
 */

export const MIN_RATE_LIMIT_PER_SECOND = 1;
/** Beyond this a limit would be below what one instance sends anyway; it bounds the reservation row's arithmetic too. */
export const MAX_RATE_LIMIT_PER_SECOND = 1000;

export const RateLimitPerSecond = t.refinement(
  t.number,
  (n) => Number.isInteger(n) && n >= MIN_RATE_LIMIT_PER_SECOND && n <= MAX_RATE_LIMIT_PER_SECOND,
  `a rate in whole deliveries per second from ${MIN_RATE_LIMIT_PER_SECOND} to ${MAX_RATE_LIMIT_PER_SECOND}`,
);
export type RateLimitPerSecond = t.TypeOf<typeof RateLimitPerSecond>;

/** RETRY_SCHEDULE_SECONDS holds at most 50 delays: 51 attempts is the most any schedule allows. */
export const MAX_ATTEMPTS_ANY_SCHEDULE = 51;

/** Attempts the global schedule makes: the first one, then one per delay. */
export const scheduleAttempts = (policy: Pick<RetryPolicy, 'scheduleSeconds'>): number => policy.scheduleSeconds.length + 1;

/**
 * The codec bounds it by the longest schedule; the registry then checks it against the configured
 * one (`checkMaxAttempts`), whose length the codec cannot know.
 */
export const MaxAttempts = t.refinement(
  t.number,
  (n) => Number.isInteger(n) && n >= 1 && n <= MAX_ATTEMPTS_ANY_SCHEDULE,
  `a whole number of attempts from 1 to the retry schedule's attempts (RETRY_SCHEDULE_SECONDS delays + 1; never more than ${MAX_ATTEMPTS_ANY_SCHEDULE})`,
);
export type MaxAttempts = t.TypeOf<typeof MaxAttempts>;

export const BODY_FORMATS = ['pagopa', 'standard', 'cloudevents'] as const;
export const BodyFormat = t.keyof({ pagopa: null, standard: null, cloudevents: null }, 'BodyFormat');
export type BodyFormat = t.TypeOf<typeof BodyFormat>;
export const DEFAULT_BODY_FORMAT: BodyFormat = 'pagopa';

/**
 * Refuses a `maxAttempts` above the configured schedule's attempts (absent `allowed`: no check).
 * The worker also caps it (the schedule may shrink after the webhook was written).
 */
export const checkMaxAttempts =
  (allowed: number | undefined, what: string) =>
  <A extends { readonly maxAttempts?: number }>(input: A): E.Either<AppError, A> =>
    allowed === undefined || input.maxAttempts === undefined || input.maxAttempts <= allowed
      ? E.right(input)
      : E.left(invalid(`${what} is invalid`, [`maxAttempts: must be a whole number of attempts from 1 to ${allowed} (the retry schedule's attempts)`]));

/** The attempts a delivery to this webhook gets: its own cap within the schedule, else the schedule's. */
export const attemptsAllowed = (policy: Pick<RetryPolicy, 'scheduleSeconds'>, maxAttempts: number | undefined): number => Math.min(scheduleAttempts(policy), maxAttempts ?? Number.POSITIVE_INFINITY);
