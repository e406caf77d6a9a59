import { createHash } from 'node:crypto';
import * as t from 'io-ts';
import { PublicEventName } from './catalogue';
import { EventId } from './events';
import { PayloadRef } from './claimCheck';
import { AttemptResult, PoisonReason } from './outcome';
import { NonEmptyString } from './strings';
import { WebhookId } from './webhook';

/*
 * What travels through the deliveries queue (DESIGN.md section 6): one message carries several
 * deliveries of one event, so a queue round trip is paid per batch, not per delivery. A delivery
 * that fails is re-enqueued alone, carrying the attempts so far. Webhook secrets never travel in
 * messages: the worker reads the webhook when it sends.
 */

/** Messages carry at most ~48 KB of JSON (64 KB after base64); keep a margin for the envelope. */
export const MAX_MESSAGE_JSON_BYTES = 45 * 1024;
export const MESSAGE_VERSION = 1;

/** The `webhook-id` header: the same for every attempt of one delivery, so receivers drop repeats. */
export const DeliveryId = t.refinement(NonEmptyString, (s) => /^msg_[0-9a-f]{32}$/.test(s), 'DeliveryId');
export type DeliveryId = t.TypeOf<typeof DeliveryId>;

/** Deterministic: an activity that runs twice enqueues the same ids, and receivers drop the repeat. */
export const deliveryIdFor = (input: { eventId: string; publicEventName: string; webhookId: string }): DeliveryId =>
  `msg_${createHash('sha256').update(`${input.eventId}\n${input.publicEventName}\n${input.webhookId}`).digest('hex').slice(0, 32)}` as DeliveryId;

export const DeliveryBody = t.type({ name: PublicEventName, payload: t.record(t.string, t.string) }, 'DeliveryBody');
export type DeliveryBody = t.TypeOf<typeof DeliveryBody>;

/** One attempt as the delivery remembers it (and the poison entry reports it). */
export const AttemptRecord = t.type({ at: t.string, result: AttemptResult }, 'AttemptRecord');
export type AttemptRecord = t.TypeOf<typeof AttemptRecord>;

/*
 * A message carries every attempt of its delivery (up to 51 with the longest schedule), and must
 * stay under the queue's 64 KB: an attempt carries only the start of what the receiver said (the
 * attempt log keeps more). Without this, a receiver answering a few KB of binary (3 bytes per
 * replaced character) pushed its retries over the limit after 3 attempts.
 */
export const MAX_CARRIED_EXCERPT_CHARS = 100;
export const MAX_CARRIED_TEXT_CHARS = 100;
/** A valid Retry-After is at most 29 characters (an IMF-fixdate). */
export const MAX_CARRIED_RETRY_AFTER_CHARS = 40;

/** The attempt as a queue message or a poison entry carries it. */
export const carriedRecord = (record: AttemptRecord): AttemptRecord => {
  const { result } = record;
  if (result.kind === 'NetworkError') return { at: record.at, result: { ...result, message: result.message.slice(0, MAX_CARRIED_TEXT_CHARS) } };
  return {
    at: record.at,
    result: {
      ...result,
      excerpt: result.excerpt.slice(0, MAX_CARRIED_EXCERPT_CHARS),
      ...(result.retryAfter === undefined ? {} : { retryAfter: result.retryAfter.slice(0, MAX_CARRIED_RETRY_AFTER_CHARS) }),
      ...(result.location === undefined ? {} : { location: result.location.slice(0, MAX_CARRIED_TEXT_CHARS) }),
    },
  };
};

export const DeliveryItem = t.intersection(
  [
    t.type({
      deliveryId: DeliveryId,
      webhookId: WebhookId,
      body: DeliveryBody,
      attempts: t.array(AttemptRecord),
    }),
    // The owner of the webhook (docs/tenants.md); absent for the admin's webhooks and older messages.
    // `claimed`: payload fields left out of `body`, to be taken from the message's payload blob.
    t.partial({ tenantId: t.string, claimed: t.array(t.string) }),
    // The send slot (epoch ms) a delivery held back by its webhook's rate limit keeps (domain/rateLimit.ts).
    t.partial({ slotMs: t.number }),
  ],
  'DeliveryItem',
);
export type DeliveryItem = t.TypeOf<typeof DeliveryItem>;

interface LookupHintBrand {
  readonly LookupHint: unique symbol;
}
/**
 * Where the worker finds the message's webhooks in one read. Opaque: only the storage adapter makes
 * and reads it (adapters/tables/webhookKeys.ts), and it checks it there like any queue input.
 */
export const LookupHint = t.brand(t.string, (s): s is t.Branded<string, LookupHintBrand> => typeof s === 'string', 'LookupHint');
export type LookupHint = t.TypeOf<typeof LookupHint>;

const DeliveryMessageFields = t.intersection(
  [
    t.type({
      v: t.literal(MESSAGE_VERSION),
      eventId: EventId,
      items: t.array(DeliveryItem),
    }),
    // The claim check of a large payload (docs/delivery.md, "Large payloads"): the blob's content hash, never a secret.
    t.partial({ lookupHint: LookupHint, payloadRef: PayloadRef }),
  ],
  'DeliveryMessage',
);
export type DeliveryMessage = t.TypeOf<typeof DeliveryMessageFields>;

/** Messages enqueued before the hint was opaque carried `lookupRange: {from, to}` (storage keys). */
const LegacyLookupRange = t.type({ lookupRange: t.type({ from: t.string, to: t.string }) });

/**
 * Reads messages of both shapes: one already in the queue at the deploy that made the hint opaque
 * has its `lookupRange` taken as the hint's text (its JSON, the form the adapter reads), so the worker
 * still reads its webhooks in one range. Still an intersection, so the OpenAPI walk and error paths see its fields.
 */
export const DeliveryMessage = new t.IntersectionType<typeof DeliveryMessageFields.types, DeliveryMessage, t.OutputOf<typeof DeliveryMessageFields>, unknown>(
  'DeliveryMessage',
  DeliveryMessageFields.is,
  (input, context) => {
    if (!LegacyLookupRange.is(input) || (input as { lookupHint?: unknown }).lookupHint !== undefined) return DeliveryMessageFields.validate(input, context);
    const { lookupRange, ...rest } = input;
    return DeliveryMessageFields.validate({ ...rest, lookupHint: JSON.stringify({ from: lookupRange.from, to: lookupRange.to }) }, context);
  },
  DeliveryMessageFields.encode,
  DeliveryMessageFields.types,
);

/** What `deliveries-poison` holds for a delivery we gave up on (the host adds raw messages of its own). */
export const PoisonEntry = t.intersection(
  [
    t.type({
      kind: t.literal('undeliverable'),
      v: t.literal(MESSAGE_VERSION),
      eventId: t.string,
      deliveryId: t.string,
      webhookId: t.string,
      body: t.unknown,
      attempts: t.array(AttemptRecord),
      reason: t.union([PoisonReason, t.type({ kind: t.literal('UnreadableMessage'), message: t.string })]),
      poisonedAt: t.string,
    }),
    t.partial({ tenantId: t.string, payloadRef: PayloadRef, claimed: t.array(t.string) }),
  ],
  'PoisonEntry',
);
export type PoisonEntry = t.TypeOf<typeof PoisonEntry>;

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');

/**
 * Packs the deliveries of one event into as few messages as fit: at most `maxItems` each (the
 * worker sends one message's deliveries concurrently) and at most MAX_MESSAGE_JSON_BYTES of JSON.
 * An item too big for any message still gets one of its own: ingest bounds event sizes, so that
 * cannot happen with a valid configuration, and the queue refusing it is then reported loudly.
 */
export const packMessages = (eventId: EventId, items: readonly DeliveryItem[], maxItems: number): DeliveryMessage[] => {
  const messages: DeliveryMessage[] = [];
  const envelope = jsonBytes({ v: MESSAGE_VERSION, eventId, items: [] });
  let current: DeliveryItem[] = [];
  let size = envelope;
  for (const item of items) {
    const itemSize = jsonBytes(item) + 1;
    if (current.length > 0 && (current.length >= maxItems || size + itemSize > MAX_MESSAGE_JSON_BYTES)) {
      messages.push({ v: MESSAGE_VERSION, eventId, items: current });
      current = [];
      size = envelope;
    }
    current.push(item);
    size += itemSize;
  }
  if (current.length > 0) messages.push({ v: MESSAGE_VERSION, eventId, items: current });
  return messages;
};
