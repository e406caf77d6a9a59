import type { HttpRequest } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { HttpSender } from '../../ports/httpSender';
import type { AppError } from '../../domain/errors';
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
import { requireBearer } from '../lib/auth';
import { readJsonBody } from '../lib/body';
import { errorResponse, type Handler, json } from '../lib/responses';
import type { RotatedWebhook, TenantPage, TenantWithKey, VerificationOutcome, WebhookPage } from '../../domain/views';
import { principalOf } from './webhookHandlers';

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
  readonly grants?: Pick<GrantsCache, 'invalidate'>;
  /** Where a tenant stored before grants gets its initial grants logged (counts only). */
  readonly log?: (line: string) => void;
};

type Answer = { status: number; body: unknown };

const answer = (run: TE.TaskEither<AppError, Answer>, context: Parameters<Handler>[1]) =>
  pipe(
    run,
    TE.match(
      (error) => errorResponse(error, context),
      (a) => (a.status === 204 ? { status: 204 } : json(a.status, a.body)),
    ),
  )();

/** Tenant management is the admin's alone: a tenant key gets 401 here like any other wrong key. */
const adminOnly =
  (deps: TenantHandlerDeps, operation: (request: HttpRequest) => TE.TaskEither<AppError, Answer>): Handler =>
  async (request, context) =>
    answer(
      pipe(
        TE.fromEither(requireBearer(request, deps.adminApiKey)),
        TE.chain(() => operation(request)),
      ),
      context,
    );

const jsonBody = (request: HttpRequest, limitBytes = MAX_SMALL_BODY_BYTES): TE.TaskEither<AppError, unknown> => () => readJsonBody(request, limitBytes);
const grantsDeps = (deps: TenantHandlerDeps) => ({ tenants: deps.tenants, webhooks: deps.webhooks, log: deps.log ?? (() => undefined) });

/** A JSON body that may be absent (`{}` then): rotating with the default overlap needs no body. */
const optionalBody = (request: HttpRequest): TE.TaskEither<AppError, unknown> => async () => {
  const read = await readJsonBody(request, MAX_SMALL_BODY_BYTES);
  return E.isLeft(read) && read.left.kind === 'Invalid' && read.left.details[0]?.startsWith('(body): is required') === true ? E.right({}) : read;
};

/** POST /api/tenants: 201 with the tenant and its API key (shown only here and on rotation). */
export const createTenantHandler = (deps: TenantHandlerDeps): Handler =>
  adminOnly(deps, (request) =>
    pipe(
      jsonBody(request, MAX_ROUTING_BODY_BYTES),
      TE.chain(createTenant(deps)),
      TE.map(({ tenant, apiKey }) => ({ status: 201, body: { ...tenantView(tenant), apiKey } satisfies TenantWithKey })),
    ),
  );

/** GET /api/tenants?limit=&continuationToken= */
export const listTenantsHandler = (deps: TenantHandlerDeps): Handler =>
  adminOnly(deps, (request) => {
    const limit = request.query.get('limit');
    const token = request.query.get('continuationToken');
    const n = limit === null ? 50 : /^[0-9]{1,3}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= 100)) return TE.left({ kind: 'Invalid', message: 'The query is invalid', details: ['limit: must be an integer from 1 to 100'] });
    return pipe(
      deps.tenants.list({ limit: n, ...(token === null ? {} : { continuationToken: token }) }),
      TE.map((page) => ({ status: 200, body: { items: page.items.map(tenantView), ...(page.continuationToken === undefined ? {} : { continuationToken: page.continuationToken }) } satisfies TenantPage })),
    );
  });

/** GET /api/tenants/{id} */
export const getTenantHandler = (deps: TenantHandlerDeps): Handler =>
  adminOnly(deps, (request) => pipe(getTenantWithGrants(grantsDeps(deps))(request.params.id ?? ''), TE.map((tenant) => ({ status: 200, body: tenantView(tenant) }))));

/** PUT /api/tenants/{id}/routing: replaces the tenant's routing grants; 200 with the tenant. */
export const setTenantRoutingHandler = (deps: TenantHandlerDeps): Handler =>
  adminOnly(deps, (request) =>
    pipe(
      jsonBody(request, MAX_ROUTING_BODY_BYTES),
      TE.chain((body) => setTenantRouting({ tenants: deps.tenants, onChange: () => deps.grants?.invalidate() })({ id: request.params.id ?? '', body })),
      TE.map((tenant) => ({ status: 200, body: tenantView(tenant) })),
    ),
  );

/** POST /api/tenants/{id}/rotate-key: 200 with the new key; the old one stops at once. */
export const rotateTenantKeyHandler = (deps: TenantHandlerDeps): Handler =>
  adminOnly(deps, (request) =>
    pipe(
      rotateTenantKey(deps)(request.params.id ?? ''),
      TE.map(({ tenant, apiKey }) => ({ status: 200, body: { ...tenantView(tenant), apiKey } satisfies TenantWithKey })),
    ),
  );

/** DELETE /api/tenants/{id}: 204; 409 while the tenant owns webhooks (the use case says why, and what a concurrent create does). */
export const deleteTenantHandler = (deps: TenantHandlerDeps): Handler =>
  adminOnly(deps, (request) => pipe(deleteTenant(deps)(request.params.id ?? ''), TE.map(() => ({ status: 204, body: undefined }))));

/** DELETE /api/tenants/{id}/key: 200 with the tenant, now without a key. */
export const revokeTenantKeyHandler = (deps: TenantHandlerDeps): Handler =>
  adminOnly(deps, (request) => pipe(revokeTenantKey(deps)(request.params.id ?? ''), TE.map((tenant) => ({ status: 200, body: tenantView(tenant) }))));

/** GET /api/tenants/{id}/webhooks: the admin's view of one tenant's webhooks. */
export const tenantWebhooksHandler = (deps: TenantHandlerDeps): Handler =>
  adminOnly(deps, (request) =>
    pipe(
      getTenant(deps)(request.params.id ?? ''),
      TE.chain((tenant) => listWebhooks(deps.webhooks)(Object.fromEntries(request.query.entries()), { kind: 'Tenant', tenantId: tenant.id })),
      TE.map((page) => ({ status: 200, body: { items: page.items.map(toView), ...(page.continuationToken === undefined ? {} : { continuationToken: page.continuationToken }) } satisfies WebhookPage })),
    ),
  );

/**
 * POST /api/webhooks/{id}/rotate-secret {"overlapSeconds"?}: 200 with the webhook and its new secret
 * (shown only here) and when the old one stops signing.
 */
export const rotateSecretHandler = (deps: TenantHandlerDeps): Handler => async (request, context) =>
  answer(
    pipe(
      principalOf(deps)(request),
      TE.chain((principal) =>
        pipe(
          optionalBody(request),
          TE.chain((body) => rotateWebhookSecret(deps)({ id: request.params.id ?? '', body, principal })),
        ),
      ),
      TE.map((webhook) => ({
        status: 200,
        body: { ...toView(webhook), secret: webhook.secret, ...(webhook.previousSecrets?.[0] === undefined ? {} : { previousSecretExpiresAt: webhook.previousSecrets[0].expiresAt }) } satisfies RotatedWebhook,
      })),
    ),
    context,
  );

/** POST /api/webhooks/{id}/verify: challenges the endpoint again; 200 {"verified", "detail", "webhook"}. */
export const verifyWebhookHandler = (deps: TenantHandlerDeps): Handler => async (request, context) =>
  answer(
    pipe(
      principalOf(deps)(request),
      TE.chain((principal) => verifyWebhook(deps)({ id: request.params.id ?? '', principal })),
      TE.map((outcome) => ({ status: 200, body: { verified: outcome.verified, detail: outcome.detail, webhook: toView(outcome.webhook) } satisfies VerificationOutcome })),
    ),
    context,
  );
