import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningAzurite } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import { appSettings, createWebhook, eventStatus, type EventView, ingest, ownAzurite, startApp, waitUntil } from './harness';

/*
 * Endpoint isolation against a running host (docs/delivery.md, "Endpoint isolation"): one webhook
 * URL that hangs shares its origin (host:port) with healthy webhooks. It may hold at most
 * MAX_INFLIGHT_REQUESTS_PER_ENDPOINT of the origin's MAX_CONNECTIONS_PER_ORIGIN sockets, so the
 * healthy webhooks get every delivery while its requests are still held; its other deliveries are
 * held back through the queue, not counted as attempts, and delivered once it answers. Asserted on
 * order and completion (deadlines only bound the wait), with the breaker off and attempts that
 * cannot time out during the test.
 */

const EVENTS = 6;
const HEALTHY = ['fine0', 'fine1', 'fine2'];
const CONNECTIONS = 4;
const BOUND = 2;

/** One origin: `/hang/*` holds each request until release(); everything else answers 204 at once. */
const startOrigin = async () => {
  const held = new Set<http.ServerResponse>();
  const received = new Map<string, Set<string>>();
  let hangingRequests = 0;
  let hanging = true;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const [, kind, name = ''] = (req.url ?? '').split('/');
      if (kind === 'hang') {
        hangingRequests += 1;
        if (hanging) {
          held.add(res);
          res.on('close', () => held.delete(res));
          return;
        }
      }
      received.set(name, new Set([...(received.get(name) ?? []), String(req.headers['webhook-id'])]));
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (kind: 'hang' | 'ok', name: string) => `${base}/${kind}/${name}`,
    received: (name: string) => received.get(name)?.size ?? 0,
    held: () => held.size,
    hangingRequests: () => hangingRequests,
    release: () => {
      hanging = false;
      for (const res of held) {
        received.set('slow', new Set([...(received.get('slow') ?? []), String(res.req.headers['webhook-id'])]));
        res.writeHead(204).end();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

describe('faults: a hanging endpoint on the healthy webhooks’ origin', () => {
  let azurite: RunningAzurite;
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let host: SpawnedHost;

  beforeAll(async () => {
    azurite = await ownAzurite();
    origin = await startOrigin();
  });
  afterAll(async () => {
    await host?.stop('SIGKILL');
    await origin?.close();
    await azurite?.stop();
  });

  it('delivers to the healthy webhooks while the hanging one holds only its share of the sockets, and holds the rest back without an attempt', async () => {
    host = await startApp(
      appSettings({
        storage: azurite.connectionString,
        tag: 'sameorigin',
        extra: {
          MAX_CONNECTIONS_PER_ORIGIN: String(CONNECTIONS),
          MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: String(BOUND),
          // No attempt ends during the test, and no pause: only the bound keeps the sockets free.
          DELIVERY_TIMEOUT_MS: '120000',
          CIRCUIT_BREAKER_TIMEOUTS: '0',
          // A failed attempt would retry an hour later: every delivery below is a first attempt.
          RETRY_SCHEDULE_SECONDS: '3600',
          LOCAL_HOST_QUEUE_LEASE_SECONDS: '600',
        },
      }),
    );
    const baseUrl = host.baseUrl;
    const slowId = await createWebhook(baseUrl, { url: origin.url('hang', 'slow'), name: 'slow' });
    for (const name of HEALTHY) await createWebhook(baseUrl, { url: origin.url('ok', name), name });

    // Each ping:all is one message: a delivery to the hanging endpoint beside one to each healthy webhook.
    const ids = Array.from({ length: EVENTS }, (_, i) => `same-origin-${i}`);
    for (const id of ids) expect((await ingest(baseUrl, { id, name: 'ping:all' })).status).toBe(202);

    await waitUntil('every healthy delivery', () => HEALTHY.every((name) => origin.received(name) === EVENTS), {
      timeoutMs: 60_000,
      state: () => ({ healthy: HEALTHY.map(origin.received), held: origin.held() }),
    });
    // Some of its deliveries went back to the queue (held back), not only waited for a slot ...
    await host.waitForLog((line) => line.message.startsWith('delivery.message') && /"held":[1-9]/.test(line.message), 60_000);
    // ... while its requests are still held, never more than its bound.
    expect(origin.held()).toBe(BOUND);
    expect(origin.hangingRequests()).toBe(BOUND);

    // It answers now: the held-back deliveries come back from the queue and arrive, none lost.
    origin.release();
    await waitUntil('every delivery to the endpoint that hung', () => origin.received('slow') === EVENTS, { timeoutMs: 60_000, state: () => origin.received('slow') });

    // Held back is not an attempt: each of its deliveries was delivered at its first attempt.
    let views: (EventView | undefined)[] = [];
    await waitUntil(
      'every delivery recorded as delivered',
      async () => {
        views = await Promise.all(ids.map((id) => eventStatus(baseUrl, id)));
        return views.every((v) => v?.deliveries.length === HEALTHY.length + 1 && v.deliveries.every((d) => d.state === 'delivered'));
      },
      { timeoutMs: 30_000, state: () => views },
    );
    const slowAttempts = views.map((v) => (v?.deliveries.find((d) => d.webhookId === slowId) as { attempts?: number } | undefined)?.attempts);
    expect(slowAttempts).toEqual(ids.map(() => 1));
    expect(origin.hangingRequests()).toBe(EVENTS);
  }, 180_000);
});
