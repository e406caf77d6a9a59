import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import type { HttpSender, OutgoingRequest } from '../../ports/httpSender';
import { memoryAttemptLog } from '../../adapters/__tests__/memory/memoryAttemptLog';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryWebhookLookup } from '../../adapters/__tests__/memory/memoryWebhookLookup';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { claimCheckOf, INLINE_PAYLOAD_MAX_BYTES } from '../../domain/claimCheck';
import { DeliveryMessage } from '../../domain/delivery';
import { type AppError, notFound, transient } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { AttemptResult } from '../../domain/outcome';
import { classifyPoison, redriveMessageFor } from '../../domain/poison';
import type { PayloadStore } from '../../ports/payloadStore';
import { deliverMessage, type DeliverDeps } from '../deliverMessage';
import { enqueueFanOutPage } from '../enqueueFanOutPage';
import { inFlightBytes } from '../inFlightBytes';

/*
 * The claim check end to end with memory ports: what the fan-out enqueues for a small and a large
 * payload, and what the worker sends, reading the blob once per message.
 */

const EVENT_ID = '01J0000000000000000000EVNT' as EventId;
const response = (status: number): AttemptResult => ({ kind: 'Response', status, latencyMs: 3, excerpt: '', bodyRead: 'Complete' });

/** A blob store in memory that counts its reads; `failWith` makes every call fail. */
const memoryPayloads = () => {
  const blobs = new Map<string, string>();
  const counts = { get: 0 };
  let failWith: AppError | undefined;
  const store: PayloadStore = {
    put: ({ eventId, ref, text }) => (failWith ? TE.left(failWith) : TE.fromIO(() => void blobs.set(`${eventId}/${ref}`, text))),
    get: ({ eventId, ref }) => {
      counts.get++;
      if (failWith) return TE.left(failWith);
      const text = blobs.get(`${eventId}/${ref}`);
      return text === undefined ? TE.left(notFound('gone')) : TE.right(text);
    },
    removeAll: (eventId) => TE.fromIO(() => [...blobs.keys()].filter((k) => k.startsWith(`${eventId}/`)).map((k) => blobs.delete(k)).length),
  };
  return { store, blobs, counts, fail: (e: AppError | undefined) => void (failWith = e) };
};

const setup = (respond: (request: OutgoingRequest) => AttemptResult = () => response(200)) => {
  const events = memoryEventStore();
  const webhooks = memoryWebhookStore();
  const queue = memoryDeliveryQueue();
  const payloads = memoryPayloads();
  const requests: OutgoingRequest[] = [];
  const sender: HttpSender = { send: (request) => async () => (requests.push(request), respond(request)) };
  const deliverDeps: DeliverDeps = {
    lookup: memoryWebhookLookup(webhooks),
    webhooks,
    sender,
    queue,
    attemptLog: memoryAttemptLog(),
    clock: { now: () => new Date() },
    policy: { scheduleSeconds: [5, 300], jitterRatio: 0 },
    random: () => 0.5,
    warn: () => undefined,
    payloads: payloads.store,
  };
  /** Stores the event as the table store would (the blob first when the payload is large), then fans it out. */
  const ingest = async (payload: Record<string, string>, fanOut: number): Promise<void> => {
    for (let i = 0; i < fanOut; i++) {
      // One name for all: a `ping` naming it reaches every one (a fan-out of `fanOut`).
      const webhook = aWebhook({ attributes: { name: 'receivers', n: String(i) }, subscriptions: ['ping'] });
      webhooks.rows.set(webhook.id, webhook);
    }
    const claim = claimCheckOf({ name: 'receivers', ...payload });
    if (claim !== undefined) await payloads.store.put({ eventId: EVENT_ID, ref: claim.ref, text: claim.text })();
    events.rows.set(EVENT_ID, { id: EVENT_ID, name: 'ping', payload: { name: 'receivers', ...payload }, receivedAt: new Date().toISOString(), status: 'accepted' });
    const page = await enqueueFanOutPage({ events, webhooks, queue, pageSize: 200, maxDeliveriesPerMessage: 50, grantsOf: () => TE.right(undefined) })({ eventId: EVENT_ID, planIndex: 0 })();
    if (E.isLeft(page)) throw new Error(page.left.message);
  };
  /** Runs every message enqueued so far (not those enqueued while running). */
  const deliverAll = async (): Promise<E.Either<AppError, unknown>[]> => {
    const pending = queue.sent.splice(0);
    const results: E.Either<AppError, unknown>[] = [];
    for (const { message } of pending) results.push(await deliverMessage(deliverDeps)(message)());
    return results;
  };
  return { queue, payloads, requests, deliverDeps, ingest, deliverAll };
};

const encodedBytes = (value: unknown): number => Buffer.from(JSON.stringify(value), 'utf8').toString('base64').length;
const sentData = (request: OutgoingRequest): unknown => (JSON.parse(request.body) as { payload: { data?: string } }).payload.data;

describe('claim check', () => {
  it('a small payload travels inline: no blob, no reference, no read', async () => {
    const s = setup();
    await s.ingest({ data: 'small' }, 3);
    expect(s.payloads.blobs.size).toBe(0);
    expect(s.queue.sent.map((m) => m.message.payloadRef)).toEqual([undefined]);
    expect(s.queue.sent[0]?.message.items.map((i) => i.claimed)).toEqual([undefined, undefined, undefined]);
    await s.deliverAll();
    expect(s.payloads.counts.get).toBe(0);
    expect(s.requests.map(sentData)).toEqual(['small', 'small', 'small']);
  });

  it('a large payload is stored once; messages carry its hash and no data; each message reads it once; every receiver gets it whole', async () => {
    const s = setup();
    const data = 'x'.repeat(512 * 1024);
    await s.ingest({ data }, 60);
    expect(s.payloads.blobs.size).toBe(1);
    const messages = s.queue.sent.map((m) => m.message);
    expect(messages).toHaveLength(2);
    for (const message of messages) {
      expect(DeliveryMessage.decode(message)).toEqual(E.right(message));
      expect(message.payloadRef).toMatch(/^[0-9a-f]{64}$/);
      expect(message.items.every((i) => i.body.payload.data === undefined && i.claimed?.join() === 'data')).toBe(true);
      expect(encodedBytes(message)).toBeLessThan(64 * 1024);
    }
    await s.deliverAll();
    expect(s.payloads.counts.get).toBe(2);
    expect(s.requests).toHaveLength(60);
    expect(s.requests.every((r) => sentData(r) === data)).toBe(true);
  });

  it('the threshold: a payload of INLINE_PAYLOAD_MAX_BYTES stays inline, one byte more goes to the blob', () => {
    const overhead = '{"data":""}'.length;
    expect(claimCheckOf({ data: 'a'.repeat(INLINE_PAYLOAD_MAX_BYTES - overhead) })).toBeUndefined();
    expect(claimCheckOf({ data: 'a'.repeat(INLINE_PAYLOAD_MAX_BYTES - overhead + 1) })).toBeDefined();
  });

  it('a retry is re-enqueued alone with the reference and without the data; it reads the blob again and sends it whole', async () => {
    let calls = 0;
    const s = setup(() => (++calls === 1 ? response(503) : response(200)));
    const data = 'y'.repeat(100 * 1024);
    await s.ingest({ data }, 1);
    await s.deliverAll();
    const retry = s.queue.sent[0];
    expect(retry?.delaySeconds).toBe(5);
    expect(retry?.message.payloadRef).toBeDefined();
    expect(retry?.message.items[0]?.body.payload.data).toBeUndefined();
    expect(encodedBytes(retry?.message)).toBeLessThan(4 * 1024);
    await s.deliverAll();
    expect(s.requests.map(sentData)).toEqual([data, data]);
    expect(s.payloads.counts.get).toBe(2);
  });

  it('a poisoned delivery keeps the reference, and its redrive sends the data whole', async () => {
    const s = setup(() => response(400));
    const data = 'z'.repeat(50 * 1024);
    await s.ingest({ data }, 1);
    await s.deliverAll();
    const entry = s.queue.poisoned[0];
    expect(entry?.payloadRef).toBeDefined();
    expect(JSON.stringify(entry)).not.toContain('zzzz');
    const redriven = redriveMessageFor(classifyPoison(JSON.stringify(entry)));
    expect(redriven?.payloadRef).toBe(entry?.payloadRef);
    await deliverMessage(s.deliverDeps)(redriven as DeliveryMessage)();
    expect(s.requests.map(sentData)).toEqual([data, data]);
  });

  it('a blob deleted with its event (purge, erasure): the deliveries are skipped, nothing is sent', async () => {
    const s = setup();
    await s.ingest({ data: 'w'.repeat(30 * 1024) }, 2);
    await s.payloads.store.removeAll(EVENT_ID)();
    const [result] = await s.deliverAll();
    expect(result).toEqual(E.right({ delivered: 0, retried: 0, poisoned: 0, gone: 0, skipped: 2, held: 0 }));
    expect(s.requests).toEqual([]);
  });

  it('blob storage down: the message fails Transient (the host runs it again) and nothing is sent', async () => {
    const s = setup();
    await s.ingest({ data: 'v'.repeat(30 * 1024) }, 2);
    s.payloads.fail(transient('Storage is unavailable (read an event payload)'));
    const [result] = await s.deliverAll();
    expect(result).toEqual(E.left(expect.objectContaining({ kind: 'Transient' })));
    expect(s.requests).toEqual([]);
  });
});

describe('inFlightBytes', () => {
  it('never lets more than the budget run at once, and runs everything', async () => {
    const budget = inFlightBytes(100);
    let running = 0;
    let peak = 0;
    const task = (bytes: number) =>
      budget.within(bytes, async () => {
        running += bytes;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        running -= bytes;
        return bytes;
      });
    const results = await Promise.all([40, 40, 40, 30, 250, 10, 60].map((b) => task(b)()));
    expect(results).toEqual([40, 40, 40, 30, 250, 10, 60]);
    // 250 is over the whole budget: it went alone.
    expect(peak).toBe(250);
    expect(budget.inUse()).toBe(0);
  });

  it('keeps small bodies to the budget', async () => {
    const budget = inFlightBytes(100);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 50 }, () =>
        budget.within(30, async () => {
          running += 30;
          peak = Math.max(peak, running);
          await new Promise((r) => setImmediate(r));
          running -= 30;
        })(),
      ),
    );
    expect(peak).toBe(90);
  });
});
