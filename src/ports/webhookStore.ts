import type * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';
import type { PublicEventName } from '../domain/catalogue';
import type { LookupHint } from '../domain/delivery';
import type { AppError } from '../domain/errors';
import type { Webhook, WebhookId, WebhookWithoutSecrets } from '../domain/webhook';

export type WebhookPage = {
  readonly items: readonly Webhook[];
  /** Present when more items follow; opaque to callers. */
  readonly continuationToken?: string;
};

/** A page of the fan-out: webhooks as the index holds them, without their secrets (docs/secrets.md). */
export type SubscribedPage = Omit<WebhookPage, 'items'> & {
  readonly items: readonly WebhookWithoutSecrets[];
  /**
   * Where the store has them: the hint for a message holding these webhooks of the page, which lets
   * the WebhookLookup read them in one go (the table store's is the whole page's, one text for all its
   * messages, so the page is read once). Undefined when it has none for them (an id not in the page).
   */
  readonly lookupHint?: (ids: readonly WebhookId[]) => LookupHint | undefined;
};

export type WebhookStore = {
  /** Stores a new webhook (ids are fresh ULIDs; a clash is a Conflict). */
  create(webhook: Webhook): TE.TaskEither<AppError, Webhook>;
  /** NotFound when no webhook has this id. */
  get(id: WebhookId): TE.TaskEither<AppError, Webhook>;
  /** Webhooks in id (creation) order, only one tenant's when `tenantId` is given. A token the store did not issue is Invalid. */
  list(page: { limit: number; continuationToken?: string; tenantId?: string }): TE.TaskEither<AppError, WebhookPage>;
  /**
   * Reads the webhook, applies `change` and writes the result if nobody wrote in between
   * (otherwise reads and applies again). NotFound when it does not exist; errors of `change` pass through.
   */
  update(id: WebhookId, change: (current: Webhook) => E.Either<AppError, Webhook>): TE.TaskEither<AppError, Webhook>;
  /** NotFound when no webhook has this id, or when `mayDelete` refuses the stored webhook (another tenant's). */
  delete(id: WebhookId, guard?: { mayDelete: (current: Webhook) => boolean }): TE.TaskEither<AppError, void>;
  /**
   * What the fan-out reads: the webhooks subscribed to `eventName`, to a pattern over it
   * (`service:*`) or to `*`, each once, without scanning the webhooks subscribed to other events.
   * Disabled and unverified webhooks are left out; leases are not (they end by the clock: the
   * fan-out checks them).
   */
  pageSubscribedTo(query: {
    eventName: PublicEventName;
    /**
     * The value of the event's routing attribute (catalogue.ts) the webhooks must have; absent, any
     * value. Either way only webhooks that have the attribute come back: the event requires it.
     */
    routingValue?: string;
    continuationToken?: string;
    pageSize: number;
  }): TE.TaskEither<AppError, SubscribedPage>;
};
