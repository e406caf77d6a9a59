import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { afterOwnerWrite } from '../domain/endpointHealth';
import type { AppError } from '../domain/errors';
import { SECRET_BYTES, signingSecret, ULID_RANDOM_BYTES, ulid } from '../domain/ids';
import { ADMIN, type Principal } from '../domain/tenant';
import { normalizeSubscriptions, type Webhook, type WebhookId, WebhookInput, type WebhookSecret } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { RandomBytes } from '../ports/random';
import type { WebhookStore } from '../ports/webhookStore';
import type { PortRanges } from '../domain/destination';
import { checkMaxAttempts } from '../domain/endpointControls';
import { checkDestination } from './checkDestination';
import { decodeOrInvalid } from './decode';
import { checkTenantInput, grantsForWrite, type TenantRulesDeps, verificationRequired } from './tenantRules';

export type CreateWebhookDeps = TenantRulesDeps & {
  readonly webhooks: WebhookStore;
  readonly clock: Clock;
  readonly randomBytes: RandomBytes;
  /** ALLOW_PRIVATE_DESTINATIONS; absent = refuse URLs on IP literals that are not public and on localhost. */
  readonly allowPrivateDestinations?: boolean;
  /** ALLOWED_DESTINATION_PORTS; absent = any port. */
  readonly allowedDestinationPorts?: PortRanges;
  /** VERIFY_ENDPOINTS_DEFAULT: whether a webhook that does not say `verify` must pass endpoint verification. */
  readonly verifyEndpointsDefault?: boolean;
  /** The retry schedule's attempts (RETRY_SCHEDULE_SECONDS + 1): the most `maxAttempts` may be; absent = no check. */
  readonly maxAttemptsAllowed?: number;
};

/** The fields a create/replace body sets; the optional ones are absent when the body leaves them out. */
export type InputFields = Pick<
  Webhook,
  'url' | 'subscriptions' | 'attributes' | 'headers' | 'disabled' | 'fields' | 'expiresAt' | 'verified' | 'timeoutMs' | 'rateLimitPerSecond' | 'maxAttempts' | 'format'
>;

/**
 * A decoded create/replace body with its defaults applied. `leaseSeconds` becomes an expiry from
 * now. Verification: asked by `verify`, else kept as the webhook had it, else the setting; a
 * verified webhook stays verified only while its URL stays the same.
 */
export const fromInput = (input: WebhookInput, options: { now: Date; previous?: Webhook; verifyDefault?: boolean; verificationRequired?: boolean }): InputFields => {
  const expiresAt = input.leaseSeconds !== undefined ? new Date(options.now.getTime() + input.leaseSeconds * 1000).toISOString() : input.expiresAt;
  const previous = options.previous;
  // A tenant under VERIFY_ENDPOINTS_DEFAULT=true is always verified (a URL change challenges the new URL).
  const verify = options.verificationRequired === true || (input.verify ?? (previous !== undefined ? previous.verified !== undefined : (options.verifyDefault ?? false)));
  const verified = !verify ? undefined : previous !== undefined && previous.verified !== false && previous.url === input.url;
  return {
    url: input.url,
    subscriptions: normalizeSubscriptions(input.subscriptions),
    attributes: input.attributes ?? {},
    headers: input.headers ?? {},
    disabled: input.disabled ?? false,
    ...(input.fields === undefined ? {} : { fields: input.fields }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(verified === undefined ? {} : { verified }),
    ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
    ...(input.rateLimitPerSecond === undefined ? {} : { rateLimitPerSecond: input.rateLimitPerSecond }),
    ...(input.maxAttempts === undefined ? {} : { maxAttempts: input.maxAttempts }),
    ...(input.format === undefined ? {} : { format: input.format }),
  };
};

/** The webhook with the fields of a body: those the body leaves out are reset, as PUT means. */
export const withInput = (current: Webhook, fields: InputFields, now: Date): Webhook => {
  const { fields: _f, expiresAt: _e, verified: _v, timeoutMs: _t, rateLimitPerSecond: _r, maxAttempts: _m, format: _fmt, ...kept } = current;
  // Re-enabling clears the dispatcher's disabledReason and any failing streak (docs/delivery.md).
  return afterOwnerWrite(current, { ...kept, ...fields, updatedAt: now.toISOString() } as Webhook);
};

/**
 * Registers a webhook with a fresh id and signing secret; the answer is the only place the secret
 * shows. A tenant's webhook belongs to that tenant; the admin's to nobody (no `tenantId`).
 */
export const createWebhook =
  (deps: CreateWebhookDeps) =>
  (body: unknown, principal: Principal = ADMIN): TE.TaskEither<AppError, Webhook> =>
    pipe(
      TE.fromEither(
        pipe(
          decodeOrInvalid(WebhookInput, body, { what: 'The webhook' }),
          E.chain(checkDestination({ allowPrivateDestinations: deps.allowPrivateDestinations, allowedDestinationPorts: deps.allowedDestinationPorts, what: 'The webhook' })),
          E.chain(checkMaxAttempts(deps.maxAttemptsAllowed, 'The webhook')),
        ),
      ),
      TE.chain((input) =>
        pipe(
          grantsForWrite(deps, principal),
          TE.chainEitherK((grants) => checkTenantInput({ deps, principal, grants })(input)),
        ),
      ),
      TE.chain((input) => {
        const now = deps.clock.now();
        const webhook: Webhook = {
          id: ulid(now.getTime(), deps.randomBytes(ULID_RANDOM_BYTES)) as WebhookId,
          ...fromInput(input, { now, verifyDefault: deps.verifyEndpointsDefault, verificationRequired: verificationRequired(deps, principal) }),
          secret: signingSecret(deps.randomBytes(SECRET_BYTES)) as WebhookSecret,
          createdAt: now.toISOString(),
          updatedAt: now.toISOString(),
          ...(principal.kind === 'Tenant' ? { tenantId: principal.tenantId } : {}),
        } as Webhook;
        return deps.webhooks.create(webhook);
      }),
    );
