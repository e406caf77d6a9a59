import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../../domain/errors';
import type { Principal } from '../../domain/tenant';
import { toView, type Webhook } from '../../domain/webhook';
import type { HttpSender } from '../../ports/httpSender';
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
import { ListWebhooksQuery } from '../lib/queries';
import type { Handler } from '../lib/responses';
import { adminOrTenant, byMethod, route, type RouteSpec } from '../lib/route';
import type { PortRanges } from '../../domain/destination';
import type { CreatedWebhook, WebhookPage } from '../../domain/views';

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
  /** A tenant key also opens these routes, for that tenant's webhooks only. */
  readonly tenants: Pick<TenantStore, 'findByKeyHash' | 'get'>;
  /** VERIFY_ENDPOINTS_DEFAULT */
  readonly verifyEndpointsDefault?: boolean;
  /** The retry schedule's attempts: the most a webhook's `maxAttempts` may be. */
  readonly maxAttemptsAllowed?: number;
  /** Sends endpoint verification requests. */
  readonly sender: HttpSender;
  /** A tenant's routing grants, read now: its writes may carry only values it holds (docs/tenants.md). */
  readonly grantsOf: TenantGrants;
};

type Answer = { status: number; body?: unknown };

/** The admin key, or a tenant key for that tenant's webhooks; the body at most MAX_WEBHOOK_BODY_BYTES. */
const withBody = (deps: WebhookHandlerDeps, run: RouteSpec<Principal, undefined>['run']): Handler => route({ auth: adminOrTenant(deps), body: { limitBytes: MAX_WEBHOOK_BODY_BYTES }, run });

const view =
  (status: number) =>
  (webhook: Webhook): Answer => ({ status, body: toView(webhook) });

/**
 * A webhook that needs endpoint verification is challenged right away. Its failure never fails the
 * create: the webhook is stored and its secret must reach the caller; it then waits, unverified.
 */
const verifiedNow =
  (deps: WebhookHandlerDeps) =>
  (webhook: Webhook): TE.TaskEither<AppError, { webhook: Webhook; detail?: string }> => {
    if (webhook.verified !== false) return TE.right({ webhook });
    return pipe(
      verifyWebhookEndpoint({ webhooks: deps.webhooks, sender: deps.sender, clock: deps.clock, randomBytes: deps.randomBytes })(webhook),
      TE.map((outcome) => ({ webhook: { ...outcome.webhook, secret: webhook.secret }, detail: outcome.detail })),
      TE.orElse(() => TE.right({ webhook, detail: 'the verification could not be recorded; call POST /api/webhooks/{id}/verify' })),
    );
  };

/** POST /api/webhooks: 201 with the webhook and its secret (the only answer that shows it). */
export const createWebhookHandler = (deps: WebhookHandlerDeps): Handler =>
  withBody(deps, ({ body, caller }) =>
    pipe(
      createWebhook(deps)(body, caller),
      TE.chain(verifiedNow(deps)),
      TE.map(({ webhook, detail }) => ({ status: 201, body: { ...toView(webhook), secret: webhook.secret, ...(detail === undefined ? {} : { verification: { detail } }) } satisfies CreatedWebhook })),
    ),
  );

/** GET /api/webhooks?limit=&continuationToken= */
export const listWebhooksHandler = (deps: WebhookHandlerDeps): Handler =>
  route({
    auth: adminOrTenant(deps),
    query: ListWebhooksQuery,
    run: ({ query, caller }) =>
      pipe(
        listWebhooks(deps.webhooks)(query, caller),
        TE.map((page) => ({
          status: 200,
          body: { items: page.items.map(toView), ...(page.continuationToken === undefined ? {} : { continuationToken: page.continuationToken }) } satisfies WebhookPage,
        })),
      ),
  });

export const getWebhookHandler = (deps: WebhookHandlerDeps): Handler => route({ auth: adminOrTenant(deps), run: ({ id, caller }) => pipe(getWebhook(deps.webhooks)(id, caller), TE.map(view(200))) });

export const replaceWebhookHandler = (deps: WebhookHandlerDeps): Handler =>
  withBody(deps, ({ id, body, caller }) =>
    pipe(
      replaceWebhook(deps)({ id, body, principal: caller }),
      // A new URL of a webhook under verification is challenged now; it receives nothing before.
      TE.chain(verifiedNow(deps)),
      TE.map(({ webhook }) => view(200)(webhook)),
    ),
  );

export const patchWebhookHandler = (deps: WebhookHandlerDeps): Handler =>
  withBody(deps, ({ id, body, caller }) =>
    pipe(
      patchWebhook(deps)({ id, body, principal: caller }),
      TE.chain(verifiedNow(deps)),
      TE.map(({ webhook }) => view(200)(webhook)),
    ),
  );

export const deleteWebhookHandler = (deps: WebhookHandlerDeps): Handler =>
  route({
    auth: adminOrTenant(deps),
    run: ({ id, caller }) =>
      pipe(
        deleteWebhook(deps.webhooks)(id, caller),
        TE.map((): Answer => ({ status: 204 })),
      ),
  });

/** /api/webhooks/{id}: one handler per method. */
export const webhookItemHandler = (deps: WebhookHandlerDeps): Handler =>
  byMethod({ GET: getWebhookHandler(deps), PUT: replaceWebhookHandler(deps), PATCH: patchWebhookHandler(deps), DELETE: deleteWebhookHandler(deps) });

/** /api/webhooks: list and create. */
export const webhookCollectionHandler = (deps: WebhookHandlerDeps): Handler => byMethod({ GET: listWebhooksHandler(deps), POST: createWebhookHandler(deps) });
