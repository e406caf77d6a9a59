import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { type AppError, notFound } from '../domain/errors';
import { ADMIN, mayAccess, type Principal } from '../domain/tenant';
import { type Webhook, WebhookId } from '../domain/webhook';
import type { WebhookStore } from '../ports/webhookStore';

const noWebhook = (id: string): AppError => notFound(`No webhook with id "${id.slice(0, 64)}"`);

/** An id that cannot be a webhook id names no webhook: NotFound, like an unknown one. */
export const decodeWebhookId = (id: string): E.Either<AppError, WebhookId> =>
  pipe(
    WebhookId.decode(id),
    E.mapLeft(() => noWebhook(id)),
  );

/**
 * Another tenant's webhook answers exactly as an unknown id: a tenant cannot even learn that it
 * exists. The admin may access every webhook.
 */
export const ownedBy =
  (principal: Principal) =>
  (webhook: Webhook): E.Either<AppError, Webhook> =>
    mayAccess(principal, webhook.tenantId) ? E.right(webhook) : E.left(noWebhook(webhook.id));

export const getWebhook =
  (webhooks: WebhookStore) =>
  (id: string, principal: Principal = ADMIN): TE.TaskEither<AppError, Webhook> =>
    pipe(TE.fromEither(decodeWebhookId(id)), TE.chain(webhooks.get), TE.chainEitherK(ownedBy(principal)));
