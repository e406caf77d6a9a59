import { createHash } from 'node:crypto';
import * as t from 'io-ts';
import { canonicalJson } from './canonicalJson';
import { patternString } from './strings';

/*
 * Large event payloads travel by claim check (docs/delivery.md, "Large payloads"): the event's
 * payload is stored once in a blob, and queue messages carry its content hash and, per delivery,
 * the names of the fields to take from it. A queue message is 64 KB after base64, 48 KB of JSON
 * (MAX_MESSAGE_JSON_BYTES keeps 45 KB), and a retried delivery also carries up to 51 attempt
 * records of about 250 bytes each (12.5 KB): a body up to 24 KB always fits beside them.
 */

/** Payloads whose canonical JSON is larger than this go to a blob; smaller ones travel inline as before. */
export const INLINE_PAYLOAD_MAX_BYTES = 24 * 1024;
/** Once the payload is in a blob, delivered field values longer than this travel by reference. */
export const CLAIMED_FIELD_MIN_CHARS = 256;
/**
 * The event row keeps the payload too when it fits (one read for status, replay, paging): a table
 * entity holds 1 MiB with strings counted as UTF-16 (2 bytes a character), so up to 400 000
 * characters of JSON with room for the other properties; a larger payload lives only in its blob.
 */
export const ROW_PAYLOAD_MAX_CHARS = 400_000;

/** The blob's name within the event's folder: the SHA-256 of the canonical JSON, so a repeat writes the same blob. */
export const PayloadRef = patternString<'PayloadRef'>('a payload reference (64 hex digits)', /^[0-9a-f]{64}$/);
export type PayloadRef = t.TypeOf<typeof PayloadRef>;

/** What the blob holds: key order fixed, so every reader of the event computes the same reference. */
export const payloadBlobText = (payload: Readonly<Record<string, unknown>>): string => canonicalJson(payload);

export const payloadRefOf = (text: string): PayloadRef => createHash('sha256').update(text, 'utf8').digest('hex') as PayloadRef;

/** The reference of the payload's blob, or undefined when the payload travels inline. */
export const claimCheckOf = (payload: Readonly<Record<string, unknown>>): { readonly ref: PayloadRef; readonly text: string } | undefined => {
  const text = payloadBlobText(payload);
  return Buffer.byteLength(text, 'utf8') > INLINE_PAYLOAD_MAX_BYTES ? { ref: payloadRefOf(text), text } : undefined;
};

/**
 * A delivered payload with its long fields taken out when they are the event's own values (so the
 * worker can put them back from the blob); fields a webhook's projection or attributes removed are
 * not in the body, and so not claimed.
 */
export const withoutClaimedFields = (
  body: Readonly<Record<string, string>>,
  eventPayload: Readonly<Record<string, unknown>>,
): { readonly payload: Record<string, string>; readonly claimed: string[] } => {
  const claimed = Object.keys(body).filter((field) => (body[field] ?? '').length > CLAIMED_FIELD_MIN_CHARS && eventPayload[field] === body[field]);
  return { payload: Object.fromEntries(Object.entries(body).filter(([field]) => !claimed.includes(field))), claimed };
};

/** The claimed fields put back from the blob's payload; undefined when the blob lacks one (it does not belong to this delivery). */
export const withClaimedFields = (body: Readonly<Record<string, string>>, claimed: readonly string[], blobPayload: Readonly<Record<string, unknown>>): Record<string, string> | undefined => {
  const restored: Record<string, string> = { ...body };
  for (const field of claimed) {
    const value = blobPayload[field];
    if (typeof value !== 'string') return undefined;
    restored[field] = value;
  }
  return restored;
};
