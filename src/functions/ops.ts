import { app } from '@azure/functions';
import { storagePoisonQueue } from '../adapters/queues/storagePoisonQueue';
import { listPoisonHandler, redrivePoisonHandler, webhookAttemptsHandler } from './handlers/opsHandlers';
import { configuredHttp } from './lib/configured';
import { getDeliveryDependencies } from './lib/deliveryDependencies';

const opsDeps = () => {
  const deps = getDeliveryDependencies();
  return { deps, adminApiKey: deps.config.ADMIN_API_KEY, poison: storagePoisonQueue(deps.queue.poisonQueue) };
};

app.http('webhookAttempts', {
  route: 'webhooks/{id}/attempts',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: configuredHttp(() => {
    const { deps, adminApiKey } = opsDeps();
    return webhookAttemptsHandler({ adminApiKey, webhooks: deps.webhooks, attemptLog: deps.attemptLog, tenants: deps.tenants });
  }),
});

app.http('listPoison', { route: 'poison', methods: ['GET'], authLevel: 'anonymous', handler: configuredHttp(() => listPoisonHandler(opsDeps())) });

app.http('redrivePoison', {
  route: 'poison/redrive',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: configuredHttp(() => {
    const { deps, adminApiKey, poison } = opsDeps();
    return redrivePoisonHandler({ adminApiKey, poison, deliveries: deps.queue });
  }),
});
