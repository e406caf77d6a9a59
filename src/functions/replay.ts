import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { replayOrchestrator, replayPageActivity, replayStatusHandler, resendDeliveryHandler, startReplayHandler, testWebhookHandler } from './handlers/replayHandlers';
import { replayRecord } from './lib/composition';
import { configuredHttp, configuredTrigger } from './lib/configured';
import { REPLAY_ORCHESTRATOR, REPLAY_PAGE_ACTIVITY } from './lib/orchestrations';

/* Replay by time range, resend of one delivery, test send (docs/delivery.md, "Replay and resend"). */
const durableClient = df.input.durableClient();

df.app.orchestration(REPLAY_ORCHESTRATOR, replayOrchestrator);
df.app.activity(REPLAY_PAGE_ACTIVITY, { handler: configuredTrigger(() => replayPageActivity(replayRecord())) });
app.http('startReplay', { route: 'webhooks/{id}/replay', methods: ['POST'], authLevel: 'anonymous', extraInputs: [durableClient], handler: configuredHttp(() => startReplayHandler(replayRecord())) });
app.http('replayStatus', {
  route: 'webhooks/{id}/replays/{replayId}',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [durableClient],
  handler: configuredHttp(() => replayStatusHandler(replayRecord())),
});
app.http('resendDelivery', { route: 'webhooks/{id}/resend', methods: ['POST'], authLevel: 'anonymous', handler: configuredHttp(() => resendDeliveryHandler(replayRecord())) });
app.http('testWebhook', { route: 'webhooks/{id}/test', methods: ['POST'], authLevel: 'anonymous', handler: configuredHttp(() => testWebhookHandler(replayRecord())) });
