import type { AttemptResult } from '../../domain/outcome';
import type { HttpSender } from '../../ports/httpSender';

/*
 * A receiver that hangs costs more than one that fails: each request to it holds a worker slot for
 * the whole DELIVERY_TIMEOUT_MS, and a queue message holds its lease until every delivery in it has
 * finished. Enough of them and healthy receivers wait behind it (bench/README.md, isolation).
 *
 * After `threshold` timeouts in a row from one origin (scheme, host and port), requests to it are not
 * sent for `cooldownMs`: each comes back at once as a `CircuitOpen` network error, which the outcome
 * table retries on the delivery's normal schedule (an attempt like any other, so a dead receiver still
 * ends in poison after the schedule, and storage costs stay bounded). When the pause ends, one request
 * goes through as a probe: if it times out, the pause starts again; any other result, answer or error,
 * closes the circuit. The state lives in the process: each instance learns on its own, in a few requests.
 */

export type TimeoutBreakerOptions = {
  /** Timeouts in a row that open the circuit of an origin; 0 turns the breaker off. */
  readonly threshold: number;
  readonly cooldownMs: number;
  readonly now?: () => number;
};

type OriginState = { timeouts: number; openUntil?: number; probing: boolean };

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

export const withTimeoutBreaker = (inner: HttpSender, options: TimeoutBreakerOptions): HttpSender => {
  if (options.threshold <= 0) return inner;
  const now = options.now ?? Date.now;
  // Only origins with timeouts in progress are kept: a healthy origin leaves no entry behind.
  const origins = new Map<string, OriginState>();

  const shortCircuit = (origin: string, state: OriginState): AttemptResult => ({
    kind: 'NetworkError',
    error: 'CircuitOpen',
    message: `not sent: the last ${state.timeouts} requests to ${origin} timed out; paused until ${new Date(state.openUntil ?? now()).toISOString()}`,
    latencyMs: 0,
  });

  const settle = (origin: string, result: AttemptResult): void => {
    const timedOut = result.kind === 'NetworkError' && result.error === 'Timeout';
    if (!timedOut) {
      origins.delete(origin);
      return;
    }
    const state = origins.get(origin) ?? { timeouts: 0, probing: false };
    state.timeouts += 1;
    state.probing = false;
    if (state.timeouts >= options.threshold) state.openUntil = now() + options.cooldownMs;
    origins.set(origin, state);
  };

  return {
    send: (request) => () => {
      const origin = originOf(request.url);
      if (origin === undefined) return inner.send(request)();
      const state = origins.get(origin);
      if (state?.openUntil !== undefined) {
        // Open, or half-open with its one probe already out: nothing else goes.
        if (now() < state.openUntil || state.probing) return Promise.resolve(shortCircuit(origin, state));
        state.probing = true;
      }
      return inner
        .send(request)()
        .then((result) => {
          settle(origin, result);
          return result;
        });
    },
  };
};
