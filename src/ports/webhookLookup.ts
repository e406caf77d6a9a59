import type * as TE from 'fp-ts/TaskEither';
import type { LookupHint } from '../domain/delivery';
import type { AppError } from '../domain/errors';
import type { Webhook } from '../domain/webhook';

/**
 * The webhooks with these ids that exist (deleted ones are absent from the map). `hint`, made by the
 * store for the fan-out page the ids came from, lets the adapter read them in one go; ids not found
 * that way (changed since) are read one way or another all the same. The map may also hold other
 * webhooks the same read found (the rest of the page): callers look up by id.
 */
export type WebhookLookup = (ids: readonly string[], hint?: LookupHint) => TE.TaskEither<AppError, ReadonlyMap<string, Webhook>>;
