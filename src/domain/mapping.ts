import * as E from 'fp-ts/Either';
import type * as t from 'io-ts';
import { type DeliveryPlan, PUBLIC_EVENTS, type PublicEventName, routingAttributeOf } from './catalogue';
import { canReceive, coversEvent, type WebhookWithoutSecrets } from './webhook';

/*
 * The pure half of the fan-out: for each plan of an event (catalogue.ts), the deliveries one page of
 * webhooks yields. The fan-out pages through `WebhookStore.pageSubscribedTo(plan.publicEventName)`
 * and calls `deliveriesFor` per page, so no step holds every webhook at once.
 */

/** The body a subscriber receives. */
export type PublicEventBody = { readonly name: PublicEventName; readonly payload: Readonly<Record<string, string>> };

export type Delivery = { readonly webhook: WebhookWithoutSecrets; readonly body: PublicEventBody };

export const subscribesTo = (webhook: WebhookWithoutSecrets, eventName: PublicEventName): boolean => webhook.subscriptions.some((s) => coversEvent(s, eventName));

/**
 * Where the fan-out's index holds a webhook for an event: its value of the event's routing attribute
 * ('' when the event has none), or undefined when it lacks that value, which the event requires, so
 * it could never match.
 */
export const routingSlot = (eventName: string, webhook: WebhookWithoutSecrets): string | undefined => {
  const attribute = routingAttributeOf(eventName);
  if (attribute === undefined) return '';
  const value = webhook.attributes[attribute];
  return value === undefined || value === '' ? undefined : value;
};

const has = (record: Readonly<Record<string, string>>, key: string): boolean => Object.prototype.hasOwnProperty.call(record, key);

/**
 * DESIGN.md section 2: the webhook is enabled, subscribes to the event, has every attribute the
 * event requires (non-empty), and every payload field that is also one of its attributes is equal.
 * A webhook waiting for endpoint verification matches nothing (its lease is checked by the fan-out,
 * which knows the time).
 */
export const matches = (eventName: PublicEventName, payload: Readonly<Record<string, string>>, webhook: WebhookWithoutSecrets): boolean =>
  canReceive(webhook) &&
  subscribesTo(webhook, eventName) &&
  PUBLIC_EVENTS[eventName].requiredAttributes.every((a) => has(webhook.attributes, a) && webhook.attributes[a] !== '') &&
  Object.entries(payload).every(([field, value]) => !has(webhook.attributes, field) || webhook.attributes[field] === value);

/**
 * The payload without the fields that are the webhook's own attributes (routing data the receiver
 * knows), and, when the webhook lists `fields` (projection), without any field it did not list.
 */
export const deliveredPayload = (payload: Readonly<Record<string, string>>, webhook: WebhookWithoutSecrets): Record<string, string> =>
  Object.fromEntries(Object.entries(payload).filter(([field]) => !has(webhook.attributes, field) && (webhook.fields === undefined || webhook.fields.includes(field))));

/**
 * The public payload a plan yields for one webhook: undefined when the webhook lacks an attribute the
 * plan takes, or when the result is not a valid payload of the public event.
 */
export const publicPayloadFor = (plan: DeliveryPlan, webhook: WebhookWithoutSecrets): Record<string, string> | undefined => {
  const fromWebhook: Record<string, string> = {};
  for (const attribute of plan.fromAttributes) {
    const value = webhook.attributes[attribute];
    if (value === undefined) return undefined;
    fromWebhook[attribute] = value;
  }
  const codec: t.Decoder<unknown, Record<string, string>> = PUBLIC_EVENTS[plan.publicEventName].payload;
  const decoded = codec.decode({ ...plan.basePayload, ...fromWebhook });
  return E.isRight(decoded) ? decoded.right : undefined;
};

/** The deliveries one page of webhooks yields for one plan. */
export const deliveriesFor = (plan: DeliveryPlan, webhooks: readonly WebhookWithoutSecrets[]): Delivery[] =>
  webhooks.flatMap((webhook) => {
    const payload = publicPayloadFor(plan, webhook);
    if (payload === undefined || !matches(plan.publicEventName, payload, webhook)) return [];
    return [{ webhook, body: { name: plan.publicEventName, payload: deliveredPayload(payload, webhook) } }];
  });
