import * as TE from 'fp-ts/TaskEither';
import type { Webhook } from '../../../domain/webhook';
import type { WebhookLookup } from '../../../ports/webhookLookup';
import type { MemoryWebhookStore } from './memoryWebhookStore';

/** The WebhookLookup over a memory webhook store (its `failWith` fails the lookup too). */
export const memoryWebhookLookup =
  (store: MemoryWebhookStore): WebhookLookup =>
  (ids) => {
    if (store.failWith !== undefined) return TE.left(store.failWith);
    const found = new Map<string, Webhook>();
    for (const id of ids) {
      const webhook = store.rows.get(id);
      if (webhook !== undefined) found.set(id, webhook);
    }
    return TE.right(found);
  };
