import { app } from '@azure/functions';
import { sweepHandler } from './handlers/sweepHandler';
import { sweepRecord } from './lib/composition';
import { configuredTrigger } from './lib/configured';

// Every 5 minutes: events left `accepted` (never answered 202) are removed once STRANDED_EVENT_SECONDS old.
app.timer('sweepStrandedEvents', { schedule: '0 */5 * * * *', handler: configuredTrigger(() => sweepHandler(sweepRecord())) });
