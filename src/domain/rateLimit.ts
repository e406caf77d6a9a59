import { MAX_QUEUE_VISIBILITY_DELAY_SECONDS } from './backoff';

/*
 * A webhook's `rateLimitPerSecond` as send slots (docs/delivery.md, "Rate limits"). Slots are spaced
 * 1000/rate ms apart and reserved in one shared row (a generic cell rate algorithm: the row holds
 * the next free slot), so every instance draws from the same schedule. A delivery whose slot is
 * near waits for it in the invocation; one further off is held back through the queue's visibility
 * delay, keeping its slot, and is neither dropped nor counted as an attempt.
 */

/** The one number the shared row keeps: when the next free slot starts (epoch ms). */
export type SlotState = { readonly nextFreeMs: number };

/** Reserves `count` consecutive slots from now or the next free one, whichever is later. */
export const reserveSlots = (input: { state: SlotState | undefined; ratePerSecond: number; count: number; nowMs: number }): { slots: number[]; next: SlotState } => {
  const interval = 1000 / input.ratePerSecond;
  const start = Math.max(input.state?.nextFreeMs ?? 0, input.nowMs);
  const slots = Array.from({ length: input.count }, (_, i) => start + i * interval);
  return { slots, next: { nextFreeMs: start + input.count * interval } };
};

/**
 * How long an invocation may wait for a slot itself. Longer waits go back to the queue: a waiting
 * invocation holds one of the host's concurrent slots, which the other webhooks' deliveries need.
 */
export const WAIT_IN_INVOCATION_MS = 1000;

export type Pace =
  /** Send after waiting this long (0: now). */
  | { readonly kind: 'SendAfter'; readonly waitMs: number }
  /** Back to the queue, visible again after `delaySeconds`, still holding the slot at `slotMs` (none: it reserves again). */
  | { readonly kind: 'Hold'; readonly delaySeconds: number; readonly slotMs?: number };

/**
 * What to do with a delivery whose slot is `slotMs`. The delay is rounded down, so the message comes
 * back before its slot (at most WAIT_IN_INVOCATION_MS early, plus the queue's polling lag late) and
 * waits the rest in the invocation: sends keep their spacing instead of arriving a second at a time.
 */
export const paceFor = (slotMs: number, nowMs: number): Pace => {
  const waitMs = Math.max(0, slotMs - nowMs);
  if (waitMs <= WAIT_IN_INVOCATION_MS) return { kind: 'SendAfter', waitMs };
  return { kind: 'Hold', delaySeconds: Math.min(MAX_QUEUE_VISIBILITY_DELAY_SECONDS, Math.floor(waitMs / 1000)), slotMs };
};

/** When a reservation cannot be made (storage down), the delivery tries again this much later, unsent and uncounted. */
export const HOLD_ON_ERROR_SECONDS = 5;
