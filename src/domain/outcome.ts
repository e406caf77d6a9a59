import * as t from 'io-ts';
import { nextDelay, RetryPolicy } from './backoff';

/**
 * What one delivery attempt produced, and what to do about it: the outcome table lives in
 * `classifyAttempt` (one exhaustive switch), and `decide` adds the retry schedule.
 * The types are codecs because attempts and poison reasons are stored and read back.
 */

/** Why no HTTP status came back. */
export const NetworkErrorKind = t.keyof({
  /** No complete status line and headers within the timeout (connect included). */
  Timeout: null,
  ConnectionRefused: null,
  /** The connection closed or reset before the status line arrived. */
  ConnectionReset: null,
  /** The host name did not resolve (ENOTFOUND, EAI_AGAIN). */
  DnsFailure: null,
  /** No route to the host or network. */
  Unreachable: null,
  /** Handshake or certificate failure. */
  Tls: null,
  /** Refused by us before connecting: the address is private, loopback, link-local... (SSRF guard). */
  DestinationNotAllowed: null,
  /** Not sent: the receiver's last requests timed out, and its origin is paused (src/adapters/http/timeoutBreaker.ts). */
  CircuitOpen: null,
  /** Not an absolute http(s) URL we can send to. */
  InvalidUrl: null,
  /** The request itself cannot be sent (a header name or value HTTP does not allow). */
  InvalidRequest: null,
  Other: null,
});
export type NetworkErrorKind = t.TypeOf<typeof NetworkErrorKind>;

/** How far the (capped) response body was read; the status decides the outcome either way. */
export const BodyRead = t.keyof({ Complete: null, Capped: null, TimedOut: null, Failed: null });
export type BodyRead = t.TypeOf<typeof BodyRead>;

export const ResponseAttempt = t.intersection([
  t.type({
    kind: t.literal('Response'),
    status: t.number,
    latencyMs: t.number,
    /** The start of the body as UTF-8 text, capped and with control characters replaced. */
    excerpt: t.string,
    bodyRead: BodyRead,
  }),
  t.partial({
    retryAfter: t.string,
    location: t.string,
    /** The media type the receiver declared (`text/html`), lower case, parameters dropped. */
    contentType: t.string,
    /** Body bytes read, at most the cap (bodyRead says whether there were more). */
    bodyBytes: t.number,
  }),
]);
export type ResponseAttempt = t.TypeOf<typeof ResponseAttempt>;

/**
 * What the attempt log and its API keep of a result: status, timing, type and length, never the
 * body text. With private destinations allowed, a receiver can be one of our own services, and its
 * answer (a status document, Azurite's XML) must not be echoed to the webhook's owner. Queue
 * messages and poison entries, read by ops only, still carry a short sanitized excerpt.
 */
export const loggedResult = (result: AttemptResult): AttemptResult => (result.kind === 'Response' ? { ...result, excerpt: '' } : result);

export const NetworkErrorAttempt = t.type({
  kind: t.literal('NetworkError'),
  error: NetworkErrorKind,
  /** A short, sanitized description (error code and message) for the attempt log. */
  message: t.string,
  latencyMs: t.number,
});
export type NetworkErrorAttempt = t.TypeOf<typeof NetworkErrorAttempt>;

export const AttemptResult = t.union([ResponseAttempt, NetworkErrorAttempt]);
export type AttemptResult = t.TypeOf<typeof AttemptResult>;

/** Why a delivery failed for good, without spending the retry schedule. */
export const PermanentReason = t.union([
  /** A 4xx other than 408, 410 and 429: the receiver refuses this request, and would again. */
  t.type({ kind: t.literal('Rejected'), status: t.number }),
  /**
   * A 3xx. Redirects are not followed (the target was not checked by the SSRF guard, and a POST
   * must not silently turn into a GET); the URL moved, and retrying the old one will not fix it:
   * the webhook's owner has to update it.
   */
  t.intersection([t.type({ kind: t.literal('Redirected'), status: t.number }), t.partial({ location: t.string })]),
  /** 1xx as a final status, or above 599: not HTTP we can interpret. */
  t.type({ kind: t.literal('UnexpectedStatus'), status: t.number }),
  t.type({ kind: t.literal('DestinationNotAllowed'), message: t.string }),
  t.type({ kind: t.literal('InvalidUrl'), message: t.string }),
  t.type({ kind: t.literal('InvalidRequest'), message: t.string }),
]);
export type PermanentReason = t.TypeOf<typeof PermanentReason>;

/** Why a delivery is in `deliveries-poison`. */
export const PoisonReason = t.union([t.type({ kind: t.literal('AttemptsExhausted'), attempts: t.number }), PermanentReason]);
export type PoisonReason = t.TypeOf<typeof PoisonReason>;

export type Outcome =
  | { readonly kind: 'Delivered' }
  /** Transient: try again later; `retryAfter` is the receiver's raw header, if any. */
  | { readonly kind: 'Retry'; readonly retryAfter?: string }
  /** 410: the receiver says the endpoint is gone for good; disable the webhook, stop. */
  | { readonly kind: 'Gone' }
  | { readonly kind: 'Permanent'; readonly reason: PermanentReason };

const absurd = (x: never): never => {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
};

const classifyStatus = (response: ResponseAttempt): Outcome => {
  const { status } = response;
  if (status >= 200 && status <= 299) return { kind: 'Delivered' };
  if (status === 410) return { kind: 'Gone' };
  // 408 and 429 say "not now"; 5xx is the receiver's own trouble: all may pass.
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) {
    return response.retryAfter === undefined ? { kind: 'Retry' } : { kind: 'Retry', retryAfter: response.retryAfter };
  }
  if (status >= 400 && status <= 499) return { kind: 'Permanent', reason: { kind: 'Rejected', status } };
  if (status >= 300 && status <= 399) {
    return {
      kind: 'Permanent',
      reason: response.location === undefined ? { kind: 'Redirected', status } : { kind: 'Redirected', status, location: response.location },
    };
  }
  return { kind: 'Permanent', reason: { kind: 'UnexpectedStatus', status } };
};

const classifyNetworkError = ({ error, message }: NetworkErrorAttempt): Outcome => {
  switch (error) {
    // Transient by nature, or possibly so (DNS and TLS failures are often a deploy or a renewal
    // away from working): the schedule bounds what they cost.
    case 'Timeout':
    case 'ConnectionRefused':
    case 'ConnectionReset':
    case 'DnsFailure':
    case 'Unreachable':
    case 'Tls':
    case 'CircuitOpen':
    case 'Other':
      return { kind: 'Retry' };
    // Nothing about these changes by waiting: the same request would be refused again.
    case 'DestinationNotAllowed':
    case 'InvalidUrl':
    case 'InvalidRequest':
      return { kind: 'Permanent', reason: { kind: error, message } };
    default:
      return absurd(error);
  }
};

/** The outcome table. */
export const classifyAttempt = (result: AttemptResult): Outcome => {
  switch (result.kind) {
    case 'Response':
      return classifyStatus(result);
    case 'NetworkError':
      return classifyNetworkError(result);
    default:
      return absurd(result);
  }
};

export type Decision =
  | { readonly kind: 'Delivered' }
  /** Re-enqueue the delivery with this visibility delay, then complete the current message. */
  | { readonly kind: 'RetryLater'; readonly delaySeconds: number }
  /** 410: disable the webhook; the delivery ends (not poisoned: there is nothing left to redrive to). */
  | { readonly kind: 'DisableWebhook' }
  | { readonly kind: 'Poison'; readonly reason: PoisonReason };

export type DecideInput = {
  readonly result: AttemptResult;
  /** Attempts made so far, counting this one: 1 after the first. */
  readonly attempt: number;
  readonly policy: RetryPolicy;
  readonly now: Date;
  readonly random?: () => number;
  /** The webhook's `maxAttempts`: exhausted after that many, as after the whole schedule. */
  readonly maxAttempts?: number;
};

/** What the delivery function does after an attempt. */
export const decide = ({ result, attempt, policy, now, random, maxAttempts }: DecideInput): Decision => {
  const outcome = classifyAttempt(result);
  switch (outcome.kind) {
    case 'Delivered':
      return { kind: 'Delivered' };
    case 'Gone':
      return { kind: 'DisableWebhook' };
    case 'Permanent':
      return { kind: 'Poison', reason: outcome.reason };
    case 'Retry': {
      const next = nextDelay({ policy, attempt, now, retryAfter: outcome.retryAfter, random, maxAttempts });
      return next.kind === 'Retry' ? { kind: 'RetryLater', delaySeconds: next.delaySeconds } : { kind: 'Poison', reason: { kind: 'AttemptsExhausted', attempts: attempt } };
    }
    default:
      return absurd(outcome);
  }
};
