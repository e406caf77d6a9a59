import * as fc from 'fast-check';
import * as E from 'fp-ts/Either';
import { formatValidationErrors } from '../decodeErrors';
import {
  type AttemptRecord,
  carriedRecord,
  DeliveryId,
  type DeliveryItem,
  DeliveryMessage,
  deliveryIdFor,
  MAX_CARRIED_EXCERPT_CHARS,
  MAX_MESSAGE_JSON_BYTES,
  packMessages,
  PoisonEntry,
} from '../delivery';
import type { EventId } from '../events';

const EVENT_ID = '01J0000000000000000000EVNT' as EventId;
const webhookId = (n: number): string => `01HZZZZZZZZZZZZZZZZZZZ${String(n).padStart(4, '0')}`;

const item = (n: number, payload: Record<string, string> = {}, attempts: AttemptRecord[] = []): DeliveryItem =>
  ({
    deliveryId: deliveryIdFor({ eventId: EVENT_ID, publicEventName: 'ping', webhookId: webhookId(n) }),
    webhookId: webhookId(n),
    body: { name: 'ping', payload },
    attempts,
  }) as DeliveryItem;

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value), 'utf8');
const errorsOf = (value: unknown): string[] => {
  const decoded = DeliveryMessage.decode(value);
  return E.isLeft(decoded) ? formatValidationErrors(decoded.left) : [];
};

describe('deliveryIdFor', () => {
  it('is deterministic, shaped like msg_<32 hex>, and differs when any part differs', () => {
    const base = { eventId: EVENT_ID, publicEventName: 'ping', webhookId: webhookId(1) };
    const id = deliveryIdFor(base);
    expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(DeliveryId.is(id)).toBe(true);
    expect(deliveryIdFor({ ...base })).toBe(id);
    const others = [
      deliveryIdFor({ ...base, eventId: '01J0000000000000000000EVNU' }),
      deliveryIdFor({ ...base, publicEventName: 'service:subscribed' }),
      deliveryIdFor({ ...base, webhookId: webhookId(2) }),
    ];
    expect(new Set([id, ...others]).size).toBe(4);
  });

  it('does not collide when parts shift between fields', () => {
    expect(deliveryIdFor({ eventId: 'ab', publicEventName: 'ping', webhookId: 'c' })).not.toBe(deliveryIdFor({ eventId: 'a', publicEventName: 'ping', webhookId: 'bc' }));
  });
});

describe('DeliveryMessage codec', () => {
  const valid = {
    v: 1,
    eventId: EVENT_ID,
    items: [item(1, { name: 'wh1' }, [{ at: '2024-01-01T00:00:00.000Z', result: { kind: 'NetworkError', error: 'Timeout', message: 'slow', latencyMs: 1000 } }])],
  };

  it('reads back what it wrote, through JSON', () => {
    expect(DeliveryMessage.decode(JSON.parse(JSON.stringify(valid)))).toEqual(E.right(valid));
  });

  it.each([
    ['another version', { ...valid, v: 2 }, 'v'],
    ['a bad event id', { ...valid, eventId: '' }, 'eventId'],
    ['no items', { v: 1, eventId: EVENT_ID }, 'items'],
    ['a bad delivery id', { ...valid, items: [{ ...valid.items[0], deliveryId: 'msg_XYZ' }] }, 'items.0.deliveryId'],
    ['a bad webhook id', { ...valid, items: [{ ...valid.items[0], webhookId: 'nope' }] }, 'items.0.webhookId'],
    ['a non-public event', { ...valid, items: [{ ...valid.items[0], body: { name: 'ping:all', payload: {} } }] }, 'items.0.body.name'],
    ['a payload value that is not a string', { ...valid, items: [{ ...valid.items[0], body: { name: 'ping', payload: { n: 1 } } }] }, 'items.0.body.payload.n'],
    ['an attempt without a result', { ...valid, items: [{ ...valid.items[0], attempts: [{ at: 'x' }] }] }, 'items.0.attempts.0.result'],
  ])('refuses %s', (_name, value, path) => {
    const errors = errorsOf(value);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.some((e) => e.startsWith(`${path}:`))).toBe(true);
  });

  it('refuses what is not a message at all', () => {
    for (const value of [null, 'text', 123, [], {}]) expect(errorsOf(value).length).toBeGreaterThan(0);
  });

  it('PoisonEntry reads the reasons deliverMessage and the worker write', () => {
    const entry = {
      kind: 'undeliverable',
      v: 1,
      eventId: EVENT_ID,
      deliveryId: valid.items[0]?.deliveryId,
      webhookId: webhookId(1),
      body: { name: 'ping', payload: {} },
      attempts: [],
      poisonedAt: '2024-01-01T00:00:00.000Z',
    };
    for (const reason of [
      { kind: 'AttemptsExhausted', attempts: 8 },
      { kind: 'Rejected', status: 400 },
      { kind: 'DestinationNotAllowed', message: 'loopback' },
      { kind: 'UnreadableMessage', message: 'v: is required' },
    ]) {
      expect(E.isRight(PoisonEntry.decode({ ...entry, reason }))).toBe(true);
    }
    expect(E.isRight(PoisonEntry.decode({ ...entry, reason: { kind: 'Bored' } }))).toBe(false);
  });
});

describe('carriedRecord', () => {
  it('keeps the start of long texts and everything else', () => {
    const at = '2024-01-01T00:00:00.000Z';
    const long = {
      at,
      result: { kind: 'Response' as const, status: 503, latencyMs: 5, excerpt: 'e'.repeat(5000), bodyRead: 'Capped' as const, retryAfter: '1'.repeat(500), location: 'l'.repeat(3000) },
    };
    const carried = carriedRecord(long);
    expect(carried).toEqual({ at, result: { ...long.result, excerpt: 'e'.repeat(MAX_CARRIED_EXCERPT_CHARS), retryAfter: expect.stringMatching(/^1+$/), location: expect.stringMatching(/^l+$/) } });
    expect(jsonBytes(carried)).toBeLessThan(600);
    const short = { at, result: { kind: 'Response' as const, status: 500, latencyMs: 5, excerpt: 'oops', bodyRead: 'Complete' as const } };
    expect(carriedRecord(short)).toEqual(short);
    const network = { at, result: { kind: 'NetworkError' as const, error: 'Other' as const, message: 'm'.repeat(300), latencyMs: 1 } };
    expect(carriedRecord(network).result).toEqual({ ...network.result, message: 'm'.repeat(100) });
  });
});

describe('packMessages', () => {
  it('nothing to pack: no message', () => {
    expect(packMessages(EVENT_ID, [], 50)).toEqual([]);
  });

  it('at most maxItems per message, in order', () => {
    const items = Array.from({ length: 7 }, (_, i) => item(i));
    const messages = packMessages(EVENT_ID, items, 3);
    expect(messages.map((m) => m.items.length)).toEqual([3, 3, 1]);
    expect(messages.flatMap((m) => m.items)).toEqual(items);
    for (const m of messages) expect(DeliveryMessage.decode(m)).toEqual(E.right(m));
  });

  it('at most 45 KB of JSON per message, whatever maxItems allows', () => {
    const items = Array.from({ length: 10 }, (_, i) => item(i, { name: 'x'.repeat(10_000) }));
    const messages = packMessages(EVENT_ID, items, 100);
    expect(messages.map((m) => m.items.length)).toEqual([4, 4, 2]);
    for (const m of messages) expect(jsonBytes(m)).toBeLessThanOrEqual(MAX_MESSAGE_JSON_BYTES);
    // Base64 of 45 KB stays under the 64 KB a queue message may hold.
    for (const m of messages) expect(Buffer.from(JSON.stringify(m)).toString('base64').length).toBeLessThanOrEqual(64 * 1024);
  });

  it('counts bytes, not characters', () => {
    const items = Array.from({ length: 4 }, (_, i) => item(i, { name: '€'.repeat(7_000) }));
    const messages = packMessages(EVENT_ID, items, 100);
    expect(messages.map((m) => m.items.length)).toEqual([2, 2]);
    for (const m of messages) expect(jsonBytes(m)).toBeLessThanOrEqual(MAX_MESSAGE_JSON_BYTES);
  });

  it('an item too big for any message still gets a message of its own', () => {
    const items = [item(1), item(2, { name: 'x'.repeat(MAX_MESSAGE_JSON_BYTES) }), item(3)];
    expect(packMessages(EVENT_ID, items, 10).map((m) => m.items.map((i) => i.webhookId))).toEqual([[webhookId(1)], [webhookId(2)], [webhookId(3)]]);
  });

  it('property: every item once, in order; each message within both limits; no message could have taken the next item', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 20_000 }), { maxLength: 40 }), fc.integer({ min: 1, max: 12 }), (sizes, maxItems) => {
        const items = sizes.map((size, i) => item(i, { name: 'y'.repeat(size) }));
        const messages = packMessages(EVENT_ID, items, maxItems);
        expect(messages.flatMap((m) => m.items)).toEqual(items);
        messages.forEach((m, i) => {
          expect(m.items.length).toBeGreaterThan(0);
          expect(m.items.length).toBeLessThanOrEqual(maxItems);
          expect(m.eventId).toBe(EVENT_ID);
          expect(jsonBytes(m)).toBeLessThanOrEqual(MAX_MESSAGE_JSON_BYTES);
          const next = messages[i + 1]?.items[0];
          if (next !== undefined) {
            const grown = { ...m, items: [...m.items, next] };
            // Greedy, and conservative by at most the one comma it counts for the first item.
            expect(grown.items.length > maxItems || jsonBytes(grown) >= MAX_MESSAGE_JSON_BYTES).toBe(true);
          }
        });
      }),
      { numRuns: 200 },
    );
  });
});
