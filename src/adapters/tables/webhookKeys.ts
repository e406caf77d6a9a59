import { odata } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { createHash } from 'node:crypto';
import { routingSlot } from '../../domain/mapping';
import type { LookupHint } from '../../domain/delivery';
import { canReceive, coversEvent, type Webhook } from '../../domain/webhook';

/*
 * The key grammar of the webhooks table, written here only (docs/registry-storage.md): one partition
 * holds, per webhook, a main row `webhook|<id>` and one index row `sub|<public event>|<routing value>|<id>`
 * per public event its subscriptions cover, plus the meta row `meta|index`. Nothing outside
 * src/adapters/tables sees a key: the fan-out's lookup hint is made and read here.
 */

export const PARTITION_KEY = 'webhooks';
const MAIN_PREFIX = 'webhook|';
const INDEX_PREFIX = 'sub|';
/** The row that says which public events and routing attributes the index rows were written for. */
export const INDEX_META_KEY = 'meta|index';
/** Longer routing values are hashed: a row key holds at most 1 KB, and a value 256 characters. */
const MAX_PLAIN_ROUTING_KEY = 120;

/** `}` follows `|` in ASCII: the rows under a prefix ending in `|` are exactly `[prefix, end)`. */
const rangeEnd = (prefix: string): string => `${prefix.slice(0, -1)}}`;

/** A key range `[from, to)`. */
export type KeyRange = { readonly from: string; readonly to: string };

export const mainKey = (id: string): string => MAIN_PREFIX + id;
/** The main rows, tombstones included. */
export const MAIN_RANGE: KeyRange = { from: MAIN_PREFIX, to: rangeEnd(MAIN_PREFIX) };
export const INDEX_RANGE: KeyRange = { from: INDEX_PREFIX, to: rangeEnd(INDEX_PREFIX) };
/** The webhook id of a main row's key. */
export const idOfMainKey = (rowKey: string): string => rowKey.slice(MAIN_PREFIX.length);
/** The webhook id an index row belongs to: its last segment (ids are ULIDs, without `|`). */
export const idOfIndexKey = (rowKey: string): string => rowKey.slice(rowKey.lastIndexOf('|') + 1);

/** `PartitionKey eq ... and RowKey ge from and RowKey lt to`. */
export const rangeFilter = (range: KeyRange): string => odata`PartitionKey eq ${PARTITION_KEY} and RowKey ge ${range.from} and RowKey lt ${range.to}`;
/** The main rows after `afterId` (all when absent), tombstones left out. */
export const liveMainRowsAfter = (afterId: string): string => odata`PartitionKey eq ${PARTITION_KEY} and RowKey gt ${mainKey(afterId)} and RowKey lt ${MAIN_RANGE.to} and deleted eq false`;
/** Table queries allow 15 comparisons in a filter: the partition key plus 14 row keys. */
export const MAIN_KEYS_PER_QUERY = 14;
/** The main rows of these ids (at most MAIN_KEYS_PER_QUERY): an `or` over row keys, which the service answers by scanning the partition. */
export const mainRowsOf = (ids: readonly string[]): string => `PartitionKey eq '${PARTITION_KEY}' and (${ids.map((id) => odata`RowKey eq ${mainKey(id)}`).join(' or ')})`;

/** The public events whose fan-out must meet this webhook. */
export const indexedEvents = (webhook: Webhook, publicEvents: readonly string[]): string[] => publicEvents.filter((name) => webhook.subscriptions.some((s) => coversEvent(s, name)));

/**
 * A routing value as a row key segment: percent-encoded (no `|`, `/`, `\`, `#`, `?` or control
 * characters, which row keys refuse or the ranges rely on), or a SHA-256 when that would be long.
 * Matching still compares the values themselves, so even a collision could not deliver wrongly.
 */
export const routingKey = (value: string): string => {
  const hashed = (): string => `~${createHash('sha256').update(value, 'utf8').digest('base64url')}`;
  let plain: string;
  try {
    plain = encodeURIComponent(value);
  } catch {
    // A lone surrogate has no UTF-8 form to percent-encode.
    return hashed();
  }
  return plain.length <= MAX_PLAIN_ROUTING_KEY ? plain : hashed();
};

/** Where the rows of an event start: all of them, or those of one routing value. */
export const indexPrefix = (eventName: string, routingValue?: string): string =>
  routingValue === undefined ? `${INDEX_PREFIX}${eventName}|` : `${INDEX_PREFIX}${eventName}|${routingKey(routingValue)}|`;

/** The index rows after `afterKey` (from the start when absent) under `prefix`. */
export const indexRowsAfter = (prefix: string, afterKey: string | undefined): string => odata`PartitionKey eq ${PARTITION_KEY} and RowKey gt ${afterKey ?? prefix} and RowKey lt ${rangeEnd(prefix)}`;

/**
 * The index row keys of a webhook: one per covered public event, under its value of the event's
 * routing attribute. A webhook without that value gets no row (the event requires the attribute,
 * so it could never match), nor does a disabled or not yet verified one: webhooks disabled by a 410
 * pile up, and the fan-out should not page through them. Enabling or verifying writes the rows.
 */
export const indexKeys = (webhook: Webhook, publicEvents: readonly string[]): string[] =>
  !canReceive(webhook)
    ? []
    : indexedEvents(webhook, publicEvents).flatMap((eventName) => {
        const slot = routingSlot(eventName, webhook);
        return slot === undefined ? [] : [`${indexPrefix(eventName, slot)}${webhook.id}`];
      });

/*
 * The lookup hint of a message: the first and last index row keys of its webhooks in the fan-out
 * page, as JSON text `{"from","to"}`, the shape messages carried as `lookupRange` before the hint was
 * opaque (domain/delivery.ts turns such a message's range into this text, so both read alike).
 */
const HintRange = t.type({ from: t.string, to: t.string });

/** The hint for webhooks at these index keys (in any order); none for fewer than two. */
export const lookupHintOf = (keys: readonly string[]): LookupHint | undefined => {
  if (keys.length < 2) return undefined;
  const sorted = [...keys].sort();
  // The one place a hint is made: the brand says only this module's text is one.
  return JSON.stringify({ from: sorted[0], to: sorted[sorted.length - 1] }) as LookupHint;
};

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * The closed key range `[from, to]` of a hint. A hint comes from a queue message, so it is input like
 * any other: it must span index rows of one public event, in order. Anything else gives none, and the
 * worker reads the ids one by one.
 */
export const rangeOfHint = (hint: LookupHint | undefined): KeyRange | undefined => {
  if (hint === undefined) return undefined;
  return pipe(
    HintRange.decode(parsed(hint)),
    E.map((range) => {
      if (!range.from.startsWith(INDEX_PREFIX) || range.from > range.to) return undefined;
      const eventOf = (key: string): string | undefined => key.split('|')[1];
      return eventOf(range.from) !== undefined && eventOf(range.from) === eventOf(range.to) ? range : undefined;
    }),
    E.getOrElseW(() => undefined),
  );
};

/** `PartitionKey eq ... and RowKey ge from and RowKey le to`: a hint's range, its last key included. */
export const closedRangeFilter = (range: KeyRange): string => odata`PartitionKey eq ${PARTITION_KEY} and RowKey ge ${range.from} and RowKey le ${range.to}`;
