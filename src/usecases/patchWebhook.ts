import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import { ADMIN, type Principal } from '../domain/tenant';
import { applyPatch, type Webhook, WebhookInput, WebhookPatch } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { WebhookStore } from '../ports/webhookStore';
import type { PortRanges } from '../domain/destination';
import { checkMaxAttempts } from '../domain/endpointControls';
import { checkDestination } from './checkDestination';
import { decodeOrInvalid } from './decode';
import { decodeWebhookId } from './getWebhook';
import type { TenantRulesDeps } from './tenantRules';
import { updateWithinGrants } from './updateWithinGrants';

export type PatchWebhookDeps = TenantRulesDeps & {
  readonly webhooks: WebhookStore;
  readonly clock: Clock;
  readonly allowPrivateDestinations?: boolean;
  readonly allowedDestinationPorts?: PortRanges;
  readonly maxAttemptsAllowed?: number;
};

/**
 * PATCH with JSON merge patch semantics. The merged webhook is validated again, so limits (number
 * of attributes or headers) hold for the result, not only for the patch. `leaseSeconds` renews
 * the lease from now.
 */
export const patchWebhook =
  (deps: PatchWebhookDeps) =>
  (request: { id: string; body: unknown; principal?: Principal }): TE.TaskEither<AppError, Webhook> =>
    pipe(
      TE.fromEither(
        pipe(
          decodeWebhookId(request.id),
          E.chain((id) =>
            pipe(
              decodeOrInvalid(WebhookPatch, request.body, { what: 'The patch' }),
              E.map((patch) => ({ id, patch })),
            ),
          ),
        ),
      ),
      TE.chain(({ id, patch }) =>
        updateWithinGrants(deps, {
          id,
          principal: request.principal ?? ADMIN,
          inputFor: (current) =>
            pipe(
              decodeOrInvalid(WebhookInput, applyPatch(current, patch), { what: 'The patched webhook' }),
              E.chain(checkDestination({ allowPrivateDestinations: deps.allowPrivateDestinations, allowedDestinationPorts: deps.allowedDestinationPorts, what: 'The patched webhook' })),
              E.chain(checkMaxAttempts(deps.maxAttemptsAllowed, 'The patched webhook')),
            ),
        }),
      ),
    );
