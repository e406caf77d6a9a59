import { InvocationContext } from '@azure/functions';
import * as TE from 'fp-ts/TaskEither';
import { memoryAttemptLog } from '../../adapters/__tests__/memory/memoryAttemptLog';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryWebhookLookup } from '../../adapters/__tests__/memory/memoryWebhookLookup';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { type DeliveryMessage, deliveryIdFor } from '../../domain/delivery';
import { transient } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { Webhook } from '../../domain/webhook';
import type { DeliveryQueue } from '../../ports/deliveryQueue';
import type { OutgoingRequest } from '../../ports/httpSender';
import { FAILED_INNER_MESSAGE_DELAY_SECONDS } from '../../usecases/deliverEnvelope';
import { deliverHandler } from '../handlers/deliverHandler';

/*
 * The delivery worker with memory ports and a fake sender, given what the trigger hands it: a
 * single message (as enqueued before envelopes, by a retry or a redrive) or an envelope of several
 * events' messages, each of which must be handled as if it had come alone.
 */

const START = Date.now();
const eventId = (n: number): EventId => `01J00000000000000000EV${String(n).padStart(4, '0')}` as EventId;

const setup = (options: { failingStatus?: (url: string) => number | undefined } = {}) => {
  const store = memoryWebhookStore();
  const queue = memoryDeliveryQueue();
  const attemptLog = memoryAttemptLog();
  const requests: OutgoingRequest[] = [];
  /** Enqueues with these delays fail (a consequence not stored); the rest reach `queue`. */
  const failingDelays = new Set<number>();
  const enqueue: DeliveryQueue['enqueue'] = (messages, opts) => (failingDelays.has(opts?.delaySeconds ?? 0) ? TE.left(transient('queue down')) : queue.enqueue(messages, opts));
  let time = START;
  const clock = { now: () => new Date((time += 10)) };
  const handler = deliverHandler({
    poison: queue.poison,
    requeue: enqueue,
    clock,
    deliver: ({ warn }) => ({
      lookup: memoryWebhookLookup(store),
      webhooks: store,
      sender: {
        send: (request) => async () => {
          requests.push(request);
          return { kind: 'Response', status: options.failingStatus?.(request.url) ?? 200, latencyMs: 3, excerpt: '', bodyRead: 'Complete' };
        },
      },
      queue: { ...queue, enqueue },
      attemptLog,
      clock,
      policy: { scheduleSeconds: [5, 300], jitterRatio: 0 },
      random: () => 0.5,
      warn,
    }),
  });
  const add = (n: number): Webhook => {
    const webhook = aWebhook({ id: `01HZZZZZZZZZZZZZZZZZZZ${String(n).padStart(4, '0')}` as Webhook['id'], url: `https://receiver-${n}.example.com/hook` as Webhook['url'] });
    store.rows.set(webhook.id, webhook);
    return webhook;
  };
  const messageFor = (n: number, webhook: Webhook): DeliveryMessage => ({
    v: 1,
    eventId: eventId(n),
    items: [{ deliveryId: deliveryIdFor({ eventId: eventId(n), publicEventName: 'ping', webhookId: webhook.id }), webhookId: webhook.id, body: { name: 'ping', payload: {} }, attempts: [] }],
  });
  // As the trigger hands it over: JSON parsed from the queue text.
  const run = (body: unknown) => handler(JSON.parse(JSON.stringify(body)), new InvocationContext({ invocationId: 't', functionName: 'deliver', logHandler: () => undefined }));
  return { queue, attemptLog, requests, failingDelays, add, messageFor, run };
};

const webhookIdHeader = (r: OutgoingRequest): string | undefined => r.headers['webhook-id'];

describe('deliverHandler', () => {
  it('a single message (as queued before envelopes, retried or redriven) is delivered as before', async () => {
    const s = setup();
    const webhook = s.add(1);
    const message = s.messageFor(1, webhook);
    await s.run(message);
    expect(s.requests.map((r) => [r.url, webhookIdHeader(r)])).toEqual([[webhook.url, message.items[0]?.deliveryId]]);
    expect(s.attemptLog.entries.map((e) => [e.eventId, e.decision])).toEqual([[eventId(1), 'Delivered']]);
    expect(s.queue.sent).toEqual([]);
  });

  it('an envelope: each inner message is delivered with its own webhook-id and gets its own attempt row', async () => {
    const s = setup();
    const messages = [1, 2, 3].map((n) => s.messageFor(n, s.add(n)));
    await s.run({ v: 1, messages });
    expect(s.requests.map(webhookIdHeader).sort()).toEqual(messages.map((m) => m.items[0]?.deliveryId).sort());
    expect(s.attemptLog.entries.map((e) => [e.eventId, e.decision]).sort()).toEqual([1, 2, 3].map((n) => [eventId(n), 'Delivered']));
    expect(s.queue.sent).toEqual([]);
    expect(s.queue.poisoned).toEqual([]);
  });

  it('a retry inside an envelope is re-enqueued for its delivery alone, with its backoff', async () => {
    const s = setup({ failingStatus: (url) => (url.includes('receiver-2') ? 503 : undefined) });
    const messages = [1, 2].map((n) => s.messageFor(n, s.add(n)));
    await s.run({ v: 1, messages });
    expect(s.queue.sent).toHaveLength(1);
    expect(s.queue.sent[0]?.delaySeconds).toBe(5);
    expect(s.queue.sent[0]?.message.eventId).toBe(eventId(2));
    expect(s.queue.sent[0]?.message.items[0]?.attempts).toHaveLength(1);
  });

  it('an inner message that cannot store its outcome goes back alone; the others complete and are not repeated', async () => {
    const s = setup({ failingStatus: (url) => (url.includes('receiver-2') ? 503 : undefined) });
    // The retry of receiver 2's delivery (backoff 5 s) cannot be enqueued: its message fails.
    s.failingDelays.add(5);
    const messages = [1, 2, 3].map((n) => s.messageFor(n, s.add(n)));
    await s.run({ v: 1, messages });
    expect(s.queue.sent).toEqual([{ message: messages[1], delaySeconds: FAILED_INNER_MESSAGE_DELAY_SECONDS }]);
    // It comes back as a single message: the host retries that one and poisons it after maxDequeueCount.
    s.failingDelays.clear();
    const before = s.requests.length;
    await s.run(s.queue.sent[0]?.message);
    expect(s.requests.slice(before).map((r) => r.url)).toEqual(['https://receiver-2.example.com/hook']);
  });

  it('throws (the host runs the envelope again) only when the failed inner messages cannot be enqueued again', async () => {
    const s = setup({ failingStatus: (url) => (url.includes('receiver-2') ? 503 : undefined) });
    s.failingDelays.add(5);
    s.failingDelays.add(FAILED_INNER_MESSAGE_DELAY_SECONDS);
    const messages = [1, 2].map((n) => s.messageFor(n, s.add(n)));
    await expect(s.run({ v: 1, messages })).rejects.toThrow(/envelope of 2 delivery messages/);
  });

  it('an unreadable inner message is set aside alone; the others are delivered', async () => {
    const s = setup();
    const good = s.messageFor(1, s.add(1));
    await s.run({ v: 1, messages: [good, { v: 1, eventId: 'not an event id', items: 'nope' }] });
    expect(s.requests.map(webhookIdHeader)).toEqual([good.items[0]?.deliveryId]);
    expect(s.queue.poisoned).toHaveLength(1);
    expect(s.queue.poisoned[0]?.reason.kind).toBe('UnreadableMessage');
    expect(s.queue.poisoned[0]?.body).toEqual({ v: 1, eventId: 'not an event id', items: 'nope' });
  });

  it('a message that is neither is set aside whole', async () => {
    const s = setup();
    await s.run({ hello: 'world' });
    expect(s.requests).toEqual([]);
    expect(s.queue.poisoned.map((p) => p.reason.kind)).toEqual(['UnreadableMessage']);
  });
});
