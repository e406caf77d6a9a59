import * as E from 'fp-ts/Either';
import { type DeliveryItem, type DeliveryMessage, deliveryIdFor } from '../../../domain/delivery';
import { messagesOf, packParcels, type QueueBody, readQueueBody } from '../../../domain/deliveryEnvelope';
import type { EventId } from '../../../domain/events';
import type { WebhookId } from '../../../domain/webhook';
import { MAX_ENCODED_MESSAGE_BYTES } from '../../__tests__/memory/memoryDeliveryQueue';
import { coalescingEnqueue } from '../coalescingEnqueue';
import { encodeMessage } from '../storageDeliveryQueue';

/*
 * The group commit of immediate enqueues: a lone caller goes at once, callers arriving during a send
 * share the next one, each caller settles with the send that carried its messages, and what is
 * sent fits a queue message and a worker invocation.
 */

const WEBHOOK_ID = '01HZZZZZZZZZZZZZZZZZZZ0001' as WebhookId;
const eventId = (n: number): EventId => `01J00000000000000000EV${String(n).padStart(4, '0')}` as EventId;
const item = (event: EventId, note = ''): DeliveryItem => ({
  deliveryId: deliveryIdFor({ eventId: event, publicEventName: 'ping', webhookId: WEBHOOK_ID }),
  webhookId: WEBHOOK_ID,
  body: { name: 'ping', payload: note === '' ? {} : { note } },
  attempts: [],
});
const messageFor = (n: number, items = 1, note = ''): DeliveryMessage => ({ v: 1, eventId: eventId(n), items: Array.from({ length: items }, () => item(eventId(n), note)) });

type Send = { body: QueueBody; resolve: () => void; reject: (e: Error) => void };

/** A send that waits until the test settles it, so the test decides what is "in flight". */
const controlledSend = () => {
  const sends: Send[] = [];
  const send = (body: QueueBody): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      sends.push({ body, resolve, reject });
    });
  return { sends, send };
};

/** Lets every settled promise run its callbacks. */
const flushed = (): Promise<void> => new Promise((r) => setImmediate(r));

const settled = (p: Promise<void>): { state: () => 'pending' | 'resolved' | 'rejected'; error: () => unknown } => {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  let error: unknown;
  p.then(
    () => void (state = 'resolved'),
    (e: unknown) => {
      state = 'rejected';
      error = e;
    },
  );
  return { state: () => state, error: () => error };
};

const carried = (sends: readonly Send[]): string[] => sends.flatMap((s) => messagesOf(s.body).map((m) => m.eventId));

describe('coalescingEnqueue', () => {
  it('sends a lone caller at once, as the plain single message every worker reads', async () => {
    const { sends, send } = controlledSend();
    const enqueue = coalescingEnqueue({ send, maxItems: 50 });
    const lone = settled(enqueue([messageFor(1)]));
    // No timer: the send has started before the caller's promise is even looked at.
    expect(sends).toHaveLength(1);
    expect(sends[0]?.body).toEqual(messageFor(1));
    await flushed();
    expect(lone.state()).toBe('pending');
    sends[0]?.resolve();
    await flushed();
    expect(lone.state()).toBe('resolved');
  });

  it('callers arriving while a send is in flight share the next send, and resolve only when it is stored', async () => {
    const { sends, send } = controlledSend();
    const enqueue = coalescingEnqueue({ send, maxItems: 50 });
    const first = settled(enqueue([messageFor(1)]));
    const waiting = [2, 3, 4].map((n) => settled(enqueue([messageFor(n)])));
    expect(sends).toHaveLength(1);
    sends[0]?.resolve();
    await flushed();
    expect(first.state()).toBe('resolved');
    // One send for the three, an envelope of their three messages.
    expect(sends).toHaveLength(2);
    expect(readQueueBody(JSON.parse(JSON.stringify(sends[1]?.body))).kind).toBe('Envelope');
    expect(carried(sends.slice(1))).toEqual([eventId(2), eventId(3), eventId(4)]);
    expect(waiting.map((w) => w.state())).toEqual(['pending', 'pending', 'pending']);
    sends[1]?.resolve();
    await flushed();
    expect(waiting.map((w) => w.state())).toEqual(['resolved', 'resolved', 'resolved']);
  });

  it('a failed send fails every caller it carried, and none of them is reported sent', async () => {
    const { sends, send } = controlledSend();
    const enqueue = coalescingEnqueue({ send, maxItems: 50 });
    const first = settled(enqueue([messageFor(1)]));
    const waiting = [2, 3].map((n) => settled(enqueue([messageFor(n)])));
    sends[0]?.resolve();
    await flushed();
    sends[1]?.reject(new Error('storage said no'));
    await flushed();
    expect(first.state()).toBe('resolved');
    expect(waiting.map((w) => w.state())).toEqual(['rejected', 'rejected']);
    expect(waiting.map((w) => (w.error() as Error).message)).toEqual(['storage said no', 'storage said no']);
    // The coalescer goes on: the next caller is sent at once.
    const next = settled(enqueue([messageFor(9)]));
    expect(sends).toHaveLength(3);
    sends[2]?.resolve();
    await flushed();
    expect(next.state()).toBe('resolved');
  });

  it('a send that throws instead of rejecting fails its callers and does not stall the next ones', async () => {
    let calls = 0;
    const enqueue = coalescingEnqueue({
      send: () => {
        calls++;
        if (calls === 1) throw new Error('thrown');
        return Promise.resolve();
      },
      maxItems: 50,
    });
    await expect(enqueue([messageFor(1)])).rejects.toThrow('thrown');
    await expect(enqueue([messageFor(2)])).resolves.toBeUndefined();
  });

  it('splits what waits by the item limit and the 64 KB limit; each message travels once, every parcel fits', async () => {
    const { sends, send } = controlledSend();
    const enqueue = coalescingEnqueue({ send, maxItems: 10 });
    void enqueue([messageFor(0)]);
    // 3 items each: at most 3 messages (9 items) an envelope by count.
    const byCount = Array.from({ length: 7 }, (_, i) => settled(enqueue([messageFor(100 + i, 3)])));
    sends[0]?.resolve();
    await flushed();
    const countSends = sends.slice(1);
    expect(countSends.map((s) => messagesOf(s.body).length)).toEqual([3, 3, 1]);
    expect(carried(countSends)).toEqual(Array.from({ length: 7 }, (_, i) => eventId(100 + i)));
    countSends.forEach((s) => s.resolve());
    await flushed();
    expect(byCount.every((w) => w.state() === 'resolved')).toBe(true);

    // About 20 KB each: two fit in one message, three do not.
    const big = 'x'.repeat(20 * 1024);
    void enqueue([messageFor(200)]);
    const bySize = Array.from({ length: 5 }, (_, i) => settled(enqueue([messageFor(300 + i, 1, big)])));
    const before = sends.length;
    sends[before - 1]?.resolve();
    await flushed();
    const sizeSends = sends.slice(before);
    expect(sizeSends.length).toBe(3);
    for (const s of sizeSends) expect(encodeMessage(s.body).length).toBeLessThanOrEqual(MAX_ENCODED_MESSAGE_BYTES);
    expect(carried(sizeSends)).toEqual(Array.from({ length: 5 }, (_, i) => eventId(300 + i)));
    // One part of the split failing fails only the callers it carried.
    sizeSends[0]?.reject(new Error('refused'));
    sizeSends.slice(1).forEach((s) => s.resolve());
    await flushed();
    expect(bySize.map((w) => w.state())).toEqual(['rejected', 'rejected', 'resolved', 'resolved', 'resolved']);
  });

  it('a caller whose messages were split over two sends fails when either fails', async () => {
    const { sends, send } = controlledSend();
    const enqueue = coalescingEnqueue({ send, maxItems: 4 });
    void enqueue([messageFor(0)]);
    const wide = settled(enqueue([messageFor(1, 4), messageFor(1, 4)]));
    sends[0]?.resolve();
    await flushed();
    expect(sends.slice(1).map((s) => messagesOf(s.body).length)).toEqual([1, 1]);
    sends[1]?.resolve();
    sends[2]?.reject(new Error('second part refused'));
    await flushed();
    expect(wide.state()).toBe('rejected');
  });

  it('a message naming a payload blob travels alone (one blob per worker invocation)', () => {
    const claimed: DeliveryMessage = { ...messageFor(5), payloadRef: 'a'.repeat(64) as DeliveryMessage['payloadRef'] };
    const parcels = packParcels(
      [messageFor(4), claimed, messageFor(6), messageFor(7)].map((message, tag) => ({ message, tag })),
      50,
    );
    expect(parcels.map((p) => [...p.tags].sort())).toEqual(expect.arrayContaining([[0, 2, 3], [1]]));
    expect(parcels).toHaveLength(2);
    expect(parcels.find((p) => p.tags.includes(1))?.body).toEqual(claimed);
  });
});

describe('readQueueBody', () => {
  it('reads a single message (enqueued before envelopes), an envelope, and an unreadable inner message apart from the rest', () => {
    expect(readQueueBody(messageFor(1))).toEqual({ kind: 'Single', message: messageFor(1) });
    const envelope = readQueueBody({ v: 1, messages: [messageFor(1), { v: 1, eventId: 'nope' }, messageFor(2)] });
    if (envelope.kind !== 'Envelope') throw new Error(`expected an envelope, got ${envelope.kind}`);
    expect(envelope.messages.map(E.isRight)).toEqual([true, false, true]);
    expect(readQueueBody({ hello: 'world' }).kind).toBe('Unreadable');
  });
});
