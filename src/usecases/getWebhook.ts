import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { type AppError, notFound } from '../domain/errors';
import { type Webhook, WebhookId } from '../domain/webhook';
import type { WebhookStore } from '../ports/webhookStore';

/** An id that cannot be a webhook id names no webhook: NotFound, like an unknown one. */
export const decodeWebhookId = (id: string): E.Either<AppError, WebhookId> =>
  pipe(
    WebhookId.decode(id),
    E.mapLeft(() => notFound(`No webhook with id "${id.slice(0, 64)}"`)),
  );

export const getWebhook =
  (webhooks: WebhookStore) =>
  (id: string): TE.TaskEither<AppError, Webhook> =>
    pipe(TE.fromEither(decodeWebhookId(id)), TE.chain(webhooks.get));
