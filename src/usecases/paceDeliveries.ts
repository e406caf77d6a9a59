import * as A from 'fp-ts/Array';
import { pipe } from 'fp-ts/function';
import * as T from 'fp-ts/Task';
import * as TE from 'fp-ts/TaskEither';
import type { DeliveryItem } from '../domain/delivery';
import { HOLD_ON_ERROR_SECONDS, type Pace, paceFor } from '../domain/rateLimit';
import type { WebhookWithoutSecrets } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { RateLimiter } from '../ports/rateLimiter';

export type PacingDeps = {
  /** Absent: limits are not enforced (unit tests of other concerns). */
  readonly rateLimiter?: RateLimiter;
  readonly clock: Clock;
  readonly warn: (message: string) => void;
};

export type PacedItem = { readonly item: DeliveryItem; readonly webhook: Pick<WebhookWithoutSecrets, 'id' | 'rateLimitPerSecond'> };

/**
 * The pace of each delivery of a message to a rate-limited webhook, by delivery id. Deliveries to
 * unlimited webhooks get none and cost nothing; a limited webhook's deliveries that hold no slot
 * yet reserve theirs together (one reservation per webhook per message); held ones keep theirs.
 */
export const paceDeliveries = (deps: PacingDeps, items: readonly PacedItem[]): T.Task<ReadonlyMap<string, Pace>> => {
  const limiter = deps.rateLimiter;
  if (limiter === undefined) return T.of(new Map());
  const byWebhook = new Map<string, { rate: number; items: DeliveryItem[] }>();
  for (const { item, webhook } of items) {
    if (webhook.rateLimitPerSecond === undefined) continue;
    const group = byWebhook.get(webhook.id) ?? { rate: webhook.rateLimitPerSecond, items: [] };
    group.items.push(item);
    byWebhook.set(webhook.id, group);
  }
  if (byWebhook.size === 0) return T.of(new Map());
  const now = deps.clock.now();
  const paces = new Map<string, Pace>();
  const reservations = [...byWebhook].map(([webhookId, group]): T.Task<void> => {
    for (const item of group.items) if (item.slotMs !== undefined) paces.set(item.deliveryId, paceFor(item.slotMs, now.getTime()));
    const fresh = group.items.filter((i) => i.slotMs === undefined);
    if (fresh.length === 0) return T.of(undefined);
    return pipe(
      limiter.reserve({ webhookId, ratePerSecond: group.rate, count: fresh.length, now }),
      TE.match(
        (e) => {
          // Never sent unpaced: the deliveries come back later and reserve again.
          deps.warn(`rate limit slots of webhook ${webhookId} not reserved, ${fresh.length} deliveries held back: ${e.message}`);
          for (const item of fresh) paces.set(item.deliveryId, { kind: 'Hold', delaySeconds: HOLD_ON_ERROR_SECONDS });
        },
        (slots) => fresh.forEach((item, i) => paces.set(item.deliveryId, paceFor(slots[i] ?? now.getTime(), now.getTime()))),
      ),
    );
  });
  return pipe(
    reservations,
    A.sequence(T.ApplicativePar),
    T.map(() => paces),
  );
};

/** The delivery as it goes back to the queue: the same attempts, and the slot it holds (if any). */
export const heldItem = (item: DeliveryItem, pace: Extract<Pace, { kind: 'Hold' }>): DeliveryItem => {
  const { slotMs: _previous, ...rest } = item;
  return pace.slotMs === undefined ? rest : { ...rest, slotMs: pace.slotMs };
};
