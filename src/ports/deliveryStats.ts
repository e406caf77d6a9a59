import type * as TE from 'fp-ts/TaskEither';
import type { StatsCounters, StatsObservation } from '../domain/deliveryStats';
import type { AppError } from '../domain/errors';

/** Counters kept as deliveries finish (docs/delivery.md, "Endpoint stats"). */
export type DeliveryStats = {
  /** Adds one message's attempts: at most one write per webhook in it; best effort. */
  record(observations: readonly StatsObservation[]): TE.TaskEither<AppError, void>;
  /** The sum of one webhook's counters from the hour holding `since` on. */
  read(query: { webhookId: string; since: Date }): TE.TaskEither<AppError, StatsCounters>;
};
