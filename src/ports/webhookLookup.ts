import type * as TE from 'fp-ts/TaskEither';
import type { LookupRange } from '../domain/delivery';
import type { AppError } from '../domain/errors';
import type { Webhook } from '../domain/webhook';

/**
 * The webhooks with these ids that exist (deleted ones are absent from the map). `range`, from the
 * fan-out page the ids came from, lets the adapter read them in one key range; ids not found there
 * (changed since) are read one way or another all the same.
 */
export type WebhookLookup = (ids: readonly string[], range?: LookupRange) => TE.TaskEither<AppError, ReadonlyMap<string, Webhook>>;
