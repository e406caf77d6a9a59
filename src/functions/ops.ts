import { app } from '@azure/functions';
import { storagePoisonQueue } from '../adapters/queues/storagePoisonQueue';
import { listPoisonHandler, redrivePoisonHandler, webhookAttemptsHandler } from './handlers/opsHandlers';
import { getDeliveryDependencies } from './lib/deliveryDependencies';

const deps = getDeliveryDependencies();
const adminApiKey = deps.config.ADMIN_API_KEY;
const poison = storagePoisonQueue(deps.queue.poisonQueue);

app.http('webhookAttempts', {
  route: 'webhooks/{id}/attempts',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: webhookAttemptsHandler({ adminApiKey, webhooks: deps.webhooks, attemptLog: deps.attemptLog, tenants: deps.tenants }),
});

app.http('listPoison', { route: 'poison', methods: ['GET'], authLevel: 'anonymous', handler: listPoisonHandler({ adminApiKey, poison }) });

app.http('redrivePoison', {
  route: 'poison/redrive',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: redrivePoisonHandler({ adminApiKey, poison, deliveries: deps.queue }),
});
