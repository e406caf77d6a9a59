import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import { expectRight as run } from '../../__tests__/taskEither';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { DEFAULT_RETRY_POLICY } from '../../domain/backoff';
import type { DeliveryMessage } from '../../domain/delivery';
import { transient } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { Webhook } from '../../domain/webhook';
import type { SubscribedPage } from '../../ports/webhookStore';
import { deliverMessage } from '../../usecases/deliverMessage';
import { enqueueFanOutPage } from '../../usecases/enqueueFanOutPage';
import { cachedRegistry } from '../cachedRegistry';
import { memoryAttemptLog } from './memory/memoryAttemptLog';
import { memoryDeliveryQueue } from './memory/memoryDeliveryQueue';
import { memoryEventStore } from './memory/memoryEventStore';
import { memoryWebhookLookup } from './memory/memoryWebhookLookup';
import { memoryWebhookStore } from './memory/memoryWebhookStore';

/*
 * The fan-out's registry cache and its staleness bound: reads within REGISTRY_CACHE_MS share one
 * storage read, this process's writes are seen at once, another instance's once the bound has
 * passed, and a webhook disabled elsewhere receives nothing even while the cache still lists it.
 */

const TTL_MS = 1000;

const setup = (ttlMs = TTL_MS) => {
  /** What storage holds; writes here stand for another instance's (the cache never hears of them). */
  const storage = memoryWebhookStore();
  let reads = 0;
  let time = Date.parse('2026-12-05T10:00:00Z');
  const counted = {
    ...storage,
    pageSubscribedTo: (query: Parameters<typeof storage.pageSubscribedTo>[0]) => {
      reads++;
      return storage.pageSubscribedTo(query);
    },
  };
  const cached = cachedRegistry(counted, { clock: { now: () => new Date(time) }, ttlMs });
  const pingPage = async (name = 'a'): Promise<string[]> => (await run(cached.pageSubscribedTo({ eventName: 'ping', routingValue: name, pageSize: 10 }))).items.map((w) => w.id);
  return { storage, cached, pingPage, reads: () => reads, advance: (ms: number) => void (time += ms) };
};

const named = (name: string, overrides: Partial<Webhook> = {}): Webhook => aWebhook({ subscriptions: ['ping'], attributes: { name }, ...overrides });

describe('cachedRegistry', () => {
  it('reads of the same first page within the bound cost one storage read; another routing value is another page', async () => {
    const s = setup();
    const w = named('a');
    s.storage.rows.set(w.id, w);
    expect(await s.pingPage()).toEqual([w.id]);
    s.advance(TTL_MS - 1);
    expect(await s.pingPage()).toEqual([w.id]);
    expect(s.reads()).toBe(1);
    expect(await s.pingPage('b')).toEqual([]);
    expect(s.reads()).toBe(2);
  });

  it("this process's writes (create, update, delete) are seen by the next fan-out at once", async () => {
    const s = setup();
    expect(await s.pingPage()).toEqual([]);
    const w = named('a');
    await run(s.cached.create(w));
    expect(await s.pingPage()).toEqual([w.id]);
    await run(s.cached.update(w.id, (current) => E.right({ ...current, disabled: true })));
    expect(await s.pingPage()).toEqual([]);
    await run(s.cached.update(w.id, (current) => E.right({ ...current, disabled: false })));
    expect(await s.pingPage()).toEqual([w.id]);
    await run(s.cached.delete(w.id));
    expect(await s.pingPage()).toEqual([]);
  });

  it("another instance's write is seen once the bound has passed, not before", async () => {
    const s = setup();
    expect(await s.pingPage()).toEqual([]);
    const w = named('a');
    s.storage.rows.set(w.id, w);
    s.advance(TTL_MS - 1);
    expect(await s.pingPage()).toEqual([]);
    s.advance(1);
    expect(await s.pingPage()).toEqual([w.id]);
  });

  it('a read that began before a write of this process is answered but not kept', async () => {
    const s = setup();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = cachedRegistry(
      {
        ...s.storage,
        // Storage answers at once (before the write), the answer arrives after it.
        pageSubscribedTo: (q) => async () => {
          const answer = await s.storage.pageSubscribedTo(q)();
          await gate;
          return answer;
        },
      },
      { clock: { now: () => new Date() }, ttlMs: 60_000 },
    );
    const before = slow.pageSubscribedTo({ eventName: 'ping', routingValue: 'a', pageSize: 10 })();
    const w = named('a');
    await run(slow.create(w));
    release();
    await before;
    expect((await run(slow.pageSubscribedTo({ eventName: 'ping', routingValue: 'a', pageSize: 10 }))).items.map((x) => x.id)).toEqual([w.id]);
  });

  it('concurrent misses share one storage read; a failed read is not kept', async () => {
    const s = setup();
    await Promise.all([s.pingPage(), s.pingPage(), s.pingPage()]);
    expect(s.reads()).toBe(1);
    s.advance(TTL_MS);
    s.storage.failWith = transient('storage down');
    const failed = await s.cached.pageSubscribedTo({ eventName: 'ping', routingValue: 'a', pageSize: 10 })();
    expect(E.isLeft(failed)).toBe(true);
    delete s.storage.failWith;
    expect(await s.pingPage()).toEqual([]);
    expect(s.reads()).toBe(3);
  });

  it('tells onWrite after every write (the worker cache drops its webhooks), also after a failed one', async () => {
    const storage = memoryWebhookStore();
    let told = 0;
    const cached = cachedRegistry(storage, { clock: { now: () => new Date() }, ttlMs: TTL_MS, onWrite: () => void told++ });
    const w = named('a');
    await run(cached.create(w));
    await run(cached.update(w.id, (current) => E.right({ ...current, disabled: true })));
    await run(cached.delete(w.id));
    expect(E.isLeft(await cached.delete(w.id)())).toBe(true);
    expect(told).toBe(4);
  });

  it('REGISTRY_CACHE_MS 0 reads storage for every fan-out', async () => {
    const s = setup(0);
    await s.pingPage();
    await s.pingPage();
    expect(s.reads()).toBe(2);
  });

  it('later pages (the orchestration) are never cached', async () => {
    const s = setup();
    for (let i = 0; i < 3; i++) s.storage.rows.set(...((w) => [w.id, w] as const)(named('a')));
    const first: SubscribedPage = await run(s.cached.pageSubscribedTo({ eventName: 'ping', routingValue: 'a', pageSize: 2 }));
    const token = first.continuationToken as string;
    await run(s.cached.pageSubscribedTo({ eventName: 'ping', routingValue: 'a', pageSize: 2, continuationToken: token }));
    await run(s.cached.pageSubscribedTo({ eventName: 'ping', routingValue: 'a', pageSize: 2, continuationToken: token }));
    expect(s.reads()).toBe(3);
  });

  it('a webhook disabled by another instance gets nothing, though the cached page still lists it: the worker reads it before sending', async () => {
    const s = setup();
    const w = named('a');
    s.storage.rows.set(w.id, w);
    const eventId = '01J0000000000000000000EVNT' as EventId;
    const queue = memoryDeliveryQueue();
    const fanOut = enqueueFanOutPage({ events: memoryEventStore(), webhooks: s.cached, queue, pageSize: 10, maxDeliveriesPerMessage: 50, grantsOf: () => TE.right(undefined) });
    const known = { id: eventId, name: 'ping' as const, payload: { name: 'a' }, receivedAt: new Date().toISOString(), status: 'accepted' as const };
    await run(fanOut({ eventId, planIndex: 0 }, known));
    // Disabled elsewhere, within the bound: the next event is still planned for it from the cache...
    s.storage.rows.set(w.id, { ...w, disabled: true });
    await run(fanOut({ eventId: 'second' as EventId, planIndex: 0 }, { ...known, id: 'second' as EventId }));
    const messages = queue.sent.map((m) => m.message);
    expect(messages.map((m) => m.eventId)).toEqual([eventId, 'second']);
    // ...and the worker, which reads the webhook itself, sends nothing.
    const sent: string[] = [];
    const deliver = deliverMessage({
      lookup: memoryWebhookLookup(s.storage),
      webhooks: s.storage,
      sender: { send: (request) => async () => (sent.push(request.url), { kind: 'Response', status: 204, latencyMs: 1, excerpt: '', bodyRead: 'Complete' }) },
      queue,
      attemptLog: memoryAttemptLog(),
      clock: { now: () => new Date() },
      policy: DEFAULT_RETRY_POLICY,
      warn: () => undefined,
    });
    const summary = await run(deliver(messages[1] as DeliveryMessage));
    expect(summary).toMatchObject({ delivered: 0, skipped: 1 });
    expect(sent).toEqual([]);
  });
});
