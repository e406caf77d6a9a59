import type * as T from 'fp-ts/Task';

/*
 * A per-process bound on the requests in flight to one endpoint (the webhook's URL):
 * MAX_INFLIGHT_REQUESTS_PER_ENDPOINT. The sender's sockets are pooled per origin
 * (MAX_CONNECTIONS_PER_ORIGIN) so that 10 000 webhooks on one receiver host reuse a few dozen
 * connections; without this bound one hanging URL on that host fills the pool for a whole
 * DELIVERY_TIMEOUT_MS and its healthy neighbours queue behind it (bench/results/isolation.md).
 * A request over the bound waits for a slot (first come, first served) at most `waitMs`; then the
 * caller holds the delivery back through the queue (docs/delivery.md, "Endpoint isolation").
 */

export type SlotAdmission =
  /** Send now; `release` frees the slot once the attempt is over. `waitedMs` > 0: time passed since the caller's checks. */
  | { readonly kind: 'Admitted'; readonly waitedMs: number; readonly release: () => void }
  /** Every slot of the endpoint stayed taken for `waitMs`. */
  | { readonly kind: 'Busy' };

export type EndpointSlots = {
  readonly acquire: (endpoint: string) => T.Task<SlotAdmission>;
  /** Requests in flight to the endpoint now (tests, diagnostics). */
  readonly inFlight: (endpoint: string) => number;
};

type Waiter = { readonly since: number; readonly admit: (waitedMs: number) => void; readonly timer: NodeJS.Timeout };
type Endpoint = { active: number; readonly waiting: Waiter[] };

/** The endpoint a URL names, spelled one way (as the timeout breaker keys it); an unparsable URL is its own key. */
export const endpointOf = (url: string): string => {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
};

export const endpointSlots = (input: { perEndpoint: number; waitMs: number; now?: () => number }): EndpointSlots => {
  const now = input.now ?? Date.now;
  // Only endpoints with requests in flight or waiting are kept: 10 000 quiet webhooks leave nothing behind.
  const endpoints = new Map<string, Endpoint>();

  const release = (key: string, state: Endpoint) => (): void => {
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
    const free = release(key, state);
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
      const state = endpoints.get(endpoint) ?? { active: 0, waiting: [] };
      endpoints.set(endpoint, state);
      if (state.active < input.perEndpoint) {
        state.active += 1;
        return Promise.resolve(admitted(endpoint, state, 0));
      }
      if (input.waitMs <= 0) return Promise.resolve<SlotAdmission>({ kind: 'Busy' });
      return new Promise<SlotAdmission>((resolve) => {
        const waiter: Waiter = {
          since: now(),
          admit: (waitedMs) => resolve(admitted(endpoint, state, waitedMs)),
          timer: setTimeout(() => {
            const at = state.waiting.indexOf(waiter);
            if (at >= 0) state.waiting.splice(at, 1);
            resolve({ kind: 'Busy' });
          }, input.waitMs),
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
