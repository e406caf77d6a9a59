import { app, type Timer } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { traceLine } from '../telemetry/telemetry';
import { sweepStrandedEvents } from '../usecases/sweepStrandedEvents';
import { configuredTrigger } from './lib/configured';
import { getDependencies } from './lib/dependencies';

/** Events removed per run at most: a backlog drains over a few runs, each a bounded scan. */
const SWEEP_LIMIT = 500;

// Every 5 minutes: events left `accepted` (never answered 202) are removed once STRANDED_EVENT_SECONDS old.
app.timer('sweepStrandedEvents', {
  schedule: '0 */5 * * * *',
  handler: configuredTrigger(() => {
    const deps = getDependencies();
    return async (_timer: Timer, context) => {
      const result = await sweepStrandedEvents({ events: deps.events, clock: deps.clock, strandedAfterSeconds: deps.config.STRANDED_EVENT_SECONDS, limit: SWEEP_LIMIT })();
      if (E.isLeft(result)) throw new Error(`Sweeping stranded events failed: ${result.left.message}`);
      if (result.right.removed + result.right.changed > 0) context.log(traceLine('events.stranded', { ...result.right }));
    };
  }),
});
