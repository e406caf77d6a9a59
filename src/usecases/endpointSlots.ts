import { endpointKeyOf } from '../domain/destination';
import type * as T from 'fp-ts/Task';

/*
 * A per-process bound on the requests in flight to one endpoint (the webhook's URL):
 * MAX_INFLIGHT_REQUESTS_PER_ENDPOINT. The sender's sockets are pooled per origin
 * (MAX_CONNECTIONS_PER_ORIGIN) so that 10 000 webhooks on one receiver host reuse a few dozen
 * connections; without this bound one hanging URL on that host fills the pool for a whole
 * DELIVERY_TIMEOUT_MS and its healthy neighbours queue behind it (bench/results/isolation.md).
 * A request over the bound waits for a slot (first come, first served). It is held back through the
 * queue (docs/delivery.md, "Endpoint isolation") only if the endpoint is slow: after `waitMs`, its
 * oldest request in flight has been so for `slowMs` or more. An endpoint whose requests are merely
 * queued behind the origin's sockets (a burst to many webhooks of one receiver, a busy host) keeps
 * its waiters: sending them back for seconds cost fan-out 100 three quarters of its rate (bench).
 */

export type SlotAdmission =
  /** Send now; `release` frees the slot once the attempt is over. `waitedMs` > 0: time passed since the caller's checks. */
  | { readonly kind: 'Admitted'; readonly waitedMs: number; readonly release: () => void }
  /** Every slot of the endpoint stayed taken for `waitMs`, and its oldest request has been in flight for `slowMs`. */
  | { readonly kind: 'Busy' };

export type EndpointSlots = {
  readonly acquire: (endpoint: string) => T.Task<SlotAdmission>;
  /** Requests in flight to the endpoint now (tests, diagnostics). */
  readonly inFlight: (endpoint: string) => number;
};

type Waiter = { readonly since: number; readonly admit: (waitedMs: number) => void; timer: NodeJS.Timeout };
/** `started`: when each request in flight took its slot (a slot handed to a waiter starts again). */
type Endpoint = { active: number; readonly started: number[]; readonly waiting: Waiter[] };

/** The endpoint a URL names, spelled one way (as the timeout breaker keys it); an unparsable URL is its own key. */
export const endpointOf = (url: string): string => endpointKeyOf(url) ?? url;

export const endpointSlots = (input: { perEndpoint: number; waitMs: number; slowMs?: number; now?: () => number }): EndpointSlots => {
  const now = input.now ?? Date.now;
  const slowMs = input.slowMs ?? SLOW_ENDPOINT_MS;
  // Only endpoints with requests in flight or waiting are kept: 10 000 quiet webhooks leave nothing behind.
  const endpoints = new Map<string, Endpoint>();

  const release = (key: string, state: Endpoint, startedAt: number) => (): void => {
    state.started.splice(state.started.indexOf(startedAt), 1);
    const next = state.waiting.shift();
    if (next !== undefined) {
      // The slot passes straight to the longest waiter: `active` stays as it is.
      clearTimeout(next.timer);
      next.admit(Math.max(1, now() - next.since));
      return;
    }
    state.active -= 1;
    if (state.active === 0) endpoints.delete(key);
  };

  const admitted = (key: string, state: Endpoint, waitedMs: number): SlotAdmission => {
    let released = false;
    const startedAt = now();
    state.started.push(startedAt);
    const free = release(key, state, startedAt);
    return {
      kind: 'Admitted',
      waitedMs,
      release: () => {
        // Twice would hand out a slot that is still taken.
        if (released) return;
        released = true;
        free();
      },
    };
  };

  return {
    inFlight: (endpoint) => endpoints.get(endpoint)?.active ?? 0,
    acquire: (endpoint) => () => {
      const state = endpoints.get(endpoint) ?? { active: 0, started: [], waiting: [] };
      endpoints.set(endpoint, state);
      if (state.active < input.perEndpoint) {
        state.active += 1;
        return Promise.resolve(admitted(endpoint, state, 0));
      }
      if (input.waitMs <= 0) return Promise.resolve<SlotAdmission>({ kind: 'Busy' });
      return new Promise<SlotAdmission>((resolve) => {
        // After `waitMs`, and again until then: busy only once the oldest request in flight is `slowMs` old.
        const check = (): void => {
          const oldestAgeMs = now() - Math.min(...state.started);
          if (oldestAgeMs < slowMs) {
            waiter.timer = setTimeout(check, Math.max(1, slowMs - oldestAgeMs));
            return;
          }
          const at = state.waiting.indexOf(waiter);
          if (at >= 0) state.waiting.splice(at, 1);
          resolve({ kind: 'Busy' });
        };
        const waiter: Waiter = {
          since: now(),
          admit: (waitedMs) => resolve(admitted(endpoint, state, waitedMs)),
          timer: setTimeout(check, input.waitMs),
        };
        state.waiting.push(waiter);
      });
    },
  };
};

/**
 * A delivery that found its endpoint's slots taken for the whole wait comes back this much later,
 * unsent and uncounted: long enough that a hanging endpoint's held deliveries cost a queue round
 * trip every few seconds, not a busy loop, until its timeouts open the breaker.
 */
export const HOLD_BUSY_ENDPOINT_SECONDS = 5;

/**
 * An endpoint is slow when a request to it has been in flight this long: far above a healthy
 * receiver's answer (tens of ms) plus the wait for one of the origin's sockets in a burst (under a
 * second in the bench's fan-out 100), far below DELIVERY_TIMEOUT_MS, which a hanging one holds.
 */
export const SLOW_ENDPOINT_MS = 2000;
