import * as E from 'fp-ts/Either';
import { memoryAttemptLog } from '../../adapters/__tests__/memory/memoryAttemptLog';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryPoisonQueue } from '../../adapters/__tests__/memory/memoryPoisonQueue';
import { memoryPrivacyIndex } from '../../adapters/__tests__/memory/memoryPrivacyIndex';
import { memoryWebhookLookup } from '../../adapters/__tests__/memory/memoryWebhookLookup';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { deliveryIdFor, type DeliveryMessage } from '../../domain/delivery';
import { transient } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import { subjectHash } from '../../domain/privacy';
import type { AttemptLogEntry } from '../../ports/attemptLog';
import { type DeliverDeps, deliverMessage } from '../deliverMessage';
import { eraseSubject } from '../eraseSubject';
import { ingestEvent } from '../ingestEvent';
import { backfillPrivacyIndex } from '../backfillPrivacyIndex';
import { purgeEvents } from '../purgeEvents';

/*
 * Retention and erasure with memory ports: ingest indexes what they need, the purge removes every
 * kind of row older than the cutoff (bounded, resumable), erasure removes one person's events and
 * nothing else, and a delivery of an erased event is never sent.
 */

const KEY = 'test-subject-hash-key-0123456789abcdef';
const ANNA = 'RSSNNA80A41H501X';
const BRUNO = 'BRNBRN70B12F205Z';
const OLD = '2024-01-01T10:15:00.000Z';
const NEW = '2024-03-01T10:15:00.000Z';

const setup = () => {
  const events = memoryEventStore();
  const attemptLog = memoryAttemptLog();
  const index = memoryPrivacyIndex();
  const poison = memoryPoisonQueue();
  let now = new Date(OLD);
  const clock = { now: () => now };
  const ingest = ingestEvent({ events, clock, newEventId: () => 'unused' as EventId, privacy: { index, subjectHashKey: KEY } });
  const at = async (time: string, body: unknown) => {
    now = new Date(time);
    const result = await ingest(body)();
    if (E.isLeft(result)) throw new Error(result.left.message);
  };
  const attempt = (eventId: string, n: number): AttemptLogEntry => ({ eventId, deliveryId: `d-${eventId}`, webhookId: 'w1', attempt: n, at: OLD, decision: n === 1 ? 'RetryLater' : 'Delivered' });
  const removal = { events, attemptLog, index, poison, subjectHashKey: KEY, maxPoisonMessages: 100 };
  return {
    events,
    attemptLog,
    index,
    poison,
    at,
    attempt,
    purge: (maxEvents = 100) => purgeEvents({ ...removal, maxEvents }),
    erase: eraseSubject({ ...removal, maxEvents: 100 }),
  };
};

const subscribed = (id: string, fiscalCode: string) => ({ id, name: 'service:subscribed', payload: { serviceId: 's1', fiscalCode } });
const profile = (id: string, fiscalCode: string) => ({ id, name: 'profile:completed', payload: { fiscalCode, servicePreferencesMode: 'AUTO' } });
const poisonText = (eventId: string, fiscalCode: string) =>
  JSON.stringify({
    kind: 'undeliverable',
    v: 1,
    eventId,
    deliveryId: 'd',
    webhookId: 'w1',
    body: { name: 'service:subscribed', payload: { fiscalCode } },
    attempts: [],
    reason: { kind: 'Exhausted' },
    poisonedAt: OLD,
  });

describe('ingest, for retention and erasure', () => {
  it('indexes an event by hour and by the keyed hash of its fiscal code, never by the code', async () => {
    const s = setup();
    await s.at(OLD, subscribed('e1', ANNA));
    await s.at(OLD, { id: 'e2', name: 'ping', payload: { name: 'x' } });
    expect([...s.index.rows.keys()].sort()).toEqual([`s|${subjectHash({ key: KEY, subject: ANNA })}`, 't|2024010110']);
    expect([...(s.index.rows.get('t|2024010110') ?? [])]).toEqual(['e1', 'e2']);
    expect(JSON.stringify([...s.index.rows.keys()])).not.toContain(ANNA);
  });

  it('stores nothing when the index cannot be written (the sender retries)', async () => {
    const s = setup();
    s.index.failWith = transient('down');
    const result = await ingestEvent({ events: s.events, clock: { now: () => new Date(OLD) }, newEventId: () => 'x' as EventId, privacy: { index: s.index, subjectHashKey: KEY } })(
      subscribed('e1', ANNA),
    )();
    expect(E.isLeft(result) && result.left.kind).toBe('Transient');
    expect(s.events.rows.size).toBe(0);
  });
});

describe('purgeEvents', () => {
  it('removes every kind of row older than the cutoff and keeps the newer ones', async () => {
    const s = setup();
    await s.at(OLD, subscribed('old-1', ANNA));
    await s.at(OLD, { id: 'old-2', name: 'ping', payload: { name: 'x' } });
    await s.at(NEW, subscribed('new-1', ANNA));
    await s.attemptLog.record([s.attempt('old-1', 1), s.attempt('old-1', 2), s.attempt('new-1', 1)])();
    s.poison.put(poisonText('old-1', ANNA), OLD);
    s.poison.put(poisonText('new-1', ANNA), NEW);

    const report = await s.purge()(new Date('2024-02-01T00:00:00.000Z'))();

    expect(report).toEqual(E.right({ deleted: { events: 2, attempts: 2, poison: 1 }, instances: 0, truncated: false }));
    expect([...s.events.rows.keys()]).toEqual(['new-1']);
    expect(s.attemptLog.entries.map((e) => e.eventId)).toEqual(['new-1']);
    expect(s.poison.messages.map((m) => m.insertedOn)).toEqual([NEW]);
    expect([...s.index.rows.entries()].map(([k, ids]) => [k, [...ids]])).toEqual([
      [`s|${subjectHash({ key: KEY, subject: ANNA })}`, ['new-1']],
      ['t|2024030110', ['new-1']],
    ]);
  });

  it('keeps an event of the cutoff hour that is newer than the cutoff', async () => {
    const s = setup();
    await s.at('2024-01-01T10:10:00.000Z', { id: 'before', name: 'ping', payload: { name: 'x' } });
    await s.at('2024-01-01T10:50:00.000Z', { id: 'after', name: 'ping', payload: { name: 'x' } });
    const report = await s.purge()(new Date('2024-01-01T10:30:00.000Z'))();
    expect(E.isRight(report) && report.right.deleted.events).toBe(1);
    expect([...s.events.rows.keys()]).toEqual(['after']);
  });

  it('does bounded work per run and the next run goes on', async () => {
    const s = setup();
    for (let i = 0; i < 5; i++) await s.at(OLD, { id: `e${i}`, name: 'ping', payload: { name: 'x' } });
    const cutoff = new Date(NEW);
    const first = await s.purge(2)(cutoff)();
    expect(E.isRight(first) && [first.right.deleted.events, first.right.truncated]).toEqual([2, true]);
    expect(s.events.rows.size).toBe(3);
    await s.purge(2)(cutoff)();
    const last = await s.purge(2)(cutoff)();
    expect(E.isRight(last) && [last.right.deleted.events, last.right.truncated]).toEqual([1, false]);
    expect(s.events.rows.size).toBe(0);
    expect(s.index.rows.size).toBe(0);
  });

  it('finishes an event a failed run left half deleted (index rows go last)', async () => {
    const s = setup();
    await s.at(OLD, subscribed('e1', ANNA));
    await s.attemptLog.record([s.attempt('e1', 1)])();
    s.attemptLog.failWith = transient('down');
    expect(E.isLeft(await s.purge()(new Date(NEW))())).toBe(true);
    expect(s.events.rows.size).toBe(0);
    s.attemptLog.failWith = undefined;
    const again = await s.purge()(new Date(NEW))();
    expect(E.isRight(again) && again.right.deleted).toEqual({ events: 0, attempts: 1, poison: 0 });
    expect(s.attemptLog.entries).toEqual([]);
    expect(s.index.rows.size).toBe(0);
  });
});

describe('events stored before the index', () => {
  it('are indexed a page per purge run, resumably, then purged and erasable', async () => {
    const s = setup();
    // Rows as an older version wrote them: no index rows at all.
    for (const [id, code] of [
      ['legacy-1', ANNA],
      ['legacy-2', BRUNO],
      ['legacy-3', ANNA],
    ] as const) {
      s.events.rows.set(id, { id: id as EventId, name: 'service:subscribed', payload: { serviceId: 's1', fiscalCode: code }, receivedAt: OLD, status: 'dispatched' });
    }
    const backfill = () => backfillPrivacyIndex({ events: s.events, index: s.index, subjectHashKey: KEY, maxEvents: 2 });
    const purge = purgeEvents({ events: s.events, attemptLog: s.attemptLog, index: s.index, poison: s.poison, subjectHashKey: KEY, maxPoisonMessages: 10, maxEvents: 100, backfill });

    expect(await backfill()()).toEqual(E.right({ indexed: 2, done: false }));
    expect(s.index.backfill).toEqual({ done: false, continuationToken: 'legacy-3' });
    const erased = await s.erase({ fiscalCode: ANNA })();
    expect(E.isRight(erased) && erased.right.deleted.events).toBe(1);

    // The purge's own backfill step indexes the last page, then purges it.
    const purged = await purge(new Date(NEW))();
    expect(E.isRight(purged) && purged.right.deleted.events).toBe(2);
    expect(s.index.backfill).toEqual({ done: true });
    expect(s.events.rows.size).toBe(0);
    expect(await backfill()()).toEqual(E.right({ indexed: 0, done: true }));
  });
});

describe('eraseSubject', () => {
  it("deletes that person's events, attempts, index rows and poison entries, and nobody else's", async () => {
    const s = setup();
    await s.at(OLD, subscribed('a1', ANNA));
    await s.at(NEW, profile('a2', ANNA));
    await s.at(NEW, subscribed('b1', BRUNO));
    await s.attemptLog.record([s.attempt('a1', 1), s.attempt('a1', 2), s.attempt('b1', 1)])();
    s.poison.put(poisonText('a1', ANNA), OLD);
    s.poison.put(poisonText('b1', BRUNO), OLD);
    s.poison.put(`{"unreadable": "${ANNA}"}`, OLD);

    const report = await s.erase({ fiscalCode: ANNA })();

    expect(report).toEqual(E.right({ deleted: { events: 2, attempts: 2, poison: 2 }, truncated: false }));
    expect([...s.events.rows.keys()]).toEqual(['b1']);
    expect(s.attemptLog.entries.map((e) => e.eventId)).toEqual(['b1']);
    expect(s.poison.messages.map((m) => m.text)).toEqual([poisonText('b1', BRUNO)]);
    expect([...s.index.rows.keys()].sort()).toEqual([`s|${subjectHash({ key: KEY, subject: BRUNO })}`, 't|2024030110']);
  });

  it.each([
    [{}, 'fiscalCode: is required (a fiscal code (16 characters, e.g. AAABBB00A00A000B))'],
    [{ fiscalCode: 'rssnna80a41h501x' }, 'fiscalCode: must be a fiscal code (16 characters, e.g. AAABBB00A00A000B)'],
    [{ fiscalCode: 42 }, 'fiscalCode: must be a fiscal code (16 characters, e.g. AAABBB00A00A000B)'],
    [[ANNA], '(body): must be an object'],
  ])('refuses %j naming the problem, never echoing the value, and changes nothing', async (body, detail) => {
    const s = setup();
    await s.at(OLD, subscribed('a1', ANNA));
    const result = await s.erase(body)();
    expect(result).toEqual(E.left({ kind: 'Invalid', message: 'The erasure request is invalid', details: [detail] }));
    expect(JSON.stringify(result)).not.toContain('rssnna');
    expect(s.events.rows.size).toBe(1);
  });
});

describe('a delivery of an erased event', () => {
  const deliverySetup = async (echo: (body: string) => string = () => '') => {
    const s = setup();
    const store = memoryWebhookStore();
    const webhook = aWebhook({ attributes: { serviceId: 's1' } });
    await store.create(webhook)();
    const queue = memoryDeliveryQueue();
    const sent: string[] = [];
    const reads: string[] = [];
    const deps: DeliverDeps = {
      lookup: memoryWebhookLookup(store),
      webhooks: store,
      sender: { send: (r) => async () => (sent.push(r.body), { kind: 'Response', status: 503, latencyMs: 1, excerpt: echo(r.body), bodyRead: 'Complete' }) },
      queue,
      attemptLog: s.attemptLog,
      clock: { now: () => new Date(NEW) },
      policy: { scheduleSeconds: [1, 1], jitterRatio: 0 },
      warn: () => undefined,
      events: { get: (id) => (reads.push(id), s.events.get(id)) },
    };
    const deliver = deliverMessage(deps);
    const message = (eventId: string, name: 'ping' | 'service:subscribed'): DeliveryMessage => ({
      v: 1,
      eventId: eventId as EventId,
      items: [
        {
          deliveryId: deliveryIdFor({ eventId: eventId as EventId, publicEventName: name, webhookId: webhook.id }),
          webhookId: webhook.id,
          body: name === 'ping' ? { name, payload: {} } : { name, payload: { fiscalCode: ANNA } },
          attempts: [],
        },
      ],
    });
    return { s, queue, sent, reads, deliver, message };
  };

  it('is not sent, not retried, not poisoned and leaves no attempt row', async () => {
    const { s, queue, sent, deliver, message } = await deliverySetup();
    await s.at(OLD, subscribed('a1', ANNA));
    expect(E.isRight(await s.erase({ fiscalCode: ANNA })())).toBe(true);
    const summary = await deliver(message('a1', 'service:subscribed'))();
    expect(E.isRight(summary) && summary.right).toEqual({ delivered: 0, retried: 0, poisoned: 0, gone: 0, skipped: 1, held: 0 });
    expect(sent).toEqual([]);
    expect(queue.sent).toEqual([]);
    expect(queue.poisoned).toEqual([]);
    expect(s.attemptLog.entries).toEqual([]);
  });

  it("keeps a receiver's echo of the fiscal code out of the attempt log and the retried message", async () => {
    const { s, queue, deliver, message } = await deliverySetup((body) => `bad request: ${body}`);
    await s.at(OLD, subscribed('a1', ANNA));
    await deliver(message('a1', 'service:subscribed'))();
    // The attempt log keeps a typed summary, never the answer's text (docs/delivery.md).
    expect(s.attemptLog.entries.map((e) => (e.result?.kind === 'Response' ? e.result.excerpt : undefined))).toEqual(['']);
    expect(JSON.stringify(s.attemptLog.entries)).not.toContain(ANNA);
    // The retry carries a short excerpt for ops, with the code redacted (its body keeps the payload it delivers).
    const carried = queue.sent.flatMap(({ message: m }) => m.items.flatMap((i) => i.attempts.map((a) => (a.result.kind === 'Response' ? a.result.excerpt : ''))));
    expect(carried).toEqual([expect.stringContaining('bad request: {"name":"service:subscribed","payload":{"fiscalCode":"[fiscal code]"}}')]);
  });

  it('is sent while the event exists (the check reads it), and a ping skips the read', async () => {
    const { s, sent, reads, deliver, message } = await deliverySetup();
    await s.at(OLD, subscribed('a1', ANNA));
    const summary = await deliver(message('a1', 'service:subscribed'))();
    expect(E.isRight(summary) && summary.right.retried).toBe(1);
    expect(sent).toHaveLength(1);
    await deliver(message('p1', 'ping'))();
    expect(reads).toEqual(['a1']);
    expect(sent).toHaveLength(2);
  });
});
