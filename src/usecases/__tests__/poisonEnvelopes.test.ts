import * as E from 'fp-ts/Either';
import { memoryAttemptLog } from '../../adapters/__tests__/memory/memoryAttemptLog';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryPoisonQueue } from '../../adapters/__tests__/memory/memoryPoisonQueue';
import { memoryPrivacyIndex } from '../../adapters/__tests__/memory/memoryPrivacyIndex';
import { type DeliveryMessage, deliveryIdFor } from '../../domain/delivery';
import type { EventId } from '../../domain/events';
import type { WebhookId } from '../../domain/webhook';
import { eraseSubject } from '../eraseSubject';
import { ingestEvent } from '../ingestEvent';
import { purgeEvents } from '../purgeEvents';
import { listPoison, redrivePoison } from '../redrivePoison';

/*
 * The host moves a message to the poison queue whole after maxDequeueCount failures, and since the
 * group commit that message may be an envelope of several events' messages: ops see what it holds,
 * a redrive sends every delivery in it again, the retention purge removes it by age, and an erasure
 * takes out one person's messages without dropping the other events' failed deliveries.
 */

const KEY = 'test-subject-hash-key-0123456789abcdef';
const ANNA = 'RSSNNA80A41H501X';
const BRUNO = 'BRNBRN70B12F205Z';
const OLD = '2024-01-01T10:15:00.000Z';
const NEW = '2024-03-01T10:15:00.000Z';
const WEBHOOK = '01HZZZZZZZZZZZZZZZZZZZ0001' as WebhookId;

const subscribedMessage = (eventId: string, fiscalCode: string): DeliveryMessage => ({
  v: 1,
  eventId: eventId as EventId,
  items: [
    {
      deliveryId: deliveryIdFor({ eventId, publicEventName: 'service:subscribed', webhookId: WEBHOOK }),
      webhookId: WEBHOOK,
      body: { name: 'service:subscribed', payload: { fiscalCode } },
      attempts: [{ at: OLD, result: { kind: 'Response', status: 503, latencyMs: 3, excerpt: '', bodyRead: 'Complete' } }],
    },
  ],
});
const envelopeText = (...messages: DeliveryMessage[]): string => JSON.stringify({ v: 1, messages });

const setup = () => {
  const events = memoryEventStore();
  const attemptLog = memoryAttemptLog();
  const index = memoryPrivacyIndex();
  const poison = memoryPoisonQueue();
  const deliveries = memoryDeliveryQueue();
  let now = new Date(OLD);
  const ingest = ingestEvent({ events, clock: { now: () => now }, newEventId: () => 'unused' as EventId, privacy: { index, subjectHashKey: KEY } });
  const at = async (time: string, id: string, fiscalCode: string) => {
    now = new Date(time);
    const result = await ingest({ id, name: 'service:subscribed', payload: { serviceId: 's1', fiscalCode } })();
    if (E.isLeft(result)) throw new Error(result.left.message);
  };
  const removal = { events, attemptLog, index, poison, subjectHashKey: KEY, maxPoisonMessages: 100, maxEvents: 100 };
  return { poison, deliveries, at, erase: eraseSubject(removal), purge: purgeEvents(removal) };
};

describe('poison envelopes', () => {
  it('are listed with every event they hold', async () => {
    const s = setup();
    s.poison.put(envelopeText(subscribedMessage('a1', ANNA), subscribedMessage('b1', BRUNO)), OLD);
    const listed = await listPoison(s)(10)();
    expect(E.isRight(listed) && listed.right.map((v) => v.item)).toEqual([{ kind: 'FailedEnvelope', messages: [subscribedMessage('a1', ANNA), subscribedMessage('b1', BRUNO)] }]);
  });

  it('a redrive enqueues every delivery message of the envelope with a fresh attempt count, then removes it', async () => {
    const s = setup();
    s.poison.put(envelopeText(subscribedMessage('a1', ANNA), subscribedMessage('b1', BRUNO)), OLD);
    const report = await redrivePoison({ poison: s.poison, deliveries: s.deliveries })({ kind: 'All' }, { maxMessages: 100 })();
    expect(report).toEqual(E.right({ redriven: 1, leftUnreadable: 0, found: true, truncated: false }));
    expect(s.deliveries.sent.map((m) => [m.message.eventId, m.message.items[0]?.deliveryId, m.message.items[0]?.attempts.length])).toEqual([
      ['a1', subscribedMessage('a1', ANNA).items[0]?.deliveryId, 0],
      ['b1', subscribedMessage('b1', BRUNO).items[0]?.deliveryId, 0],
    ]);
    expect(s.poison.messages).toEqual([]);
  });

  it("an erasure takes one person's messages out of an envelope and keeps the other events' failed deliveries", async () => {
    const s = setup();
    await s.at(OLD, 'a1', ANNA);
    await s.at(OLD, 'b1', BRUNO);
    s.poison.put(envelopeText(subscribedMessage('a1', ANNA), subscribedMessage('b1', BRUNO), subscribedMessage('b2', BRUNO)), OLD);
    s.poison.put(envelopeText(subscribedMessage('a1', ANNA), subscribedMessage('a1', ANNA)), OLD);
    const report = await s.erase({ fiscalCode: ANNA })();
    expect(E.isRight(report) && report.right.deleted.poison).toBe(1);
    // Rewritten in place (its insertion time, hence its retention, unchanged), without Anna's message.
    expect(s.poison.messages.map((m) => [m.insertedOn, JSON.parse(m.text)])).toEqual([[OLD, { v: 1, messages: [subscribedMessage('b1', BRUNO), subscribedMessage('b2', BRUNO)] }]]);
    expect(s.poison.messages[0]?.text).not.toContain(ANNA);
  });

  it('an envelope left with one message after an erasure becomes that single message', async () => {
    const s = setup();
    await s.at(OLD, 'a1', ANNA);
    s.poison.put(envelopeText(subscribedMessage('a1', ANNA), subscribedMessage('b1', BRUNO)), OLD);
    await s.erase({ fiscalCode: ANNA })();
    expect(s.poison.messages.map((m) => JSON.parse(m.text))).toEqual([subscribedMessage('b1', BRUNO)]);
  });

  it('the retention purge removes an envelope by its age, like any poison message', async () => {
    const s = setup();
    s.poison.put(envelopeText(subscribedMessage('a1', ANNA), subscribedMessage('b1', BRUNO)), OLD);
    s.poison.put(envelopeText(subscribedMessage('a2', ANNA), subscribedMessage('b2', BRUNO)), NEW);
    const report = await s.purge(new Date('2024-02-01T00:00:00.000Z'))();
    expect(E.isRight(report)).toBe(true);
    expect(s.poison.messages.map((m) => m.insertedOn)).toEqual([NEW]);
  });
});
