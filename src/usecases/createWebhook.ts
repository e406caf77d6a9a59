import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import { SECRET_BYTES, signingSecret, ULID_RANDOM_BYTES, ulid } from '../domain/ids';
import { normalizeSubscriptions, type Webhook, type WebhookId, WebhookInput, type WebhookSecret } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { RandomBytes } from '../ports/random';
import type { WebhookStore } from '../ports/webhookStore';
import { checkDestination } from './checkDestination';
import { decodeOrInvalid } from './decode';

export type CreateWebhookDeps = {
  readonly webhooks: WebhookStore;
  readonly clock: Clock;
  readonly randomBytes: RandomBytes;
  /** ALLOW_PRIVATE_DESTINATIONS; absent = refuse URLs on IP literals that are not public and on localhost. */
  readonly allowPrivateDestinations?: boolean;
};

/** A decoded create/replace body with its defaults applied. */
export const fromInput = (input: WebhookInput): Pick<Webhook, 'url' | 'subscriptions' | 'attributes' | 'headers' | 'disabled'> => ({
  url: input.url,
  subscriptions: normalizeSubscriptions(input.subscriptions),
  attributes: input.attributes ?? {},
  headers: input.headers ?? {},
  disabled: input.disabled ?? false,
});

/** Registers a webhook with a fresh id and signing secret; the answer is the only place the secret shows. */
export const createWebhook =
  (deps: CreateWebhookDeps) =>
  (body: unknown): TE.TaskEither<AppError, Webhook> =>
    pipe(
      TE.fromEither(pipe(decodeOrInvalid(WebhookInput, body, { what: 'The webhook' }), E.chain(checkDestination({ allowPrivateDestinations: deps.allowPrivateDestinations, what: 'The webhook' })))),
      TE.chain((input) => {
        const now = deps.clock.now();
        const webhook: Webhook = {
          id: ulid(now.getTime(), deps.randomBytes(ULID_RANDOM_BYTES)) as WebhookId,
          ...fromInput(input),
          secret: signingSecret(deps.randomBytes(SECRET_BYTES)) as WebhookSecret,
          createdAt: now.toISOString(),
          updatedAt: now.toISOString(),
        } as Webhook;
        return deps.webhooks.create(webhook);
      }),
    );
