import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import { ADMIN, type Principal } from '../domain/tenant';
import { type Webhook, WebhookInput } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { WebhookStore } from '../ports/webhookStore';
import type { PortRanges } from '../domain/destination';
import { checkMaxAttempts } from '../domain/endpointControls';
import { checkDestination } from './checkDestination';
import { decodeOrInvalid } from './decode';
import { decodeWebhookId } from './getWebhook';
import type { TenantRulesDeps } from './tenantRules';
import { updateWithinGrants } from './updateWithinGrants';

export type ReplaceWebhookDeps = TenantRulesDeps & {
  readonly webhooks: WebhookStore;
  readonly clock: Clock;
  readonly allowPrivateDestinations?: boolean;
  readonly allowedDestinationPorts?: PortRanges;
  readonly maxAttemptsAllowed?: number;
};

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
              E.chain(checkMaxAttempts(deps.maxAttemptsAllowed, 'The webhook')),
              E.map((input) => ({ id, input })),
            ),
          ),
        ),
      ),
      TE.chain(({ id, input }) => updateWithinGrants(deps, { id, principal: request.principal ?? ADMIN, inputFor: () => E.right(input) })),
    );
