import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import { ADMIN, mayAccess, type Principal } from '../domain/tenant';
import type { WebhookStore } from '../ports/webhookStore';
import { decodeWebhookId } from './getWebhook';

export const deleteWebhook =
  (webhooks: WebhookStore) =>
  (id: string, principal: Principal = ADMIN): TE.TaskEither<AppError, void> =>
    pipe(
      TE.fromEither(decodeWebhookId(id)),
      TE.chain((webhookId) => webhooks.delete(webhookId, { mayDelete: (w) => mayAccess(principal, w.tenantId) })),
    );
