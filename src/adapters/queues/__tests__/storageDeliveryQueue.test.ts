import { QueueClient } from '@azure/storage-queue';
import * as E from 'fp-ts/Either';
import { withDeadStorage } from '../../../../local-host/testing/deadStorage';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { DeliveryMessage, deliveryIdFor, PoisonEntry } from '../../../domain/delivery';
import type { EventId } from '../../../domain/events';
import type { WebhookId } from '../../../domain/webhook';
import { readQueueBody } from '../../../domain/deliveryEnvelope';
import { encodeMessage, poisonQueueName, storageDeliveryQueue } from '../storageDeliveryQueue';
import { storagePoisonQueue } from '../storagePoisonQueue';

/*
 * The delivery queue on Azurite: messages are base64 JSON as the Functions host reads them, a delay
 * hides a message until it is due, poison entries land in `<queue>-poison`, and dead storage is
 * Transient.
 */

const suffix = `${process.pid}${Date.now() % 100000}`;
const connectionString = storageConnectionString();
const EVENT_ID = '01J0000000000000000000EVNT' as EventId;
const WEBHOOK_ID = '01HZZZZZZZZZZZZZZZZZZZ0001' as WebhookId;

const message: DeliveryMessage = {
  v: 1,
  eventId: EVENT_ID,
  items: [{ deliveryId: deliveryIdFor({ eventId: EVENT_ID, publicEventName: 'ping', webhookId: WEBHOOK_ID }), webhookId: WEBHOOK_ID, body: { name: 'ping', payload: { note: 'è' } }, attempts: [] }],
};

const decodeText = (text: string): unknown => JSON.parse(Buffer.from(text, 'base64').toString('utf8'));

describe('storage delivery queue (Azurite)', () => {
  const queueName = `dq-${suffix}`;
  const queue = storageDeliveryQueue({ connectionString, queueName });
  const raw = new QueueClient(connectionString, queueName);
  const rawPoison = new QueueClient(connectionString, poisonQueueName(queueName));
  afterAll(async () => {
    await raw.deleteIfExists();
    await rawPoison.deleteIfExists();
  });

  it('enqueues base64 JSON that decodes back to the message, creating the queue on first use', async () => {
    expect(await queue.enqueue([message, { ...message, items: [] }])()).toEqual(E.right(undefined));
    const received = await raw.receiveMessages({ numberOfMessages: 32 });
    expect(received.receivedMessageItems).toHaveLength(2);
    const decoded = received.receivedMessageItems.map((m) => decodeText(m.messageText));
    expect(decoded).toEqual(expect.arrayContaining([message, { ...message, items: [] }]));
    for (const d of decoded) expect(E.isRight(DeliveryMessage.decode(d))).toBe(true);
    // Never expires on its own: a retry due in hours must not vanish after the default 7 days.
    for (const m of received.receivedMessageItems) expect(m.expiresOn.getTime()).toBeGreaterThan(Date.now() + 365 * 24 * 3600 * 1000);
    for (const m of received.receivedMessageItems) await raw.deleteMessage(m.messageId, m.popReceipt);
  });

  it('a delay keeps the message invisible until it is due', async () => {
    expect(await queue.enqueue([message], { delaySeconds: 2 })()).toEqual(E.right(undefined));
    expect((await raw.receiveMessages()).receivedMessageItems).toEqual([]);
    const deadline = Date.now() + 15_000;
    let arrived: unknown;
    while (arrived === undefined && Date.now() < deadline) {
      const [m] = (await raw.receiveMessages()).receivedMessageItems;
      if (m !== undefined) {
        arrived = decodeText(m.messageText);
        await raw.deleteMessage(m.messageId, m.popReceipt);
      } else await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(arrived).toEqual(message);
  });

  it('sets poison entries aside in <queue>-poison', async () => {
    const entry: PoisonEntry = {
      kind: 'undeliverable',
      v: 1,
      eventId: EVENT_ID,
      deliveryId: message.items[0]?.deliveryId ?? '',
      webhookId: WEBHOOK_ID,
      body: message.items[0]?.body,
      attempts: [],
      reason: { kind: 'Rejected', status: 400 },
      poisonedAt: '2024-01-01T00:00:00.000Z',
    };
    expect(await queue.poison([entry])()).toEqual(E.right(undefined));
    const [received] = (await rawPoison.receiveMessages()).receivedMessageItems;
    expect(decodeText(received?.messageText ?? '')).toEqual(entry);
    expect(PoisonEntry.decode(decodeText(received?.messageText ?? ''))).toEqual(E.right(entry));
    expect((await raw.peekMessages()).peekedMessageItems).toEqual([]);
  });

  it('with coalescing: concurrent immediate enqueues after the first share one envelope, and every message arrives once', async () => {
    const name = `dqc-${suffix}`;
    const coalescing = storageDeliveryQueue({ connectionString, queueName: name, coalesceMaxItems: 50 });
    const rawCoalesced = new QueueClient(connectionString, name);
    try {
      const messages = [1, 2, 3, 4, 5].map((n): DeliveryMessage => ({ ...message, eventId: `${EVENT_ID}-${n}` as EventId }));
      const results = await Promise.all(messages.map((m) => coalescing.enqueue([m])()));
      expect(results).toEqual(messages.map(() => E.right(undefined)));
      const received = (await rawCoalesced.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems.map((m) => readQueueBody(decodeText(m.messageText)));
      // The first went alone at once; the four that came during its send, together.
      expect(received.map((r) => r.kind).sort()).toEqual(['Envelope', 'Single']);
      const carried = received.flatMap((r) => (r.kind === 'Single' ? [r.message] : r.kind === 'Envelope' ? r.messages.flatMap((m) => (E.isRight(m) ? [m.right] : [])) : []));
      expect(carried.map((m) => m.eventId).sort()).toEqual(messages.map((m) => m.eventId).sort());
    } finally {
      await rawCoalesced.deleteIfExists();
    }
  });

  it('a poison message rewritten in place keeps its id and insertion time, and reads back as the new text', async () => {
    const poison = storagePoisonQueue(queue.poisonQueue);
    await rawPoison.sendMessage(encodeMessage({ before: true }));
    const taken = await poison.receive(32, 30)();
    if (E.isLeft(taken)) throw new Error(taken.left.message);
    const [original] = taken.right.filter((m) => m.text.includes('before'));
    if (original === undefined) throw new Error('the message did not arrive');
    const rewritten = await poison.rewrite(original, JSON.stringify({ after: true }), 30)();
    if (E.isLeft(rewritten)) throw new Error(rewritten.left.message);
    expect(await poison.release(rewritten.right)()).toEqual(E.right(undefined));
    const peeked = await poison.peek(32)();
    const again = E.isRight(peeked) ? peeked.right.find((m) => m.messageId === original.messageId) : undefined;
    expect(again).toEqual({ messageId: original.messageId, insertedOn: original.insertedOn, dequeueCount: expect.any(Number), text: '{"after":true}' });
  });

  it('encodeMessage is the base64 of the JSON text', () => {
    expect(Buffer.from(encodeMessage({ a: 'è' }), 'base64').toString('utf8')).toBe('{"a":"è"}');
  });

  it('storage that does not answer is Transient, for both queues', async () => {
    await withDeadStorage(async (deadConnection) => {
      const down = storageDeliveryQueue({ connectionString: deadConnection, queueName });
      expect(await down.enqueue([message])()).toEqual(E.left(expect.objectContaining({ kind: 'Transient' })));
      expect(await down.poison([])()).toEqual(E.left(expect.objectContaining({ kind: 'Transient' })));
    });
  });
});
