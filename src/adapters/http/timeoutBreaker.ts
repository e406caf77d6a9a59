import { endpointKeyOf } from '../../domain/destination';
import type { AttemptResult } from '../../domain/outcome';
import type { HttpSender } from '../../ports/httpSender';

/*
 * A receiver that hangs costs more than one that fails: each request to it holds a worker slot for
 * the whole DELIVERY_TIMEOUT_MS, and a queue message holds its lease until every delivery in it has
 * finished. Enough of them and healthy receivers wait behind it (bench/README.md, isolation).
 *
 * After `threshold` timeouts in a row from one endpoint (the receiver's URL), requests to it are not
 * sent for `cooldownMs`: each comes back at once as a `CircuitOpen` network error, which the outcome
 * table retries on the delivery's normal schedule (an attempt like any other, so a dead receiver still
 * ends in poison after the schedule, and storage costs stay bounded). When the pause ends, one request
 * goes through as a probe: if it times out, the pause starts again; any other result, answer or error,
 * closes the circuit. The state lives in the process: each instance learns on its own, in a few requests.
 * Keyed per endpoint, not per endpoint: receivers of many tenants share an endpoint (one SaaS host), and a
 * healthy one's answers would otherwise both reset a hanging neighbour's count and, once it tripped,
 * be paused with it (src/__tests__/faults/receivers.test.ts, one endpoint).
 */

export type TimeoutBreakerOptions = {
  /** Timeouts in a row that open the circuit of an endpoint; 0 turns the breaker off. */
  readonly threshold: number;
  readonly cooldownMs: number;
  readonly now?: () => number;
};

type EndpointState = { timeouts: number; openUntil?: number; probing: boolean };

export const withTimeoutBreaker = (inner: HttpSender, options: TimeoutBreakerOptions): HttpSender => {
  if (options.threshold <= 0) return inner;
  const now = options.now ?? Date.now;
  // Only endpoints with timeouts in progress are kept: a healthy endpoint leaves no entry behind.
  const endpoints = new Map<string, EndpointState>();

  const shortCircuit = (endpoint: string, state: EndpointState): AttemptResult => ({
    kind: 'NetworkError',
    error: 'CircuitOpen',
    message: `not sent: the last ${state.timeouts} requests to ${endpoint} timed out; paused until ${new Date(state.openUntil ?? now()).toISOString()}`,
    latencyMs: 0,
  });

  const settle = (endpoint: string, result: AttemptResult): void => {
    const timedOut = result.kind === 'NetworkError' && result.error === 'Timeout';
    if (!timedOut) {
      endpoints.delete(endpoint);
      return;
    }
    const state = endpoints.get(endpoint) ?? { timeouts: 0, probing: false };
    state.timeouts += 1;
    state.probing = false;
    if (state.timeouts >= options.threshold) state.openUntil = now() + options.cooldownMs;
    endpoints.set(endpoint, state);
  };

  return {
    send: (request) => () => {
      const endpoint = endpointKeyOf(request.url);
      if (endpoint === undefined) return inner.send(request)();
      const state = endpoints.get(endpoint);
      if (state?.openUntil !== undefined) {
        // Open, or half-open with its one probe already out: nothing else goes.
        if (now() < state.openUntil || state.probing) return Promise.resolve(shortCircuit(endpoint, state));
        state.probing = true;
      }
      return inner
        .send(request)()
        .then((result) => {
          settle(endpoint, result);
          return result;
        });
    },
  };
};
