import { app } from '@azure/functions';
import {
  rotateSecretHandler,
  tenantHandler,
  tenantsHandler,
  tenantRevokeKeyHandler,
  tenantRotateKeyHandler,
  tenantRoutingHandler,
  tenantWebhooksHandler,
  verifyWebhookHandler,
} from './handlers/tenantHandlers';
import { tenantsRecord } from './lib/composition';
import { configuredHttp } from './lib/configured';
import { noStore } from './lib/responses';

/* Tenants (admin only), and the webhook routes that rotate a secret or re-run endpoint verification. */
app.http('tenants', { route: 'tenants', methods: ['GET', 'POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => tenantsHandler(tenantsRecord()))) });
app.http('tenant', { route: 'tenants/{id}', methods: ['GET', 'DELETE'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => tenantHandler(tenantsRecord()))) });
app.http('tenantRouting', { route: 'tenants/{id}/routing', methods: ['PUT'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => tenantRoutingHandler(tenantsRecord()))) });
app.http('tenantRotateKey', { route: 'tenants/{id}/rotate-key', methods: ['POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => tenantRotateKeyHandler(tenantsRecord()))) });
app.http('tenantRevokeKey', { route: 'tenants/{id}/key', methods: ['DELETE'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => tenantRevokeKeyHandler(tenantsRecord()))) });
app.http('tenantWebhooks', { route: 'tenants/{id}/webhooks', methods: ['GET'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => tenantWebhooksHandler(tenantsRecord()))) });
app.http('webhookRotateSecret', { route: 'webhooks/{id}/rotate-secret', methods: ['POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => rotateSecretHandler(tenantsRecord()))) });
app.http('webhookVerify', { route: 'webhooks/{id}/verify', methods: ['POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => verifyWebhookHandler(tenantsRecord()))) });
