import { app } from '@azure/functions';
import { listPoisonHandler, redrivePoisonHandler, webhookAttemptsHandler } from './handlers/opsHandlers';
import { opsRecord } from './lib/composition';
import { configuredHttp } from './lib/configured';

app.http('webhookAttempts', { route: 'webhooks/{id}/attempts', methods: ['GET'], authLevel: 'anonymous', handler: configuredHttp(() => webhookAttemptsHandler(opsRecord())) });
app.http('listPoison', { route: 'poison', methods: ['GET'], authLevel: 'anonymous', handler: configuredHttp(() => listPoisonHandler(opsRecord())) });
app.http('redrivePoison', { route: 'poison/redrive', methods: ['POST'], authLevel: 'anonymous', handler: configuredHttp(() => redrivePoisonHandler(opsRecord())) });
