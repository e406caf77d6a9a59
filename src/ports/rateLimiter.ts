import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';

export type SlotRequest = {
  readonly webhookId: string;
  readonly ratePerSecond: number;
  /** Slots wanted at once: a message's deliveries to this webhook share one reservation. */
  readonly count: number;
  readonly now: Date;
};

/**
 * Reserves send slots of a rate-limited webhook in storage every instance shares (domain/rateLimit.ts);
 * answers the slots' times (epoch ms), in order. Only limited webhooks ever call it.
 */
export type RateLimiter = { readonly reserve: (request: SlotRequest) => TE.TaskEither<AppError, readonly number[]> };
