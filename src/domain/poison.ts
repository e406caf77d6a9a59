import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { type DeliveryMessage, DeliveryMessage as DeliveryMessageCodec, MESSAGE_VERSION, DeliveryBody, PoisonEntry } from './delivery';
import { EventId } from './events';
import { WebhookId } from './webhook';
import { DeliveryId } from './delivery';

/*
 * `deliveries-poison` holds two kinds of messages: entries the delivery function set aside with a
 * reason (PoisonEntry), and whole delivery messages the host moved there after the function failed
 * maxDequeueCount times (a crash, or storage down while recording outcomes). Anything else is
 * unreadable and stays where it is.
 */

export const PoisonItem = t.union(
  [
    t.type({ kind: t.literal('Undeliverable'), entry: PoisonEntry }),
    t.type({ kind: t.literal('FailedMessage'), message: DeliveryMessageCodec }),
    t.type({ kind: t.literal('Unreadable'), excerpt: t.string }),
  ],
  'PoisonItem',
);
export type PoisonItem = t.TypeOf<typeof PoisonItem>;

const MAX_EXCERPT_CHARS = 200;

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export const classifyPoison = (text: string): PoisonItem => {
  const value = parse(text);
  const entry = PoisonEntry.decode(value);
  if (E.isRight(entry)) return { kind: 'Undeliverable', entry: entry.right };
  const message = DeliveryMessageCodec.decode(value);
  if (E.isRight(message)) return { kind: 'FailedMessage', message: message.right };
  return { kind: 'Unreadable', excerpt: text.slice(0, MAX_EXCERPT_CHARS) };
};

/**
 * The delivery message a redrive enqueues, with a fresh attempt count (the webhook-id stays, so a
 * receiver that did get an earlier attempt drops the repeat); undefined when there is nothing to
 * deliver (an unreadable message, or an entry set aside because its own message was unreadable).
 */
export const redriveMessageFor = (item: PoisonItem): DeliveryMessage | undefined => {
  switch (item.kind) {
    case 'FailedMessage':
      return { ...item.message, items: item.message.items.map((i) => ({ ...i, attempts: [] })) };
    case 'Undeliverable': {
      const { entry } = item;
      const eventId = EventId.decode(entry.eventId);
      const deliveryId = DeliveryId.decode(entry.deliveryId);
      const webhookId = WebhookId.decode(entry.webhookId);
      const body = DeliveryBody.decode(entry.body);
      if (E.isLeft(eventId) || E.isLeft(deliveryId) || E.isLeft(webhookId) || E.isLeft(body)) return undefined;
      const tenant = entry.tenantId === undefined ? {} : { tenantId: entry.tenantId };
      // A large payload's fields stay in its blob: the redriven message names it again.
      const claim = entry.payloadRef === undefined || entry.claimed === undefined ? {} : { claimed: entry.claimed };
      const ref = entry.payloadRef === undefined ? {} : { payloadRef: entry.payloadRef };
      return { v: MESSAGE_VERSION, eventId: eventId.right, ...ref, items: [{ deliveryId: deliveryId.right, webhookId: webhookId.right, body: body.right, attempts: [], ...tenant, ...claim }] };
    }
    case 'Unreadable':
      return undefined;
  }
};
