import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import type { AppError } from '../domain/errors';
import { SECRET_BYTES, signingSecret } from '../domain/ids';
import { ADMIN, type Principal } from '../domain/tenant';
import { withoutExtraFields } from '../domain/codecs';
import type { Webhook, WebhookSecret } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { RandomBytes } from '../ports/random';
import type { WebhookStore } from '../ports/webhookStore';
import { decodeOrInvalid } from './decode';
import { decodeWebhookId, ownedBy } from './getWebhook';

export const DEFAULT_OVERLAP_SECONDS = 24 * 3600;
export const MAX_OVERLAP_SECONDS = 30 * 24 * 3600;
/** Secrets kept for overlaps at once: rotating again within an overlap keeps the older ones signing too. */
export const MAX_PREVIOUS_SECRETS = 4;

export const OverlapSeconds = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0 && n <= MAX_OVERLAP_SECONDS, `whole seconds from 0 to ${MAX_OVERLAP_SECONDS}`);
export const RotateSecretInput = withoutExtraFields(t.partial({ overlapSeconds: OverlapSeconds }), ['overlapSeconds'], 'RotateSecretInput');

export type RotateSecretDeps = { readonly webhooks: Pick<WebhookStore, 'update'>; readonly clock: Clock; readonly randomBytes: RandomBytes };

/**
 * A new signing secret. For `overlapSeconds` (default a day) deliveries carry a signature with the
 * old secret beside the new one, so receivers can switch at any moment of the window; after it,
 * only the new one signs. Expired previous secrets are dropped here.
 */
export const rotateWebhookSecret =
  (deps: RotateSecretDeps) =>
  (request: { id: string; body: unknown; principal?: Principal }): TE.TaskEither<AppError, Webhook> =>
    pipe(
      TE.fromEither(
        pipe(
          decodeWebhookId(request.id),
          E.chain((id) =>
            pipe(
              decodeOrInvalid(RotateSecretInput, request.body ?? {}, { what: 'The rotation' }),
              E.map((input) => ({ id, input })),
            ),
          ),
        ),
      ),
      TE.chain(({ id, input }) =>
        deps.webhooks.update(id, (current) =>
          pipe(
            ownedBy(request.principal ?? ADMIN)(current),
            E.map(() => {
              const now = deps.clock.now();
              const overlap = input.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
              const stillValid = (current.previousSecrets ?? []).filter((p) => Date.parse(p.expiresAt) > now.getTime());
              const previous = overlap === 0 ? stillValid : [{ secret: current.secret, expiresAt: new Date(now.getTime() + overlap * 1000).toISOString() }, ...stillValid];
              const { previousSecrets: _old, ...rest } = current;
              return {
                ...rest,
                secret: signingSecret(deps.randomBytes(SECRET_BYTES)) as WebhookSecret,
                ...(previous.length === 0 ? {} : { previousSecrets: previous.slice(0, MAX_PREVIOUS_SECRETS) }),
                updatedAt: now.toISOString(),
              } as Webhook;
            }),
          ),
        ),
      ),
    );
