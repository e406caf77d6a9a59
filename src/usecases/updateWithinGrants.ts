import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { Principal } from '../domain/tenant';
import type { Webhook, WebhookId, WebhookInput } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { WebhookStore } from '../ports/webhookStore';
import { fromInput, withInput } from './createWebhook';
import { ownedBy } from './getWebhook';
import { checkTenantInput, grantsForWrite, type TenantRulesDeps, verificationRequired } from './tenantRules';

/**
 * The write step PUT and PATCH share: the caller's grants read once, then, inside the store's
 * optimistic update, ownership, the input the caller derives from the current webhook, the tenant
 * rules (grants, verification) and the new row.
 */
export const updateWithinGrants = (
  deps: TenantRulesDeps & { readonly webhooks: WebhookStore; readonly clock: Clock },
  request: { readonly id: WebhookId; readonly principal: Principal; readonly inputFor: (current: Webhook) => E.Either<AppError, WebhookInput> },
): TE.TaskEither<AppError, Webhook> =>
  pipe(
    grantsForWrite(deps, request.principal),
    TE.chain((grants) =>
      deps.webhooks.update(request.id, (current) =>
        pipe(
          ownedBy(request.principal)(current),
          E.chain(() => request.inputFor(current)),
          E.chain(checkTenantInput({ deps, principal: request.principal, grants, previous: current })),
          E.map((input) => {
            const now = deps.clock.now();
            return withInput(current, fromInput(input, { now, previous: current, verificationRequired: verificationRequired(deps, request.principal) }), now);
          }),
        ),
      ),
    ),
  );
