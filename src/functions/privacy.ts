import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { erasureHandler, purgeEventsHandler, retentionTimerHandler } from './handlers/privacyHandlers';
import { privacyRecord } from './lib/composition';
import { configuredHttp, configuredTrigger } from './lib/configured';

const durableClient = df.input.durableClient();

app.http('purgeEvents', { route: 'events', methods: ['DELETE'], authLevel: 'anonymous', extraInputs: [durableClient], handler: configuredHttp(() => purgeEventsHandler(privacyRecord())) });
app.http('eraseSubject', { route: 'erasure', methods: ['POST'], authLevel: 'anonymous', handler: configuredHttp(() => erasureHandler(privacyRecord())) });
app.timer('retentionPurge', { schedule: '%RETENTION_SCHEDULE%', extraInputs: [durableClient], handler: configuredTrigger(() => retentionTimerHandler(privacyRecord())) });
