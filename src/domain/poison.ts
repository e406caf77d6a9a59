import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { type DeliveryMessage, DeliveryMessage as DeliveryMessageCodec, MESSAGE_VERSION, DeliveryBody, PoisonEntry } from './delivery';
import { EventId } from './events';
import { WebhookId } from './webhook';
import { DeliveryId } from './delivery';
import { DeliveryEnvelope, ENVELOPE_VERSION } from './deliveryEnvelope';

/*
 * `deliveries-poison` holds two kinds of messages: entries the delivery function set aside with a
 * reason (PoisonEntry), and whole delivery messages the host moved there after the function failed
 * maxDequeueCount times (a crash, or storage down while recording outcomes), which may be envelopes
 * of several events' messages (docs/delivery.md, "Envelopes"). Anything else is unreadable and stays
 * where it is.
 */

export const PoisonItem = t.union(
  [
    t.type({ kind: t.literal('Undeliverable'), entry: PoisonEntry }),
    t.type({ kind: t.literal('FailedMessage'), message: DeliveryMessageCodec }),
    t.type({ kind: t.literal('FailedEnvelope'), messages: t.array(DeliveryMessageCodec) }),
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
  const envelope = DeliveryEnvelope.decode(value);
  if (E.isRight(envelope)) return { kind: 'FailedEnvelope', messages: envelope.right.messages };
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
    case 'FailedEnvelope':
      return undefined;
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

/** Every delivery message a redrive of this poison item enqueues (an envelope's, each with a fresh attempt count). */
export const redriveMessagesFor = (item: PoisonItem): DeliveryMessage[] => {
  if (item.kind !== 'FailedEnvelope') {
    const message = redriveMessageFor(item);
    return message === undefined ? [] : [message];
  }
  return item.messages.flatMap((message) => redriveMessagesFor({ kind: 'FailedMessage', message }));
};

/** The events a poison message belongs to (one, or several for an envelope). */
export const eventIdsOf = (item: PoisonItem): string[] => {
  switch (item.kind) {
    case 'Undeliverable':
      return [item.entry.eventId];
    case 'FailedMessage':
      return [item.message.eventId];
    case 'FailedEnvelope':
      return item.messages.map((m) => m.eventId);
    case 'Unreadable':
      return [];
  }
};

export type PoisonTrim = { readonly kind: 'Keep' } | { readonly kind: 'Remove' } | { readonly kind: 'Rewrite'; readonly text: string };

/**
 * What an erasure does to a poison message: removed when it holds only what `erase` picks, kept when
 * it holds none of it, and for an envelope holding both, rewritten without the picked messages (the
 * other events' failed deliveries stay for a redrive). `erase` sees each delivery message's JSON text.
 */
export const trimPoison = (text: string, erase: (json: string, eventId: string) => boolean): PoisonTrim => {
  const item = classifyPoison(text);
  if (item.kind !== 'FailedEnvelope') return erase(text, eventIdsOf(item)[0] ?? '') ? { kind: 'Remove' } : { kind: 'Keep' };
  const kept = item.messages.filter((m) => !erase(JSON.stringify(m), m.eventId));
  if (kept.length === item.messages.length) return { kind: 'Keep' };
  if (kept.length === 0) return { kind: 'Remove' };
  return { kind: 'Rewrite', text: JSON.stringify(kept.length === 1 ? kept[0] : { v: ENVELOPE_VERSION, messages: kept }) };
};
