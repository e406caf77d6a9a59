import type { HttpRequest } from '@azure/functions';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../../domain/errors';
import { ADMIN, type Principal } from '../../domain/tenant';
import { toView, type Webhook } from '../../domain/webhook';
import type { HttpSender } from '../../adapters/http/httpSender';
import type { Clock } from '../../ports/clock';
import type { RandomBytes } from '../../ports/random';
import type { TenantGrants } from '../../ports/tenantGrants';
import type { TenantStore } from '../../ports/tenantStore';
import type { WebhookStore } from '../../ports/webhookStore';
import { createWebhook } from '../../usecases/createWebhook';
import { deleteWebhook } from '../../usecases/deleteWebhook';
import { getWebhook } from '../../usecases/getWebhook';
import { listWebhooks } from '../../usecases/listWebhooks';
import { patchWebhook } from '../../usecases/patchWebhook';
import { replaceWebhook } from '../../usecases/replaceWebhook';
import { verifyWebhookEndpoint } from '../../usecases/verifyEndpoint';
import { requireBearer } from '../lib/auth';
import { authenticate } from '../lib/principal';
import { readJsonBody } from '../lib/body';
import { errorResponse, type Handler, json } from '../lib/responses';
import type { PortRanges } from '../../domain/destination';

/** A registry body is a few URLs and maps; anything near this size is a mistake or an attack. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;

export type WebhookHandlerDeps = {
  readonly webhooks: WebhookStore;
  readonly clock: Clock;
  readonly randomBytes: RandomBytes;
  readonly adminApiKey: string;
  /** ALLOW_PRIVATE_DESTINATIONS: URLs on private IP literals and localhost are refused unless true. */
  readonly allowPrivateDestinations?: boolean;
  /** ALLOWED_DESTINATION_PORTS: absent = any port. */
  readonly allowedDestinationPorts?: PortRanges;
  /** With tenants, a tenant key also opens these routes, for that tenant's webhooks only. */
  readonly tenants?: Pick<TenantStore, 'findByKeyHash' | 'get'>;
  /** VERIFY_ENDPOINTS_DEFAULT */
  readonly verifyEndpointsDefault?: boolean;
  /** Sends endpoint verification requests; without it a webhook needing verification waits for POST .../verify. */
  readonly sender?: HttpSender;
  /** A tenant's routing grants, read now: its writes may carry only values it holds (docs/tenants.md). */
  readonly grantsOf?: TenantGrants;
};

type Answer = { status: number; body: unknown };

/** The caller: the admin key, or (with tenants) a tenant key. */
export const principalOf = (deps: Pick<WebhookHandlerDeps, 'adminApiKey' | 'tenants'>) => (request: HttpRequest): TE.TaskEither<AppError, Principal> =>
  deps.tenants === undefined
    ? pipe(
        TE.fromEither(requireBearer(request, deps.adminApiKey)),
        TE.map((): Principal => ADMIN),
      )
    : authenticate({ adminApiKey: deps.adminApiKey, tenants: deps.tenants })(request);

/** Key check, then the operation; errors go through the one mapping. */
const admin =
  (deps: WebhookHandlerDeps, operation: (request: HttpRequest, principal: Principal) => TE.TaskEither<AppError, Answer>): Handler =>
  async (request, context) =>
    pipe(
      principalOf(deps)(request),
      TE.chain((principal) => operation(request, principal)),
      TE.match(
        (error) => errorResponse(error, context),
        (answer) => (answer.status === 204 ? { status: 204 } : json(answer.status, answer.body)),
      ),
    )();

const body = (request: HttpRequest): TE.TaskEither<AppError, unknown> => () => readJsonBody(request, MAX_WEBHOOK_BODY_BYTES);
const idOf = (request: HttpRequest): string => request.params.id ?? '';
const view = (status: number) => (webhook: Webhook): Answer => ({ status, body: toView(webhook) });

/**
 * A webhook that needs endpoint verification is challenged right away. Its failure never fails the
 * create: the webhook is stored and its secret must reach the caller; it then waits, unverified.
 */
const verifiedNow =
  (deps: WebhookHandlerDeps) =>
  (webhook: Webhook): TE.TaskEither<AppError, { webhook: Webhook; detail?: string }> => {
    if (webhook.verified !== false || deps.sender === undefined) return TE.right({ webhook });
    return pipe(
      verifyWebhookEndpoint({ webhooks: deps.webhooks, sender: deps.sender, clock: deps.clock, randomBytes: deps.randomBytes })(webhook),
      TE.map((outcome) => ({ webhook: { ...outcome.webhook, secret: webhook.secret }, detail: outcome.detail })),
      TE.orElse(() => TE.right({ webhook, detail: 'the verification could not be recorded; call POST /api/webhooks/{id}/verify' })),
    );
  };

/** POST /api/webhooks: 201 with the webhook and its secret (the only answer that shows it). */
export const createWebhookHandler = (deps: WebhookHandlerDeps): Handler =>
  admin(deps, (request, principal) =>
    pipe(
      body(request),
      TE.chain((b) => createWebhook(deps)(b, principal)),
      TE.chain(verifiedNow(deps)),
      TE.map(({ webhook, detail }) => ({ status: 201, body: { ...toView(webhook), secret: webhook.secret, ...(detail === undefined ? {} : { verification: { detail } }) } })),
    ),
  );

/** GET /api/webhooks?limit=&continuationToken= */
export const listWebhooksHandler = (deps: WebhookHandlerDeps): Handler =>
  admin(deps, (request, principal) =>
    pipe(
      listWebhooks(deps.webhooks)(Object.fromEntries(request.query.entries()), principal),
      TE.map((page) => ({ status: 200, body: { items: page.items.map(toView), ...(page.continuationToken === undefined ? {} : { continuationToken: page.continuationToken }) } })),
    ),
  );

export const getWebhookHandler = (deps: WebhookHandlerDeps): Handler => admin(deps, (request, principal) => pipe(getWebhook(deps.webhooks)(idOf(request), principal), TE.map(view(200))));

export const replaceWebhookHandler = (deps: WebhookHandlerDeps): Handler =>
  admin(deps, (request, principal) =>
    pipe(
      body(request),
      TE.chain((b) => replaceWebhook(deps)({ id: idOf(request), body: b, principal })),
      // A new URL of a webhook under verification is challenged now; it receives nothing before.
      TE.chain(verifiedNow(deps)),
      TE.map(({ webhook }) => view(200)(webhook)),
    ),
  );

export const patchWebhookHandler = (deps: WebhookHandlerDeps): Handler =>
  admin(deps, (request, principal) =>
    pipe(
      body(request),
      TE.chain((b) => patchWebhook(deps)({ id: idOf(request), body: b, principal })),
      TE.chain(verifiedNow(deps)),
      TE.map(({ webhook }) => view(200)(webhook)),
    ),
  );

export const deleteWebhookHandler = (deps: WebhookHandlerDeps): Handler =>
  admin(deps, (request, principal) => pipe(deleteWebhook(deps.webhooks)(idOf(request), principal), TE.map(() => ({ status: 204, body: undefined }))));

/** One entry point per route, dispatching on the method (the host already filtered methods). */
export const webhookItemHandler = (deps: WebhookHandlerDeps): Handler => {
  const byMethod: Record<string, Handler> = {
    GET: getWebhookHandler(deps),
    PUT: replaceWebhookHandler(deps),
    PATCH: patchWebhookHandler(deps),
    DELETE: deleteWebhookHandler(deps),
  };
  return async (request, context) => {
    const handler = byMethod[request.method.toUpperCase()];
    return handler === undefined ? json(405, { error: 'MethodNotAllowed', message: `${request.method} is not allowed here` }) : handler(request, context);
  };
};

export const webhookCollectionHandler = (deps: WebhookHandlerDeps): Handler => {
  const create = createWebhookHandler(deps);
  const list = listWebhooksHandler(deps);
  return async (request, context) => (request.method.toUpperCase() === 'POST' ? create(request, context) : list(request, context));
};
