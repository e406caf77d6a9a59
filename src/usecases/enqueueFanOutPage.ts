import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { decodePayload, type DeliveryPlan, planForEvent, routingAttributeOf } from '../domain/catalogue';
import { type DeliveryItem, deliveryIdFor, type DeliveryMessage, packMessages } from '../domain/delivery';
import { type AppError, permanent } from '../domain/errors';
import { deliveriesFor } from '../domain/mapping';
import { holds, type RoutingGrants } from '../domain/routingGrants';
import { isActive, type WebhookWithoutSecrets } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { DeliveryQueue } from '../ports/deliveryQueue';
import type { FanOutCursor } from '../ports/dispatch';
import type { TenantGrants } from '../ports/tenantGrants';
import type { EventStore, StoredEvent } from '../ports/eventStore';
import type { SubscribedPage, WebhookStore } from '../ports/webhookStore';
import { claimedItems, withPayloadRef } from './claimCheck';

export type FanOutPageDeps = {
  readonly events: Pick<EventStore, 'get'>;
  readonly webhooks: Pick<WebhookStore, 'pageSubscribedTo'>;
  readonly queue: DeliveryQueue;
  readonly pageSize: number;
  readonly maxDeliveriesPerMessage: number;
  /** Leases end by the clock; absent = the system clock. */
  readonly clock?: Clock;
  /** DISABLED_EVENTS: public events this deployment does not emit (a plan for one yields nothing). */
  readonly disabledEvents?: ReadonlySet<string>;
  /** Each tenant's routing grants now (cached for TENANT_GRANTS_CACHE_SECONDS); read only for pages holding tenant webhooks. */
  readonly grantsOf: TenantGrants;
};

export type { FanOutCursor };

export type FanOutPageResult = {
  readonly deliveries: number;
  readonly messages: number;
  /** The next page, or undefined when the event is fully fanned out. */
  readonly next?: FanOutCursor;
};

/**
 * Each message of several deliveries carries the store's hint for its webhooks: the worker reads them
 * in one go instead of by id (for the table store, one key range rather than an `or` over row keys,
 * a partition scan whose cost grows with the registry).
 */
const withLookupHints = (messages: readonly DeliveryMessage[], page: SubscribedPage): DeliveryMessage[] =>
  messages.map((message) => {
    const hint = message.items.length < 2 ? undefined : page.lookupHint?.(message.items.map((item) => item.webhookId));
    return hint === undefined ? message : { ...message, lookupHint: hint };
  });

/** A plan that names its event's routing value (a `ping` to one name) reads only the webhooks with it. */
const routingOf = (plan: DeliveryPlan): { routingValue?: string } => {
  const attribute = routingAttributeOf(plan.publicEventName);
  const value = attribute === undefined ? undefined : plan.basePayload[attribute];
  return value === undefined ? {} : { routingValue: value };
};

/**
 * Routing grants at delivery planning (docs/tenants.md): a tenant-owned webhook is kept only when
 * its tenant holds its value of the plan's routing attribute, the value the event matches it on
 * (a targeted event's, or the webhook's own for `ping:all` and the AUTO fan-outs). Admin webhooks,
 * and every webhook for an event without a routing attribute, pass.
 */
export const grantedOnly = <W extends WebhookWithoutSecrets>(grantsOf: TenantGrants, plan: DeliveryPlan, webhooks: readonly W[]): TE.TaskEither<AppError, W[]> => {
  const attribute = routingAttributeOf(plan.publicEventName);
  const tenantIds = [...new Set(webhooks.flatMap((w) => (w.tenantId === undefined ? [] : [w.tenantId as string])))];
  if (attribute === undefined || tenantIds.length === 0) return TE.right([...webhooks]);
  return pipe(
    tenantIds.map((id) =>
      pipe(
        grantsOf(id),
        TE.map((grants) => [id, grants] as const),
      ),
    ),
    TE.sequenceSeqArray,
    TE.map((entries) => {
      const grantsBy = new Map<string, RoutingGrants | undefined>(entries);
      return webhooks.filter((w) => w.tenantId === undefined || holds(grantsBy.get(w.tenantId), attribute, w.attributes[attribute] ?? ''));
    }),
  );
};

/** A page of the fan-out read and packed, not yet enqueued. */
export type PlannedPage = {
  readonly deliveries: number;
  readonly messages: readonly DeliveryMessage[];
  /** The next page, or undefined when the event is fully fanned out. */
  readonly next?: FanOutCursor;
};

/**
 * Reads one page of the webhooks subscribed to the current plan's public event, and packs the
 * deliveries they match several to a message, without sending them (ingest decides when:
 * `dispatchEvent.ts`).
 */
export const planFanOutPage =
  (deps: FanOutPageDeps) =>
  (cursor: FanOutCursor, known?: StoredEvent): TE.TaskEither<AppError, PlannedPage> =>
    pipe(
      // Ingest hands over the event it has; the orchestration's activities read it.
      known !== undefined && known.id === cursor.eventId ? TE.right(known) : deps.events.get(cursor.eventId),
      TE.chainEitherK((stored) =>
        pipe(
          decodePayload(stored.name, stored.payload),
          E.mapLeft(() => permanent(`Stored event ${cursor.eventId} no longer matches its codec`)),
        ),
      ),
      TE.chain((event) => {
        const plans = planForEvent(event);
        const plan = plans[cursor.planIndex];
        if (plan === undefined) return TE.right({ deliveries: 0, messages: [] });
        const nextPlan = (): FanOutCursor | undefined => (cursor.planIndex + 1 < plans.length ? { eventId: cursor.eventId, planIndex: cursor.planIndex + 1 } : undefined);
        // A disabled public event is not delivered: its plan is skipped without reading webhooks.
        if (deps.disabledEvents?.has(plan.publicEventName) === true) {
          const next = nextPlan();
          return TE.right({ deliveries: 0, messages: [], ...(next ? { next } : {}) });
        }
        const now = (deps.clock ?? { now: () => new Date() }).now();
        return pipe(
          deps.webhooks.pageSubscribedTo({ eventName: plan.publicEventName, ...routingOf(plan), continuationToken: cursor.continuationToken, pageSize: deps.pageSize }),
          TE.chain((page) =>
            pipe(
              grantedOnly(
                deps.grantsOf,
                plan,
                page.items.filter((w) => isActive(w, now)),
              ),
              TE.map((webhooks) => ({ page, webhooks })),
            ),
          ),
          TE.map(({ page, webhooks }): PlannedPage => {
            const planned: DeliveryItem[] = deliveriesFor(plan, webhooks).map((d) => ({
              deliveryId: deliveryIdFor({ eventId: cursor.eventId, publicEventName: d.body.name, webhookId: d.webhook.id }),
              webhookId: d.webhook.id,
              ...(d.webhook.tenantId === undefined ? {} : { tenantId: d.webhook.tenantId }),
              body: { name: d.body.name, payload: { ...d.body.payload } },
              attempts: [],
            }));
            // A large payload's long fields stay in its blob; the messages carry its reference.
            const { items, ref } = claimedItems(event.payload, planned);
            const messages = withPayloadRef(withLookupHints(packMessages(cursor.eventId, items, deps.maxDeliveriesPerMessage), page), ref);
            const next = page.continuationToken !== undefined ? { ...cursor, continuationToken: page.continuationToken } : nextPlan();
            return { deliveries: items.length, messages, ...(next ? { next } : {}) };
          }),
        );
      }),
    );

/** Sends a planned page's messages (none for an empty page). */
export const enqueuePlannedPage =
  (queue: DeliveryQueue) =>
  (planned: PlannedPage): TE.TaskEither<AppError, FanOutPageResult> =>
    pipe(
      planned.messages.length > 0 ? queue.enqueue(planned.messages) : TE.right(undefined),
      TE.map((): FanOutPageResult => ({ deliveries: planned.deliveries, messages: planned.messages.length, ...(planned.next ? { next: planned.next } : {}) })),
    );

/**
 * One step of the fan-out: one page read, packed and enqueued. Idempotent enough: delivery ids are
 * deterministic, so a step that runs twice enqueues repeats receivers drop.
 */
export const enqueueFanOutPage =
  (deps: FanOutPageDeps) =>
  (cursor: FanOutCursor, known?: StoredEvent): TE.TaskEither<AppError, FanOutPageResult> =>
    pipe(planFanOutPage(deps)(cursor, known), TE.chain(enqueuePlannedPage(deps.queue)));
