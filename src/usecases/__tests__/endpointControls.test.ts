import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import { notFound } from '../../domain/errors';
import type { HttpSender, OutgoingRequest } from '../../ports/httpSender';
import { memoryAttemptLog } from '../../adapters/__tests__/memory/memoryAttemptLog';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryRateLimiter } from '../../adapters/__tests__/memory/memoryRateLimiter';
import { memoryWebhookLookup } from '../../adapters/__tests__/memory/memoryWebhookLookup';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { type AttemptRecord, type DeliveryItem, type DeliveryMessage, deliveryIdFor } from '../../domain/delivery';
import type { EventId } from '../../domain/events';
import type { AttemptResult } from '../../domain/outcome';
import type { Webhook } from '../../domain/webhook';
import { type DeliverDeps, deliverMessage } from '../deliverMessage';

/*
 * The delivery worker with per-webhook controls: a rate-limited webhook's deliveries beyond its
 * near slots go back to the queue holding their slot (not sent, not counted, not logged), an
 * unlimited webhook never reaches the limiter, and maxAttempts ends a delivery early exactly as the
 * end of the schedule does.
 */

const EVENT = '01J0000000000000000000EVNT' as EventId;
const START = 1_800_000_000_000;
const ok: AttemptResult = { kind: 'Response', status: 200, latencyMs: 3, excerpt: '', bodyRead: 'Complete' };
const failed: AttemptResult = { kind: 'Response', status: 503, latencyMs: 3, excerpt: '', bodyRead: 'Complete' };

const itemsFor = (webhook: Webhook, count: number, attempts: AttemptRecord[] = []): DeliveryItem[] =>
  Array.from({ length: count }, (_, i) => ({
    deliveryId: deliveryIdFor({ eventId: `${EVENT}${i}`, publicEventName: 'ping', webhookId: webhook.id }),
    webhookId: webhook.id,
    body: { name: 'ping', payload: {} },
    attempts,
  }));
const messageOf = (items: DeliveryItem[]): DeliveryMessage => ({ v: 1, eventId: EVENT, items });

const setup = (respond: () => AttemptResult = () => ok) => {
  const store = memoryWebhookStore();
  const queue = memoryDeliveryQueue();
  const attemptLog = memoryAttemptLog();
  const rateLimiter = memoryRateLimiter();
  const requests: OutgoingRequest[] = [];
  const sender: HttpSender = { send: (request) => async () => (requests.push(request), respond()) };
  let time = START;
  const deps: DeliverDeps = {
    lookup: memoryWebhookLookup(store),
    webhooks: store,
    sender,
    queue,
    attemptLog,
    // A clock that stands still unless the test moves it: slots are then exact.
    clock: { now: () => new Date(time) },
    policy: { scheduleSeconds: [5, 300, 1800], jitterRatio: 0 },
    random: () => 0.5,
    warn: () => undefined,
    rateLimiter,
  };
  const add = (overrides: Partial<Webhook>): Webhook => {
    const webhook = aWebhook(overrides);
    store.rows.set(webhook.id, webhook);
    return webhook;
  };
  const run = async (message: DeliveryMessage) => {
    const result = await deliverMessage(deps)(message)();
    if (E.isLeft(result)) throw new Error(result.left.message);
    return result.right;
  };
  return { deps, queue, attemptLog, rateLimiter, requests, add, run, advance: (ms: number) => (time += ms) };
};

describe('rateLimitPerSecond in the worker', () => {
  it('sends the deliveries whose slot is within a second and holds the rest back with their slots, without an attempt', async () => {
    const s = setup();
    const limited = s.add({ rateLimitPerSecond: 10 });
    const summary = await s.run(messageOf(itemsFor(limited, 25)));
    // Slots every 100 ms from now: 0..1000 ms are sent (11), the other 14 go back to the queue.
    expect(summary).toMatchObject({ delivered: 11, held: 14, retried: 0, poisoned: 0 });
    expect(s.requests).toHaveLength(11);
    const held = s.queue.sent.flatMap((m) => m.message.items.map((item) => ({ item, delaySeconds: m.delaySeconds })));
    expect(held).toHaveLength(14);
    for (const { item, delaySeconds } of held) {
      expect(item.attempts).toEqual([]);
      expect(item.slotMs).toBeGreaterThan(START + 1000);
      // Back before its slot (it waits the rest in the invocation), never after.
      expect(START + delaySeconds * 1000).toBeLessThanOrEqual(item.slotMs ?? 0);
      expect(START + (delaySeconds + 1) * 1000).toBeGreaterThan(item.slotMs ?? 0);
    }
    // Held deliveries are no attempt: nothing logged for them, one reservation for the message.
    const logged = await s.attemptLog.forEvent(EVENT)();
    expect(E.isRight(logged) && logged.right.map((e) => e.decision)).toEqual(Array(11).fill('Delivered'));
    expect(s.rateLimiter.reservations()).toBe(1);
  });

  it('a held delivery that comes back sends in its slot without reserving again', async () => {
    const s = setup();
    const limited = s.add({ rateLimitPerSecond: 10 });
    await s.run(messageOf(itemsFor(limited, 25)));
    const back = s.queue.sent.filter((m) => m.delaySeconds === 2).flatMap((m) => m.message.items);
    expect(back.length).toBeGreaterThan(0);
    s.advance(2000);
    const before = s.requests.length;
    const summary = await s.run(messageOf(back));
    expect(summary).toMatchObject({ delivered: back.length, held: 0 });
    expect(s.requests.length - before).toBe(back.length);
    expect(s.rateLimiter.reservations()).toBe(1);
  });

  it('an unlimited webhook beside a limited one is sent at once and never reaches the limiter', async () => {
    const s = setup();
    const free = s.add({});
    const summary = await s.run(messageOf(itemsFor(free, 30)));
    expect(summary).toMatchObject({ delivered: 30, held: 0 });
    expect(s.rateLimiter.reservations()).toBe(0);
    const limited = s.add({ rateLimitPerSecond: 1 });
    const mixed = await s.run(messageOf([...itemsFor(free, 5), ...itemsFor(limited, 3)]));
    // Slots at 0, 1000 and 2000 ms: the third goes back to the queue.
    expect(mixed).toMatchObject({ delivered: 7, held: 1 });
    expect(s.rateLimiter.reservations()).toBe(1);
  });

  it('a retry after a failure gives up its slot (it is a new send, paced again)', async () => {
    const s = setup(() => failed);
    const limited = s.add({ rateLimitPerSecond: 10 });
    const [item] = itemsFor(limited, 1);
    await s.run(messageOf([{ ...(item as DeliveryItem), slotMs: START }]));
    const retried = s.queue.sent[0]?.message.items[0];
    expect(retried?.attempts).toHaveLength(1);
    expect(retried?.slotMs).toBeUndefined();
  });
});

describe('rate limit waits and erasure', () => {
  it('a delivery that waited for its slot checks its personal-data event again: erased meanwhile, it is not sent', async () => {
    const s = setup();
    const limited = s.add({ rateLimitPerSecond: 10 });
    let reads = 0;
    // Present at the message's check, gone by the time the slot comes (an erasure answered in between).
    const events = { get: () => TE.fromEither(++reads === 1 ? E.right({} as never) : E.left(notFound('no such event'))) };
    const item: DeliveryItem = {
      deliveryId: deliveryIdFor({ eventId: EVENT, publicEventName: 'service:subscribed', webhookId: limited.id }),
      webhookId: limited.id,
      body: { name: 'service:subscribed', payload: { fiscalCode: 'AAABBB00A00A000B' } },
      attempts: [],
      slotMs: START + 300,
    };
    const result = await deliverMessage({ ...s.deps, events })(messageOf([item]))();
    expect(E.isRight(result) && result.right).toMatchObject({ delivered: 0, skipped: 1, held: 0 });
    expect(s.requests).toEqual([]);
    expect(reads).toBe(2);
  });
});

describe('maxAttempts in the worker', () => {
  it('poisons after maxAttempts attempts with AttemptsExhausted, as after the whole schedule', async () => {
    const s = setup(() => failed);
    const capped = s.add({ maxAttempts: 2 });
    const first = await s.run(messageOf(itemsFor(capped, 1)));
    expect(first).toMatchObject({ retried: 1, poisoned: 0 });
    const again = s.queue.sent[0]?.message as DeliveryMessage;
    const second = await s.run(again);
    expect(second).toMatchObject({ retried: 0, poisoned: 1 });
    expect(s.queue.poisoned[0]?.reason).toEqual({ kind: 'AttemptsExhausted', attempts: 2 });
    expect(s.queue.poisoned[0]?.attempts).toHaveLength(2);
  });

  it('maxAttempts 1: the first failure is final; absent: the schedule (4 attempts here) applies', async () => {
    const s = setup(() => failed);
    const once = s.add({ maxAttempts: 1 });
    expect(await s.run(messageOf(itemsFor(once, 1)))).toMatchObject({ poisoned: 1, retried: 0 });
    const plain = s.add({});
    const past = (n: number): AttemptRecord[] => Array.from({ length: n }, () => ({ at: new Date(START).toISOString(), result: failed }));
    expect(await s.run(messageOf(itemsFor(plain, 1, past(2))))).toMatchObject({ retried: 1, poisoned: 0 });
    expect(await s.run(messageOf(itemsFor(plain, 1, past(3))))).toMatchObject({ retried: 0, poisoned: 1 });
  });
});
