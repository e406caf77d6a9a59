import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import { ADMIN, type Principal } from '../domain/tenant';
import { type Webhook, WebhookInput } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { WebhookStore } from '../ports/webhookStore';
import { fromInput, withInput } from './createWebhook';
import type { PortRanges } from '../domain/destination';
import { checkDestination } from './checkDestination';
import { decodeOrInvalid } from './decode';
import { decodeWebhookId, ownedBy } from './getWebhook';
import { checkTenantInput, grantsForWrite, type TenantRulesDeps, verificationRequired } from './tenantRules';

export type ReplaceWebhookDeps = TenantRulesDeps & { readonly webhooks: WebhookStore; readonly clock: Clock; readonly allowPrivateDestinations?: boolean; readonly allowedDestinationPorts?: PortRanges };

/** PUT: the body replaces every field but the id, the secrets, the owner and the creation time. */
export const replaceWebhook =
  (deps: ReplaceWebhookDeps) =>
  (request: { id: string; body: unknown; principal?: Principal }): TE.TaskEither<AppError, Webhook> =>
    pipe(
      TE.fromEither(
        pipe(
          decodeWebhookId(request.id),
          E.chain((id) =>
            pipe(
              decodeOrInvalid(WebhookInput, request.body, { what: 'The webhook' }),
              E.chain(checkDestination({ allowPrivateDestinations: deps.allowPrivateDestinations, allowedDestinationPorts: deps.allowedDestinationPorts, what: 'The webhook' })),
              E.map((input) => ({ id, input })),
            ),
          ),
        ),
      ),
      TE.chain(({ id, input }) => {
        const principal = request.principal ?? ADMIN;
        return pipe(
          grantsForWrite(deps, principal),
          TE.chain((grants) =>
            deps.webhooks.update(id, (current) =>
              pipe(
                ownedBy(principal)(current),
                E.chain(() => checkTenantInput({ deps, principal, grants, previous: current })(input)),
                E.map(() => {
                  const now = deps.clock.now();
                  return withInput(current, fromInput(input, { now, previous: current, verificationRequired: verificationRequired(deps, principal) }), now);
                }),
              ),
            ),
          ),
        );
      }),
    );
