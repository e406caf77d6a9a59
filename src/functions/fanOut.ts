import * as df from 'durable-functions';
import { enqueuePageActivity, fanOutOrchestrator } from './handlers/fanOutHandlers';
import { fanOutStepRecord } from './lib/composition';
import { configuredTrigger } from './lib/configured';
import { ENQUEUE_PAGE_ACTIVITY, FAN_OUT_ORCHESTRATOR } from './lib/orchestrations';

// The fan-out after ingest's first page (docs/architecture.md item 3); ingest starts it by name.
df.app.orchestration(FAN_OUT_ORCHESTRATOR, fanOutOrchestrator);
df.app.activity(ENQUEUE_PAGE_ACTIVITY, { handler: configuredTrigger(() => enqueuePageActivity(fanOutStepRecord())) });
