import * as TE from 'fp-ts/TaskEither';
import { addObservation, emptyCounters, hourOf, type StatsObservation } from '../../../domain/deliveryStats';
import type { DeliveryStats } from '../../../ports/deliveryStats';

/** For unit tests: every observation kept, summed on read. */
export const memoryDeliveryStats = (): DeliveryStats & { readonly observations: StatsObservation[] } => {
  const observations: StatsObservation[] = [];
  return {
    observations,
    record: (batch) => TE.fromIO(() => void observations.push(...batch)),
    read: ({ webhookId, since }) => TE.fromIO(() => observations.filter((o) => o.webhookId === webhookId && hourOf(o.at) >= hourOf(since)).reduce(addObservation, emptyCounters())),
  };
};
