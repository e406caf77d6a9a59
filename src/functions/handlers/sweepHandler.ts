import type { InvocationContext, Timer } from '@azure/functions';
import * as E from 'fp-ts/Either';
import type { Clock } from '../../ports/clock';
import type { EventStore } from '../../ports/eventStore';
import { traceLine } from '../../telemetry/telemetry';
import { sweepStrandedEvents } from '../../usecases/sweepStrandedEvents';

/** Events removed per run at most: a backlog drains over a few runs, each a bounded scan. */
const SWEEP_LIMIT = 500;

/** Events left `accepted` (never answered 202) are removed once STRANDED_EVENT_SECONDS old. */
export const sweepHandler =
  (deps: { readonly events: EventStore; readonly clock: Clock; readonly strandedAfterSeconds: number }) =>
  async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const result = await sweepStrandedEvents({ ...deps, limit: SWEEP_LIMIT })();
    if (E.isLeft(result)) throw new Error(`Sweeping stranded events failed: ${result.left.message}`);
    if (result.right.removed + result.right.changed > 0) context.log(traceLine('events.stranded', { ...result.right }));
  };
