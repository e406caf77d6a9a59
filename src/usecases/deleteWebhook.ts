import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { WebhookStore } from '../ports/webhookStore';
import { decodeWebhookId } from './getWebhook';

export const deleteWebhook =
  (webhooks: WebhookStore) =>
  (id: string): TE.TaskEither<AppError, void> =>
    pipe(TE.fromEither(decodeWebhookId(id)), TE.chain(webhooks.delete));
