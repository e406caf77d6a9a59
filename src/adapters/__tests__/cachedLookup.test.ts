import * as E from 'fp-ts/Either';
import { expectRight as run } from '../../__tests__/taskEither';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { DEFAULT_RETRY_POLICY } from '../../domain/backoff';
import { deliveryIdFor, type DeliveryMessage, type LookupHint } from '../../domain/delivery';
import type { EventId } from '../../domain/events';
import type { Webhook } from '../../domain/webhook';
import type { WebhookLookup } from '../../ports/webhookLookup';
import { deliverMessage } from '../../usecases/deliverMessage';
import { cachedLookup } from '../cachedLookup';
import { memoryAttemptLog } from './memory/memoryAttemptLog';
import { memoryDeliveryQueue } from './memory/memoryDeliveryQueue';
import { memoryWebhookLookup } from './memory/memoryWebhookLookup';
import { memoryWebhookStore } from './memory/memoryWebhookStore';

/*
 * The worker's webhook cache and its staleness bound (REGISTRY_CACHE_MS): a message whose webhooks
 * were read within the bound reads nothing, this process's writes drop the cache at once, another
 * instance's are seen once the bound has passed (a disabled webhook receives nothing from then on).
 */

const TTL_MS = 1000;

const setup = (ttlMs = TTL_MS) => {
  const storage = memoryWebhookStore();
  let reads = 0;
  let time = Date.parse('2026-12-05T10:00:00Z');
  const underlying = memoryWebhookLookup(storage);
  const counted: WebhookLookup = (ids, range) => {
    reads++;
    return underlying(ids, range);
  };
  const lookup = cachedLookup(counted, {
    clock: { now: () => new Date(time) },
    ttlMs,
  });
  const add = (overrides: Partial<Webhook> = {}): Webhook => {
    const w = aWebhook({ subscriptions: ['ping'], attributes: { name: 'a' }, ...overrides });
    storage.rows.set(w.id, w);
    return w;
  };
  return { storage, lookup, add, reads: () => reads, advance: (ms: number) => void (time += ms), now: () => new Date(time) };
};

describe('cachedLookup', () => {
  it('a message whose webhooks were read within the bound reads nothing; past the bound it reads again', async () => {
    const s = setup();
    const w = s.add();
    await run(s.lookup([w.id]));
    s.advance(TTL_MS - 1);
    expect((await run(s.lookup([w.id]))).get(w.id)?.url).toBe(w.url);
    expect(s.reads()).toBe(1);
    s.advance(1);
    await run(s.lookup([w.id]));
    expect(s.reads()).toBe(2);
  });

  it("this process's writes (invalidate) are seen at once, and a read begun before one is not kept", async () => {
    const s = setup();
    const w = s.add();
    await run(s.lookup([w.id]));
    s.storage.rows.set(w.id, { ...w, url: 'https://changed.example/hook' as Webhook['url'] });
    s.lookup.invalidate();
    expect((await run(s.lookup([w.id]))).get(w.id)?.url).toBe('https://changed.example/hook');

    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = cachedLookup(
      (ids) => async () => {
        const answer = await memoryWebhookLookup(s.storage)(ids)();
        await gate;
        return answer;
      },
      { clock: { now: () => new Date() }, ttlMs: 60_000 },
    );
    const before = slow([w.id])();
    s.storage.rows.set(w.id, { ...w, url: 'https://newest.example/hook' as Webhook['url'] });
    slow.invalidate();
    release();
    await before;
    expect((await run(slow([w.id]))).get(w.id)?.url).toBe('https://newest.example/hook');
  });

  it('a webhook disabled by another instance receives until the bound has passed, and nothing after', async () => {
    const s = setup();
    const w = s.add();
    const sent: string[] = [];
    const deliver = deliverMessage({
      lookup: s.lookup,
      webhooks: s.storage,
      sender: { send: (request) => async () => (sent.push(request.url), { kind: 'Response', status: 204, latencyMs: 1, excerpt: '', bodyRead: 'Complete' }) },
      queue: memoryDeliveryQueue(),
      attemptLog: memoryAttemptLog(),
      clock: { now: s.now },
      policy: DEFAULT_RETRY_POLICY,
      warn: () => undefined,
    });
    const message = (n: number): DeliveryMessage => {
      const eventId = `01J00000000000000000000EV${n}` as EventId;
      return { v: 1, eventId, items: [{ deliveryId: deliveryIdFor({ eventId, publicEventName: 'ping', webhookId: w.id }), webhookId: w.id, body: { name: 'ping', payload: {} }, attempts: [] }] };
    };
    expect(await run(deliver(message(1)))).toMatchObject({ delivered: 1 });
    // Disabled elsewhere (straight in storage: this process's cache is not told).
    s.storage.rows.set(w.id, { ...w, disabled: true });
    s.advance(TTL_MS - 1);
    expect(await run(deliver(message(2)))).toMatchObject({ delivered: 1 });
    s.advance(1);
    expect(await run(deliver(message(3)))).toMatchObject({ delivered: 0, skipped: 1 });
    expect(sent).toHaveLength(2);
  });

  describe("a fan-out page's messages (one hint for the page)", () => {
    const PAGE = 'page-hint' as LookupHint;
    /** A store lookup that, given a hint, answers the whole page (as the table lookup does), held until released. */
    const pageReads = (s: ReturnType<typeof setup>) => {
      let reads = 0;
      let release: () => void = () => undefined;
      let gate = Promise.resolve();
      const lookup: WebhookLookup = (ids, hint) => async () => {
        reads++;
        await gate;
        const found = new Map<string, Webhook>();
        for (const [id, webhook] of s.storage.rows) if (hint === PAGE || ids.includes(id)) found.set(id, webhook);
        return E.right(found);
      };
      const hold = (): void => void (gate = new Promise<void>((r) => (release = r)));
      return { lookup, reads: () => reads, hold, release: () => release() };
    };

    it('read the page once: those arriving during the read wait for it, and later ones within the bound read nothing', async () => {
      const s = setup();
      const [w0, w1, w2, w3] = [s.add(), s.add(), s.add(), s.add()] as const;
      const page = pageReads(s);
      const lookup = cachedLookup(page.lookup, { clock: { now: s.now }, ttlMs: TTL_MS });
      page.hold();
      const first = lookup([w0.id, w1.id], PAGE)();
      const second = lookup([w2.id], PAGE)();
      page.release();
      const [a, b] = await Promise.all([first, second]);
      expect(E.isRight(a) && a.right.get(w1.id)?.url).toBe(w1.url);
      expect(E.isRight(b) && b.right.get(w2.id)?.url).toBe(w2.url);
      expect(await run(lookup([w3.id], PAGE))).toEqual(expect.any(Map));
      expect(page.reads()).toBe(1);
      s.advance(TTL_MS);
      await run(lookup([w3.id], PAGE));
      expect(page.reads()).toBe(2);
    });

    it('a read that outlasts the bound is not used by those that waited for it, nor one begun before a write of this process', async () => {
      const s = setup();
      const w = s.add();
      const page = pageReads(s);
      const lookup = cachedLookup(page.lookup, { clock: { now: s.now }, ttlMs: TTL_MS });
      page.hold();
      const first = lookup([w.id], PAGE)();
      const waiting = lookup([w.id], PAGE)();
      // Disabled elsewhere while the read is in flight, and the read takes the whole bound.
      s.storage.rows.set(w.id, { ...w, disabled: true });
      s.advance(TTL_MS);
      page.release();
      await first;
      expect((await run(() => waiting)).get(w.id)?.disabled).toBe(true);
      expect(page.reads()).toBe(2);

      page.hold();
      const before = lookup([w.id], PAGE)();
      s.storage.rows.set(w.id, { ...w, disabled: false });
      lookup.invalidate();
      const after = lookup([w.id], PAGE)();
      page.release();
      await before;
      expect((await run(() => after)).get(w.id)?.disabled).toBe(false);
      expect(page.reads()).toBe(4);
    });
  });

  it('REGISTRY_CACHE_MS 0 reads storage for every message', async () => {
    const s = setup(0);
    const w = s.add();
    await run(s.lookup([w.id]));
    await run(s.lookup([w.id]));
    expect(s.reads()).toBe(2);
    expect(E.isRight(await s.lookup([w.id])())).toBe(true);
  });
});
