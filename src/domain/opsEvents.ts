import { createHash } from 'node:crypto';
import * as t from 'io-ts';
import { DisabledReason } from './endpointHealth';
import { PoisonReason } from './outcome';

/*
 * The dispatcher's own events (docs/delivery.md, "Operational events"), sent to OPS_WEBHOOK_URL
 * signed the Standard Webhooks way, with the body shape of every delivery: `{"name", "payload"}`.
 * They carry ids and reasons, never an event's payload (it may hold personal data).
 */

export const WebhookDisabledPayload = t.intersection([t.type({ webhookId: t.string, reason: DisabledReason, at: t.string }), t.partial({ tenantId: t.string })], 'WebhookDisabledPayload');
export const DeliveryExhaustedPayload = t.intersection(
  [t.type({ webhookId: t.string, eventId: t.string, deliveryId: t.string, attempts: t.number, reason: PoisonReason, at: t.string }), t.partial({ tenantId: t.string })],
  'DeliveryExhaustedPayload',
);
export const ReplayCompletedPayload = t.intersection(
  [
    t.type({
      webhookId: t.string,
      replayId: t.string,
      status: t.keyof({ Completed: null, Failed: null }),
      deliveries: t.number,
      since: t.string,
      until: t.string,
      only: t.keyof({ failed: null, all: null }),
      at: t.string,
    }),
    t.partial({ tenantId: t.string }),
  ],
  'ReplayCompletedPayload',
);

export const OpsEvent = t.union(
  [
    t.type({ name: t.literal('webhook.disabled'), payload: WebhookDisabledPayload }),
    t.type({ name: t.literal('delivery.exhausted'), payload: DeliveryExhaustedPayload }),
    t.type({ name: t.literal('replay.completed'), payload: ReplayCompletedPayload }),
  ],
  'OpsEvent',
);
export type OpsEvent = t.TypeOf<typeof OpsEvent>;
export type OpsEventName = OpsEvent['name'];
export const OPS_EVENT_NAMES: readonly OpsEventName[] = ['webhook.disabled', 'delivery.exhausted', 'replay.completed'];

/** What makes one occurrence unique: a repeat of it (a message run twice) keeps its `webhook-id`. */
const occurrenceKey = (event: OpsEvent): string => {
  switch (event.name) {
    case 'webhook.disabled':
      return `${event.payload.webhookId}|${event.payload.reason.kind === 'FailingSince' ? event.payload.reason.since : 'Gone'}`;
    case 'delivery.exhausted':
      return event.payload.deliveryId;
    case 'replay.completed':
      return event.payload.replayId;
  }
};

/** The `webhook-id` of an operational event: stable for one occurrence, so receivers drop repeats. */
export const opsEventId = (event: OpsEvent): string =>
  `ops_${createHash('sha256')
    .update(`${event.name}|${occurrenceKey(event)}`, 'utf8')
    .digest('base64url')
    .slice(0, 32)}`;
