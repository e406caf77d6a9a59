import { app } from '@azure/functions';
import {
  createTenantHandler,
  deleteTenantHandler,
  getTenantHandler,
  listTenantsHandler,
  revokeTenantKeyHandler,
  rotateSecretHandler,
  rotateTenantKeyHandler,
  setTenantRoutingHandler,
  tenantWebhooksHandler,
  verifyWebhookHandler,
} from './handlers/tenantHandlers';
import { configuredHttp } from './lib/configured';
import { getDeliveryDependencies } from './lib/deliveryDependencies';
import { noStore } from './lib/responses';

/* Tenants (admin only), and the webhook routes that rotate a secret or re-run endpoint verification. */

const handlerDeps = () => {
  const deps = getDeliveryDependencies();
  return { ...deps, adminApiKey: deps.config.ADMIN_API_KEY, log: (line: string) => console.log(line) };
};

app.http('tenants', {
  route: 'tenants',
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: noStore(configuredHttp(() => {
    const deps = handlerDeps();
    const [create, list] = [createTenantHandler(deps), listTenantsHandler(deps)];
    return (request, context) => (request.method.toUpperCase() === 'POST' ? create : list)(request, context);
  })),
});
app.http('tenant', {
  route: 'tenants/{id}',
  methods: ['GET', 'DELETE'],
  authLevel: 'anonymous',
  handler: noStore(configuredHttp(() => {
    const deps = handlerDeps();
    const [remove, get] = [deleteTenantHandler(deps), getTenantHandler(deps)];
    return (request, context) => (request.method.toUpperCase() === 'DELETE' ? remove : get)(request, context);
  })),
});
app.http('tenantRouting', { route: 'tenants/{id}/routing', methods: ['PUT'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => setTenantRoutingHandler(handlerDeps()))) });
app.http('tenantRotateKey', { route: 'tenants/{id}/rotate-key', methods: ['POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => rotateTenantKeyHandler(handlerDeps()))) });
app.http('tenantRevokeKey', { route: 'tenants/{id}/key', methods: ['DELETE'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => revokeTenantKeyHandler(handlerDeps()))) });
app.http('tenantWebhooks', { route: 'tenants/{id}/webhooks', methods: ['GET'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => tenantWebhooksHandler(handlerDeps()))) });
app.http('webhookRotateSecret', { route: 'webhooks/{id}/rotate-secret', methods: ['POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => rotateSecretHandler(handlerDeps()))) });
app.http('webhookVerify', { route: 'webhooks/{id}/verify', methods: ['POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => verifyWebhookHandler(handlerDeps()))) });
