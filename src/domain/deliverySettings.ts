import * as t from 'io-ts';
import { IntegerFromString } from './stringCodecs';
import { DEFAULT_RETRY_JITTER_RATIO, DEFAULT_RETRY_SCHEDULE_SECONDS, MAX_QUEUE_VISIBILITY_DELAY_SECONDS, RetryPolicy } from './backoff';

/*
 * The delivery settings, as codecs from the environment's strings, in the shape of src/config.ts
 * (SETTINGS + DEFAULTS): spread DELIVERY_SETTINGS into SETTINGS and DELIVERY_DEFAULTS into DEFAULTS.
 * ALLOW_PRIVATE_DESTINATIONS is already there.
 */

export const DEFAULT_DELIVERY_TIMEOUT_MS = 15_000;
/** Enough for an error message from the receiver; the attempt log keeps it, and storage is the cost. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4096;
/** Bounds the sockets one slow receiver can hold; further requests to it wait for a free one. */
export const DEFAULT_MAX_CONNECTIONS_PER_ORIGIN = 32;
/**
 * Requests one process has in flight to one endpoint (webhook URL): a quarter of an origin's sockets,
 * so a hanging URL leaves the rest to its neighbours on the same host (docs/delivery.md, "Endpoint isolation").
 */
export const DEFAULT_MAX_INFLIGHT_REQUESTS_PER_ENDPOINT = 8;
/** Timeouts in a row after which an origin is paused (src/adapters/http/timeoutBreaker.ts); 0 = never. */
export const DEFAULT_CIRCUIT_BREAKER_TIMEOUTS = 3;
export const DEFAULT_CIRCUIT_BREAKER_COOLDOWN_MS = 30_000;

const integerFromString = (min: number, max: number): t.Type<number, string, unknown> => IntegerFromString({ min, max });

/** `RETRY_SCHEDULE_SECONDS`: "5,300,1800" = retry after 5 s, then 5 min, then 30 min. */
export const RetryScheduleFromString = new t.Type<ReadonlyArray<number>, string, unknown>(
  `a comma-separated list of 1 to 50 delays in whole seconds, each from 0 to ${MAX_QUEUE_VISIBILITY_DELAY_SECONDS}`,
  (u): u is ReadonlyArray<number> => Array.isArray(u) && u.every((n) => Number.isInteger(n) && n >= 0 && n <= MAX_QUEUE_VISIBILITY_DELAY_SECONDS),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c);
    const parts = u.split(',').map((p) => p.trim());
    if (parts.length > 50 || !parts.every((p) => /^[0-9]{1,7}$/.test(p))) return t.failure(u, c);
    const seconds = parts.map(Number);
    return seconds.every((s) => s <= MAX_QUEUE_VISIBILITY_DELAY_SECONDS) ? t.success(seconds) : t.failure(u, c);
  },
  (a) => a.join(','),
);

/** `RETRY_JITTER_RATIO`: 0.2 = each delay is scaled by a random factor in [0.8, 1.2). */
export const RatioFromString = new t.Type<number, string, unknown>(
  'a number from 0 to 1',
  (u): u is number => typeof u === 'number' && u >= 0 && u <= 1,
  (u, c) => {
    if (typeof u !== 'string' || !/^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(u.trim())) return t.failure(u, c);
    const n = Number(u.trim());
    return n >= 0 && n <= 1 ? t.success(n) : t.failure(u, c);
  },
  String,
);

export const DELIVERY_SETTINGS = {
  /** Covers the whole attempt: connect, headers and the (capped) body. */
  DELIVERY_TIMEOUT_MS: integerFromString(100, 300_000),
  RETRY_SCHEDULE_SECONDS: RetryScheduleFromString,
  RETRY_JITTER_RATIO: RatioFromString,
  /** Table Storage keeps at most 64 KB per string property; a response excerpt needs far less. */
  MAX_RESPONSE_BYTES: integerFromString(0, 32 * 1024),
  MAX_CONNECTIONS_PER_ORIGIN: integerFromString(1, 1024),
  /** At most MAX_CONNECTIONS_PER_ORIGIN (src/config.ts checks it). */
  MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: integerFromString(1, 1024),
  CIRCUIT_BREAKER_TIMEOUTS: integerFromString(0, 1000),
  CIRCUIT_BREAKER_COOLDOWN_MS: integerFromString(100, 3_600_000),
};

export const DELIVERY_DEFAULTS: Record<keyof typeof DELIVERY_SETTINGS, string> = {
  DELIVERY_TIMEOUT_MS: String(DEFAULT_DELIVERY_TIMEOUT_MS),
  RETRY_SCHEDULE_SECONDS: DEFAULT_RETRY_SCHEDULE_SECONDS.join(','),
  RETRY_JITTER_RATIO: String(DEFAULT_RETRY_JITTER_RATIO),
  MAX_RESPONSE_BYTES: String(DEFAULT_MAX_RESPONSE_BYTES),
  MAX_CONNECTIONS_PER_ORIGIN: String(DEFAULT_MAX_CONNECTIONS_PER_ORIGIN),
  MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: String(DEFAULT_MAX_INFLIGHT_REQUESTS_PER_ENDPOINT),
  CIRCUIT_BREAKER_TIMEOUTS: String(DEFAULT_CIRCUIT_BREAKER_TIMEOUTS),
  CIRCUIT_BREAKER_COOLDOWN_MS: String(DEFAULT_CIRCUIT_BREAKER_COOLDOWN_MS),
};

export const DeliverySettings = t.type(DELIVERY_SETTINGS, 'DeliverySettings');
export type DeliverySettings = t.TypeOf<typeof DeliverySettings>;

export const retryPolicyOf = (settings: Pick<DeliverySettings, 'RETRY_SCHEDULE_SECONDS' | 'RETRY_JITTER_RATIO'>): RetryPolicy => ({
  scheduleSeconds: settings.RETRY_SCHEDULE_SECONDS,
  jitterRatio: settings.RETRY_JITTER_RATIO,
});
