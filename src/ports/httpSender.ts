import type * as T from 'fp-ts/Task';
import type { AttemptResult } from '../domain/outcome';

/** One POST to a webhook endpoint (or a GET, for WebSub intent verification; its body is not sent). */
export type OutgoingRequest = {
  readonly url: string;
  readonly method?: 'POST' | 'GET';
  /** Sent as given: the caller merges the webhook's own headers with the signature headers. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The webhook's own `timeoutMs`; absent, the sender's DELIVERY_TIMEOUT_MS. */
  readonly timeoutMs?: number;
};

/**
 * The port the delivery use case sends through. It never fails: whatever the receiver does
 * (refuses, resets, hangs, answers 500 or a gigabyte) comes back as an AttemptResult.
 */
export type HttpSender = {
  readonly send: (request: OutgoingRequest) => T.Task<AttemptResult>;
};
