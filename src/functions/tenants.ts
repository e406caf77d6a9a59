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
import { getDeliveryDependencies } from './lib/deliveryDependencies';
import { noStore } from './lib/responses';

/* Tenants (admin only), and the webhook routes that rotate a secret or re-run endpoint verification. */

const deps = getDeliveryDependencies();
const handlerDeps = { ...deps, adminApiKey: deps.config.ADMIN_API_KEY, log: (line: string) => console.log(line) };

app.http('tenants', {
  route: 'tenants',
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: noStore((request, context) => (request.method.toUpperCase() === 'POST' ? createTenantHandler(handlerDeps) : listTenantsHandler(handlerDeps))(request, context)),
});
app.http('tenant', {
  route: 'tenants/{id}',
  methods: ['GET', 'DELETE'],
  authLevel: 'anonymous',
  handler: noStore((request, context) => (request.method.toUpperCase() === 'DELETE' ? deleteTenantHandler(handlerDeps) : getTenantHandler(handlerDeps))(request, context)),
});
app.http('tenantRouting', { route: 'tenants/{id}/routing', methods: ['PUT'], authLevel: 'anonymous', handler: noStore(setTenantRoutingHandler(handlerDeps)) });
app.http('tenantRotateKey', { route: 'tenants/{id}/rotate-key', methods: ['POST'], authLevel: 'anonymous', handler: noStore(rotateTenantKeyHandler(handlerDeps)) });
app.http('tenantRevokeKey', { route: 'tenants/{id}/key', methods: ['DELETE'], authLevel: 'anonymous', handler: noStore(revokeTenantKeyHandler(handlerDeps)) });
app.http('tenantWebhooks', { route: 'tenants/{id}/webhooks', methods: ['GET'], authLevel: 'anonymous', handler: noStore(tenantWebhooksHandler(handlerDeps)) });
app.http('webhookRotateSecret', { route: 'webhooks/{id}/rotate-secret', methods: ['POST'], authLevel: 'anonymous', handler: noStore(rotateSecretHandler(handlerDeps)) });
app.http('webhookVerify', { route: 'webhooks/{id}/verify', methods: ['POST'], authLevel: 'anonymous', handler: noStore(verifyWebhookHandler(handlerDeps)) });
