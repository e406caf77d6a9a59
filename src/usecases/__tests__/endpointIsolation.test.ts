import * as E from 'fp-ts/Either';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { memoryAttemptLog } from '../../adapters/__tests__/memory/memoryAttemptLog';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryWebhookLookup } from '../../adapters/__tests__/memory/memoryWebhookLookup';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { type ClosableHttpSender, createUndiciHttpSender } from '../../adapters/http/undiciHttpSender';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { type DeliveryItem, type DeliveryMessage, deliveryIdFor } from '../../domain/delivery';
import { notFound } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { AttemptResult } from '../../domain/outcome';
import type { StoredEvent } from '../../ports/eventStore';
import type { OutgoingRequest } from '../../ports/httpSender';
import type { Webhook } from '../../domain/webhook';
import { type DeliverDeps, deliverMessage, type DeliverySummary } from '../deliverMessage';
import { endpointOf, endpointSlots, HOLD_BUSY_ENDPOINT_SECONDS } from '../endpointSlots';

/*
 * Endpoint isolation (docs/delivery.md): one webhook URL that hangs must not take the sockets its
 * origin shares with healthy webhooks. The sender here is the product's undici sender with its
 * per-origin pool, against a loopback server that holds one path's requests until the test lets
 * them go; what is asserted is order and completion, never a duration.
 */

const EVENT_ID = '01J0000000000000000000ISOL' as EventId;

describe('endpointSlots', () => {
  it('admits up to the bound, passes a freed slot to the longest waiter, and answers Busy when none frees in time', async () => {
    const slots = endpointSlots({ perEndpoint: 2, waitMs: 60_000 });
    const a = await slots.acquire('https://r.example/a')();
    const b = await slots.acquire('https://r.example/a')();
    expect([a.kind, b.kind]).toEqual(['Admitted', 'Admitted']);
    // Another endpoint of the same origin is not affected.
    const other = await slots.acquire('https://r.example/b')();
    expect(other.kind).toBe('Admitted');

    const order: string[] = [];
    const first = slots
      .acquire('https://r.example/a')()
      .then((s) => (order.push('first'), s));
    const second = slots
      .acquire('https://r.example/a')()
      .then((s) => (order.push('second'), s));
    expect(slots.inFlight('https://r.example/a')).toBe(2);
    if (a.kind === 'Admitted') a.release();
    const firstAdmission = await first;
    expect(firstAdmission).toMatchObject({ kind: 'Admitted' });
    expect(order).toEqual(['first']);
    // A second release of the same slot frees nothing more.
    if (a.kind === 'Admitted') a.release();
    expect(order).toEqual(['first']);
    if (b.kind === 'Admitted') b.release();
    expect(await second).toMatchObject({ kind: 'Admitted' });
    expect(order).toEqual(['first', 'second']);
    expect(slots.inFlight('https://r.example/a')).toBe(2);

    const busy = endpointSlots({ perEndpoint: 1, waitMs: 0 });
    const held = await busy.acquire('https://r.example/a')();
    expect((await busy.acquire('https://r.example/a')()).kind).toBe('Busy');
    if (held.kind === 'Admitted') held.release();
    expect(busy.inFlight('https://r.example/a')).toBe(0);
    expect((await busy.acquire('https://r.example/a')()).kind).toBe('Admitted');
  });

  it('keeps the waiters of an endpoint whose requests are young (queued behind sockets), and answers Busy only once one is slowMs old', async () => {
    let clock = 0;
    const slots = endpointSlots({ perEndpoint: 1, waitMs: 5, slowMs: 1000, now: () => clock });
    const busyButFast = await slots.acquire('https://r.example/a')();
    const waiting = slots.acquire('https://r.example/a')();
    // Well past waitMs by the wall clock, while the request in flight is still young by the endpoint's clock.
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (busyButFast.kind === 'Admitted') busyButFast.release();
    const admitted = await waiting;
    expect(admitted.kind).toBe('Admitted');

    // The request in flight turns slow: the next waiter goes back to the queue.
    clock = 5000;
    expect((await slots.acquire('https://r.example/a')()).kind).toBe('Busy');
    if (admitted.kind === 'Admitted') admitted.release();
    expect(slots.inFlight('https://r.example/a')).toBe(0);
  });

  it('keys an endpoint by its URL spelled one way', () => {
    expect(endpointOf('HTTPS://R.example:443/a')).toBe(endpointOf('https://r.example/a'));
    expect(endpointOf('https://r.example/a')).not.toBe(endpointOf('https://r.example/b'));
  });
});

/** One origin: `/hang/*` is held until release(), anything else answers 204 at once. */
const startOrigin = async () => {
  const held = new Set<http.ServerResponse>();
  const healthy: string[] = [];
  const hangingSeen: string[] = [];
  let hanging = true;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      if ((req.url ?? '').startsWith('/hang/')) {
        hangingSeen.push(id);
        if (hanging) {
          held.add(res);
          res.on('close', () => held.delete(res));
          return;
        }
      } else healthy.push(id);
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  let connections = 0;
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    connections: () => connections,
    healthy,
    hangingSeen,
    held: () => held.size,
    release: () => {
      hanging = false;
      for (const res of held) res.writeHead(204).end();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

type Origin = Awaited<ReturnType<typeof startOrigin>>;

/** Resolves once `check` holds; rejects naming `what` if it never does (a deadline, not a measurement). */
const eventually = async (what: string, check: () => boolean, deadlineMs = 20_000): Promise<void> => {
  const until = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

const CONNECTIONS = 4;
const BOUND = 2;
const HANGING = 6;
const HEALTHY = 8;

describe('deliverMessage: a hanging endpoint and healthy endpoints on one origin', () => {
  let origin: Origin;
  let sender: ClosableHttpSender;

  beforeEach(async () => {
    origin = await startOrigin();
    // The product's sender: one pool of CONNECTIONS sockets for the origin; no attempt times out during the test.
    sender = createUndiciHttpSender({ timeoutMs: 60_000, maxResponseBytes: 1024, maxConnectionsPerOrigin: CONNECTIONS, allowPrivateDestinations: true });
  });
  afterEach(async () => {
    origin.release();
    await sender.close();
    await origin.close();
  });

  const setup = () => {
    const store = memoryWebhookStore();
    const queue = memoryDeliveryQueue();
    const attemptLog = memoryAttemptLog();
    const add = (url: string): Webhook => {
      const webhook = aWebhook({ url: url as Webhook['url'] });
      store.rows.set(webhook.id, webhook);
      return webhook;
    };
    const itemFor = (webhook: Webhook): DeliveryItem => ({
      deliveryId: deliveryIdFor({ eventId: EVENT_ID, publicEventName: 'ping', webhookId: webhook.id }),
      webhookId: webhook.id,
      body: { name: 'ping', payload: {} },
      attempts: [],
    });
    // Several webhooks of one owner share the hanging URL (one endpoint); the healthy ones each have their own path.
    const hangingHooks = Array.from({ length: HANGING }, () => add(`${origin.base}/hang/endpoint`));
    const healthyHooks = Array.from({ length: HEALTHY }, (_, i) => add(`${origin.base}/ok/${i}`));
    // The hanging endpoint's deliveries go first (an earlier message): without a bound they take every socket of the origin.
    const hangingMessage: DeliveryMessage = { v: 1, eventId: EVENT_ID, items: hangingHooks.map(itemFor) };
    const healthyMessage: DeliveryMessage = { v: 1, eventId: EVENT_ID, items: healthyHooks.map(itemFor) };
    /** `waitMs`: how long a delivery over the bound may wait for a slot; undefined = no bound at all. */
    const deps = (waitMs: number | undefined): DeliverDeps => ({
      lookup: memoryWebhookLookup(store),
      webhooks: store,
      sender,
      queue,
      attemptLog,
      clock: { now: () => new Date() },
      policy: { scheduleSeconds: [5, 300], jitterRatio: 0 },
      warn: () => undefined,
      ...(waitMs === undefined ? {} : { endpointSlots: endpointSlots({ perEndpoint: BOUND, waitMs }) }),
    });
    return { queue, attemptLog, hangingMessage, healthyMessage, deps, add, itemFor };
  };

  it('delivers every healthy webhook while the hanging endpoint still holds its requests, and holds back the rest without an attempt', async () => {
    const s = setup();
    const hangingRun: Promise<E.Either<unknown, DeliverySummary>> = deliverMessage(s.deps(0))(s.hangingMessage)();
    // Once one has arrived, every request of that message has been handed to the sender.
    await eventually('the hanging endpoint receives its first request', () => origin.hangingSeen.length > 0);
    const healthyRun = deliverMessage(s.deps(0))(s.healthyMessage)();

    await eventually('every healthy delivery arrives', () => origin.healthy.length === HEALTHY);
    // ... while the hanging endpoint's requests are still held: it never had more than its bound.
    expect(origin.held()).toBe(BOUND);
    expect(origin.hangingSeen).toHaveLength(BOUND);
    expect(await healthyRun).toEqual(E.right({ delivered: HEALTHY, retried: 0, poisoned: 0, gone: 0, skipped: 0, held: 0 }));

    origin.release();
    expect(await hangingRun).toEqual(E.right({ delivered: BOUND, retried: 0, poisoned: 0, gone: 0, skipped: 0, held: HANGING - BOUND }));

    // Held back: back in the queue as they were (no attempt carried), a few seconds later, and not in the attempt log.
    expect(s.queue.sent).toHaveLength(1);
    const back = s.queue.sent[0];
    expect(back?.delaySeconds).toBe(HOLD_BUSY_ENDPOINT_SECONDS);
    const heldItems = back?.message.items ?? [];
    expect(heldItems).toHaveLength(HANGING - BOUND);
    for (const item of heldItems) expect(item.attempts).toEqual([]);
    const logged = new Set(s.attemptLog.entries.map((e) => e.deliveryId));
    expect(logged.size).toBe(BOUND + HEALTHY);
    for (const item of heldItems) expect(logged.has(item.deliveryId)).toBe(false);

    // Not lost: when the held message comes back, each delivery makes its first attempt (here they
    // may wait for a slot as long as it takes: the endpoint answers now).
    const again = await deliverMessage(s.deps(60_000))(back?.message as DeliveryMessage)();
    expect(again).toEqual(E.right({ delivered: HANGING - BOUND, retried: 0, poisoned: 0, gone: 0, skipped: 0, held: 0 }));
    const firstTries = s.attemptLog.entries.filter((e) => heldItems.some((i) => i.deliveryId === e.deliveryId));
    expect(firstTries.map((e) => [e.attempt, e.decision])).toEqual(heldItems.map(() => [1, 'Delivered']));
    expect(new Set(origin.hangingSeen)).toEqual(new Set(s.hangingMessage.items.map((i) => i.deliveryId)));
  }, 30_000);
  it('keeps one pool for many webhooks of one healthy origin: every delivery sent at once over the shared sockets, none held', async () => {
    const s = setup();
    const many = Array.from({ length: 50 }, (_, i) => s.add(`${origin.base}/ok/many-${i}`));
    const summary = await deliverMessage(s.deps(0))({ v: 1, eventId: EVENT_ID, items: many.map(s.itemFor) })();
    expect(summary).toEqual(E.right({ delivered: 50, retried: 0, poisoned: 0, gone: 0, skipped: 0, held: 0 }));
    expect(origin.healthy).toHaveLength(50);
    // Connection reuse: the origin's pool, not a pool per URL.
    expect(origin.connections()).toBeLessThanOrEqual(CONNECTIONS);
  });
});

describe('deliverMessage: a delivery that waited for its endpoint slot', () => {
  it('checks its event again before sending: an event erased while it waited is skipped, not sent', async () => {
    const store = memoryWebhookStore();
    // Two webhooks, one URL: one endpoint, one slot.
    const hooks = [aWebhook({ url: 'https://receiver.example/shared' as Webhook['url'] }), aWebhook({ url: 'https://receiver.example/shared' as Webhook['url'] })];
    for (const w of hooks) store.rows.set(w.id, w);
    const event: StoredEvent = { id: EVENT_ID, name: 'service:subscribed', payload: { serviceId: 's1', fiscalCode: 'AAABBB00A00A000B' }, receivedAt: new Date().toISOString(), status: 'dispatched' };
    let erased = false;
    const requests: OutgoingRequest[] = [];
    let answerFirst: (r: AttemptResult) => void = () => undefined;
    const deps: DeliverDeps = {
      lookup: memoryWebhookLookup(store),
      webhooks: store,
      sender: {
        // The first request waits for the test; any later one is answered at once.
        send: (request) => () => {
          requests.push(request);
          return requests.length === 1
            ? new Promise<AttemptResult>((resolve) => (answerFirst = resolve))
            : Promise.resolve<AttemptResult>({ kind: 'Response', status: 204, latencyMs: 1, excerpt: '', bodyRead: 'Complete' });
        },
      },
      queue: memoryDeliveryQueue(),
      attemptLog: memoryAttemptLog(),
      clock: { now: () => new Date() },
      policy: { scheduleSeconds: [5], jitterRatio: 0 },
      warn: () => undefined,
      events: { get: () => async () => (erased ? E.left(notFound('No event')) : E.right(event)) },
      endpointSlots: endpointSlots({ perEndpoint: 1, waitMs: 60_000 }),
    };
    const items: DeliveryItem[] = hooks.map((w) => ({
      deliveryId: deliveryIdFor({ eventId: EVENT_ID, publicEventName: 'service:subscribed', webhookId: w.id }),
      webhookId: w.id,
      body: { name: 'service:subscribed', payload: { fiscalCode: 'AAABBB00A00A000B' } },
      attempts: [],
    }));
    const running = deliverMessage(deps)({ v: 1, eventId: EVENT_ID, items })();
    await eventually('the first request is out', () => requests.length === 1);
    // The erasure lands while the second delivery waits for the endpoint's one slot.
    erased = true;
    answerFirst({ kind: 'Response', status: 204, latencyMs: 1, excerpt: '', bodyRead: 'Complete' });
    expect(await running).toEqual(E.right({ delivered: 1, retried: 0, poisoned: 0, gone: 0, skipped: 1, held: 0 }));
    expect(requests).toHaveLength(1);
  });
});
