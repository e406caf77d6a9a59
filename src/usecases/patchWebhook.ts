import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import { ADMIN, type Principal } from '../domain/tenant';
import { applyPatch, type Webhook, WebhookInput, WebhookPatch } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { WebhookStore } from '../ports/webhookStore';
import { fromInput, withInput } from './createWebhook';
import type { PortRanges } from '../domain/destination';
import { checkDestination } from './checkDestination';
import { decodeOrInvalid } from './decode';
import { decodeWebhookId, ownedBy } from './getWebhook';
import { checkTenantInput, grantsForWrite, type TenantRulesDeps, verificationRequired } from './tenantRules';

export type PatchWebhookDeps = TenantRulesDeps & { readonly webhooks: WebhookStore; readonly clock: Clock; readonly allowPrivateDestinations?: boolean; readonly allowedDestinationPorts?: PortRanges };

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
          E.chain((id) => pipe(decodeOrInvalid(WebhookPatch, request.body, { what: 'The patch' }), E.map((patch) => ({ id, patch })))),
        ),
      ),
      TE.chain(({ id, patch }) => {
        const principal = request.principal ?? ADMIN;
        return pipe(
          grantsForWrite(deps, principal),
          TE.chain((grants) =>
            deps.webhooks.update(id, (current) =>
              pipe(
                ownedBy(principal)(current),
                E.chain(() => decodeOrInvalid(WebhookInput, applyPatch(current, patch), { what: 'The patched webhook' })),
                E.chain(checkDestination({ allowPrivateDestinations: deps.allowPrivateDestinations, allowedDestinationPorts: deps.allowedDestinationPorts, what: 'The patched webhook' })),
                E.chain(checkTenantInput({ deps, principal, grants, previous: current })),
                E.map((input) => {
                  const now = deps.clock.now();
                  return withInput(current, fromInput(input, { now, previous: current, verificationRequired: verificationRequired(deps, principal) }), now);
                }),
              ),
            ),
          ),
        );
      }),
    );
