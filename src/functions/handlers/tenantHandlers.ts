import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { HttpSender } from '../../ports/httpSender';
import { tenantView } from '../../domain/tenant';
import { toView } from '../../domain/webhook';
import type { TenantStore } from '../../ports/tenantStore';
import type { Clock } from '../../ports/clock';
import type { RandomBytes } from '../../ports/random';
import type { WebhookStore } from '../../ports/webhookStore';
import { getTenant, revokeTenantKey, rotateTenantKey } from '../../usecases/changeTenantKey';
import { createTenant } from '../../usecases/createTenant';
import { type GrantsCache, getTenantWithGrants, setTenantRouting } from '../../usecases/tenantGrants';
import { deleteTenant } from '../../usecases/deleteTenant';
import { listWebhooks } from '../../usecases/listWebhooks';
import { rotateWebhookSecret } from '../../usecases/rotateWebhookSecret';
import { verifyWebhook } from '../../usecases/verifyEndpoint';
import { ListTenantsQuery, ListWebhooksQuery } from '../lib/queries';
import type { Handler } from '../lib/responses';
import { adminOrTenant, bearerKey, byMethod, route } from '../lib/route';
import type { RotatedWebhook, TenantWithKey, VerificationOutcome, WebhookPage } from '../../domain/views';

const MAX_SMALL_BODY_BYTES = 4 * 1024;
/** Routing grants: up to MAX_ROUTING_GRANTS_CHARS of JSON, with room for escapes and spacing. */
const MAX_ROUTING_BODY_BYTES = 1024 * 1024;

export type TenantHandlerDeps = {
  readonly adminApiKey: string;
  readonly tenants: TenantStore;
  readonly webhooks: WebhookStore;
  readonly clock: Clock;
  readonly randomBytes: RandomBytes;
  readonly sender: HttpSender;
  /** Grant writes drop this instance's cached grants at once; other instances follow within its TTL. */
  readonly grants: Pick<GrantsCache, 'invalidate'>;
  /** Where a tenant stored before grants gets its initial grants logged (counts only). */
  readonly log: (line: string) => void;
};

const grantsDeps = (deps: TenantHandlerDeps) => ({ tenants: deps.tenants, webhooks: deps.webhooks, log: deps.log });
const viewPage = (page: { items: readonly Parameters<typeof tenantView>[0][]; continuationToken?: string }) => ({
  items: page.items.map(tenantView),
  ...(page.continuationToken === undefined ? {} : { continuationToken: page.continuationToken }),
});

/** Tenant management is the admin's alone: a tenant key gets 401 here like any other wrong key. */
export const tenantsHandler = (deps: TenantHandlerDeps): Handler =>
  byMethod({
    /** GET /api/tenants?limit=&continuationToken= */
    GET: route({
      auth: bearerKey(deps.adminApiKey),
      query: ListTenantsQuery,
      run: ({ query }) =>
        pipe(
          deps.tenants.list({ limit: query.limit, ...(query.continuationToken === undefined ? {} : { continuationToken: query.continuationToken }) }),
          TE.map((page) => ({ status: 200, body: viewPage(page) })),
        ),
    }),
    /** POST /api/tenants: 201 with the tenant and its API key (shown only here and on rotation). */
    POST: route({
      auth: bearerKey(deps.adminApiKey),
      body: { limitBytes: MAX_ROUTING_BODY_BYTES },
      run: ({ body }) =>
        pipe(
          createTenant(deps)(body),
          TE.map(({ tenant, apiKey }) => ({ status: 201, body: { ...tenantView(tenant), apiKey } satisfies TenantWithKey })),
        ),
    }),
  });

export const tenantHandler = (deps: TenantHandlerDeps): Handler =>
  byMethod({
    /** GET /api/tenants/{id} */
    GET: route({
      auth: bearerKey(deps.adminApiKey),
      run: ({ id }) =>
        pipe(
          getTenantWithGrants(grantsDeps(deps))(id),
          TE.map((tenant) => ({ status: 200, body: tenantView(tenant) })),
        ),
    }),
    /** DELETE /api/tenants/{id}: 204; 409 while the tenant owns webhooks (the use case says why, and what a concurrent create does). */
    DELETE: route({
      auth: bearerKey(deps.adminApiKey),
      run: ({ id }) =>
        pipe(
          deleteTenant(deps)(id),
          TE.map(() => ({ status: 204 })),
        ),
    }),
  });

/** PUT /api/tenants/{id}/routing: replaces the tenant's routing grants; 200 with the tenant. */
export const tenantRoutingHandler = (deps: TenantHandlerDeps): Handler =>
  route({
    auth: bearerKey(deps.adminApiKey),
    body: { limitBytes: MAX_ROUTING_BODY_BYTES },
    run: ({ id, body }) =>
      pipe(
        setTenantRouting({ tenants: deps.tenants, onChange: () => deps.grants.invalidate() })({ id, body }),
        TE.map((tenant) => ({ status: 200, body: tenantView(tenant) })),
      ),
  });

/** POST /api/tenants/{id}/rotate-key: 200 with the new key; the old one stops at once. */
export const tenantRotateKeyHandler = (deps: TenantHandlerDeps): Handler =>
  route({
    auth: bearerKey(deps.adminApiKey),
    run: ({ id }) =>
      pipe(
        rotateTenantKey(deps)(id),
        TE.map(({ tenant, apiKey }) => ({ status: 200, body: { ...tenantView(tenant), apiKey } satisfies TenantWithKey })),
      ),
  });

/** DELETE /api/tenants/{id}/key: 200 with the tenant, now without a key. */
export const tenantRevokeKeyHandler = (deps: TenantHandlerDeps): Handler =>
  route({
    auth: bearerKey(deps.adminApiKey),
    run: ({ id }) =>
      pipe(
        revokeTenantKey(deps)(id),
        TE.map((tenant) => ({ status: 200, body: tenantView(tenant) })),
      ),
  });

/** GET /api/tenants/{id}/webhooks: the admin's view of one tenant's webhooks. */
export const tenantWebhooksHandler = (deps: TenantHandlerDeps): Handler =>
  route({
    auth: bearerKey(deps.adminApiKey),
    query: ListWebhooksQuery,
    run: ({ id, query }) =>
      pipe(
        getTenant(deps)(id),
        TE.chain((tenant) => listWebhooks(deps.webhooks)(query, { kind: 'Tenant', tenantId: tenant.id })),
        TE.map((page) => ({
          status: 200,
          body: { items: page.items.map(toView), ...(page.continuationToken === undefined ? {} : { continuationToken: page.continuationToken }) } satisfies WebhookPage,
        })),
      ),
  });

/**
 * POST /api/webhooks/{id}/rotate-secret {"overlapSeconds"?}: 200 with the webhook and its new secret
 * (shown only here) and when the old one stops signing. The body may be absent (the default overlap).
 */
export const rotateSecretHandler = (deps: TenantHandlerDeps): Handler =>
  route({
    auth: adminOrTenant(deps),
    body: { limitBytes: MAX_SMALL_BODY_BYTES, optional: true },
    run: ({ id, body, caller }) =>
      pipe(
        rotateWebhookSecret(deps)({ id, body, principal: caller }),
        TE.map((webhook) => ({
          status: 200,
          body: {
            ...toView(webhook),
            secret: webhook.secret,
            ...(webhook.previousSecrets?.[0] === undefined ? {} : { previousSecretExpiresAt: webhook.previousSecrets[0].expiresAt }),
          } satisfies RotatedWebhook,
        })),
      ),
  });

/** POST /api/webhooks/{id}/verify: challenges the endpoint again; 200 {"verified", "detail", "webhook"}. */
export const verifyWebhookHandler = (deps: TenantHandlerDeps): Handler =>
  route({
    auth: adminOrTenant(deps),
    run: ({ id, caller }) =>
      pipe(
        verifyWebhook(deps)({ id, principal: caller }),
        TE.map((outcome) => ({ status: 200, body: { verified: outcome.verified, detail: outcome.detail, webhook: toView(outcome.webhook) } satisfies VerificationOutcome })),
      ),
  });
