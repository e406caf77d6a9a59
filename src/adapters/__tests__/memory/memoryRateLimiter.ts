import * as TE from 'fp-ts/TaskEither';
import { reserveSlots, type SlotState } from '../../../domain/rateLimit';
import type { RateLimiter } from '../../../ports/rateLimiter';

/** The shared slot rows in memory, for unit tests; `reservations` counts the calls (the storage operations it stands for). */
export const memoryRateLimiter = (): RateLimiter & { readonly reservations: () => number } => {
  const rows = new Map<string, SlotState>();
  let reservations = 0;
  return {
    reserve: (request) =>
      TE.fromIO(() => {
        reservations++;
        const { slots, next } = reserveSlots({ state: rows.get(request.webhookId), ratePerSecond: request.ratePerSecond, count: request.count, nowMs: request.now.getTime() });
        rows.set(request.webhookId, next);
        return slots;
      }),
    reservations: () => reservations,
  };
};
