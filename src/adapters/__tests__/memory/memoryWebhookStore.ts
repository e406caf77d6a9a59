import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import { routingAttributeOf } from '../../../domain/catalogue';
import { type AppError, conflict, invalid, notFound } from '../../../domain/errors';
import { routingSlot } from '../../../domain/mapping';
import { canReceive, coversEvent, type Webhook } from '../../../domain/webhook';
import type { WebhookPage, WebhookStore } from '../../../ports/webhookStore';

/**
 * The WebhookStore contract in memory, for unit tests of use cases. `failWith` makes every call
 * fail, to test how callers handle a store that is down.
 */
export type MemoryWebhookStore = WebhookStore & { readonly rows: Map<string, Webhook>; failWith?: AppError };

const page = (sorted: readonly Webhook[], after: string | undefined, limit: number): WebhookPage => {
  const rest = after === undefined ? sorted : sorted.filter((w) => w.id > after);
  const items = rest.slice(0, limit);
  const last = items[items.length - 1];
  return rest.length > limit && last !== undefined ? { items, continuationToken: last.id } : { items };
};

export const memoryWebhookStore = (): MemoryWebhookStore => {
  const rows = new Map<string, Webhook>();
  const store: MemoryWebhookStore = {
    rows,
    create: (webhook) =>
      store.failWith !== undefined ? TE.left(store.failWith) : rows.has(webhook.id) ? TE.left(conflict(`webhook ${webhook.id} exists`)) : (rows.set(webhook.id, webhook), TE.right(webhook)),
    get: (id) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      const found = rows.get(id);
      return found === undefined ? TE.left(notFound(`No webhook with id "${id}"`)) : TE.right(found);
    },
    list: ({ limit, continuationToken, tenantId }) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      if (continuationToken !== undefined && !/^[0-9A-Z]{26}$/.test(continuationToken)) return TE.left(invalid('The query is invalid', ['continuationToken: is not a token this API issued']));
      const visible = [...rows.values()].filter((w) => tenantId === undefined || w.tenantId === tenantId);
      return TE.right(
        page(
          visible.sort((a, b) => (a.id < b.id ? -1 : 1)),
          continuationToken,
          limit,
        ),
      );
    },
    update: (id, change) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      const found = rows.get(id);
      if (found === undefined) return TE.left(notFound(`No webhook with id "${id}"`));
      const changed = change(found);
      if (E.isRight(changed)) rows.set(id, changed.right);
      return TE.fromEither(changed);
    },
    delete: (id, guard) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      const found = rows.get(id);
      if (found === undefined || (guard !== undefined && !guard.mayDelete(found))) return TE.left(notFound(`No webhook with id "${id}"`));
      rows.delete(id);
      return TE.right(undefined);
    },
    pageSubscribedTo: ({ eventName, routingValue, continuationToken, pageSize }) => {
      if (store.failWith !== undefined) return TE.left(store.failWith);
      // As the table store's index: webhooks with a routing slot, the value asked for if the event has one.
      const narrowed = routingValue !== undefined && routingAttributeOf(eventName) !== undefined;
      const routed = (w: Webhook): boolean => {
        const slot = routingSlot(eventName, w);
        return slot !== undefined && (!narrowed || slot === routingValue);
      };
      const subscribed = [...rows.values()].filter((w) => canReceive(w) && w.subscriptions.some((s) => coversEvent(s, eventName)) && routed(w)).sort((a, b) => (a.id < b.id ? -1 : 1));
      // No lookup hint: the memory lookup reads by id anyway.
      return TE.right(page(subscribed, continuationToken, pageSize));
    },
  };
  return store;
};
