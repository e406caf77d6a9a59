import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { Webhook } from '../domain/webhook';

/** The webhooks with these ids that exist (deleted ones are absent from the map). */
export type WebhookLookup = (ids: readonly string[]) => TE.TaskEither<AppError, ReadonlyMap<string, Webhook>>;
