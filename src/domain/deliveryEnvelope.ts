import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { formatValidationErrors } from './decodeErrors';
import { DeliveryMessage, MAX_MESSAGE_JSON_BYTES } from './delivery';

/*
 * Group commit of the deliveries queue (docs/delivery.md, "Envelopes"): immediate enqueues that
 * arrive while a send is in flight travel together as one queue message, an envelope of several
 * delivery messages (of different events), so a fan-out 1 event pays a share of one send, receive
 * and delete instead of one each. The worker runs each inner message as if it had come alone.
 */

export const ENVELOPE_VERSION = 1;

export const DeliveryEnvelope = t.type({ v: t.literal(ENVELOPE_VERSION), messages: t.array(DeliveryMessage) }, 'DeliveryEnvelope');
export type DeliveryEnvelope = t.TypeOf<typeof DeliveryEnvelope>;

/** What one queue message carries: a delivery message alone (as before envelopes), or an envelope. */
export type QueueBody = DeliveryMessage | DeliveryEnvelope;

/** The envelope's frame, its inner messages still unchecked: one unreadable inner message must not sink the others. */
const EnvelopeFrame = t.type({ v: t.literal(ENVELOPE_VERSION), messages: t.array(t.unknown) });

/** An inner message decoded, or what it was and why it does not decode (the decoder's first messages). */
export type InnerMessage = E.Either<{ readonly value: unknown; readonly reason: string }, DeliveryMessage>;

export type ReadQueueBody =
  { readonly kind: 'Single'; readonly message: DeliveryMessage } | { readonly kind: 'Envelope'; readonly messages: readonly InnerMessage[] } | { readonly kind: 'Unreadable'; readonly reason: string };

const reasonOf = (errors: t.Errors): string => formatValidationErrors(errors).slice(0, 5).join('; ');

/** Reads a queue message of either shape (a message enqueued before envelopes, a redrive, a retry: a single message). */
export const readQueueBody = (value: unknown): ReadQueueBody => {
  const frame = EnvelopeFrame.decode(value);
  if (E.isRight(frame) && (value as { eventId?: unknown }).eventId === undefined) {
    return { kind: 'Envelope', messages: frame.right.messages.map((value) => E.mapLeft((errors: t.Errors) => ({ value, reason: reasonOf(errors) }))(DeliveryMessage.decode(value))) };
  }
  const single = DeliveryMessage.decode(value);
  return E.isRight(single) ? { kind: 'Single', message: single.right } : { kind: 'Unreadable', reason: reasonOf(single.left) };
};

/** The delivery messages a queue body carries (poison views, redrive, erasure). */
export const messagesOf = (body: QueueBody): readonly DeliveryMessage[] => ('messages' in body ? body.messages : [body]);

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');
const FRAME_BYTES = jsonBytes({ v: ENVELOPE_VERSION, messages: [] });

/** A queue message to send, and the tags (callers) of the delivery messages it carries. */
export type Parcel<A> = { readonly body: QueueBody; readonly tags: readonly A[] };

/**
 * Packs delivery messages into as few queue messages as fit, in order: an envelope holds at most
 * `maxItems` deliveries in all (one invocation POSTs them concurrently, as it does one message's) and
 * MAX_MESSAGE_JSON_BYTES of JSON (64 KB after the host's base64). A message that names a payload blob
 * travels alone: the worker reads one blob per message, and the in-flight bound was sized for one
 * blob per invocation. A parcel of one message is that message, in the shape every worker reads.
 */
export const packParcels = <A>(entries: readonly { readonly message: DeliveryMessage; readonly tag: A }[], maxItems: number): Parcel<A>[] => {
  const parcels: Parcel<A>[] = [];
  let current: { message: DeliveryMessage; tag: A }[] = [];
  let bytes = FRAME_BYTES;
  let items = 0;
  const close = (): void => {
    if (current.length === 1) parcels.push({ body: (current[0] as { message: DeliveryMessage }).message, tags: current.map((c) => c.tag) });
    else if (current.length > 1) parcels.push({ body: { v: ENVELOPE_VERSION, messages: current.map((c) => c.message) }, tags: current.map((c) => c.tag) });
    current = [];
    bytes = FRAME_BYTES;
    items = 0;
  };
  for (const entry of entries) {
    if (entry.message.payloadRef !== undefined) {
      parcels.push({ body: entry.message, tags: [entry.tag] });
      continue;
    }
    const size = jsonBytes(entry.message) + 1;
    if (current.length > 0 && (items + entry.message.items.length > maxItems || bytes + size > MAX_MESSAGE_JSON_BYTES)) close();
    current.push(entry);
    bytes += size;
    items += entry.message.items.length;
  }
  close();
  return parcels;
};
