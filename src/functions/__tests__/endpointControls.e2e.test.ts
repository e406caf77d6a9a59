import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { type CloudEvent, HTTP } from 'cloudevents';
import { Webhook as Receiver } from 'standardwebhooks';
import { call as callApi, until } from '../../__tests__/faults/harness';
import { type SpawnedHost, spawnHost } from '../../../local-host/testing/spawnHost';
import { startServer, type TestServer } from '../../adapters/http/__tests__/testServer';

/*
 * Per-endpoint controls end to end (the compiled app in the embedded host, Azurite, receivers on
 * 127.0.0.1): a rate-limited webhook's deliveries are held back through the queue and all arrive,
 * once each and at their first attempt, as CloudEvents the SDK reads and standardwebhooks verifies;
 * maxAttempts poisons a delivery after that many attempts; bad values are 400s naming the field.
 */

const appDir = path.resolve(__dirname, '..', '..', '..');
const INGEST_KEY = 'controls-ingest-key-0123456789-abcdefghijklmnop';
const ADMIN_KEY = 'controls-admin-key-0123456789-abcdefghijklmnop';
const suffix = `${process.pid}${Date.now() % 100000}`;

type Json = Record<string, unknown>;

const header = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
};

describe('per-endpoint controls through the embedded host', () => {
  let host: SpawnedHost;
  const receivers: TestServer[] = [];

  const receiver = async (status: number): Promise<TestServer> => {
    const server = await startServer((_req, res) => {
      res.statusCode = status;
      res.end(status < 300 ? 'ok' : '{"error":"down"}');
    });
    receivers.push(server);
    return server;
  };

  beforeAll(async () => {
    host = await spawnHost({
      appDir,
      env: {
        INGEST_API_KEY: INGEST_KEY,
        ADMIN_API_KEY: ADMIN_KEY,
        WEBHOOKS_TABLE: `ctwebhooks${suffix}`,
        EVENTS_TABLE: `ctevents${suffix}`,
        ATTEMPTS_TABLE: `ctattempts${suffix}`,
        STATS_TABLE: `ctstats${suffix}`,
        RATE_LIMITS_TABLE: `ctrates${suffix}`,
        DELIVERIES_QUEUE: `ct-deliveries-${suffix}`,
        ALLOW_PRIVATE_DESTINATIONS: 'true',
        // 4 retries: 5 attempts at most.
        RETRY_SCHEDULE_SECONDS: '1,1,1,1',
        RETRY_JITTER_RATIO: '0',
        DELIVERY_TIMEOUT_MS: '3000',
        LOCAL_HOST_LOG_LEVEL: 'information',
      },
    });
  });
  afterAll(async () => {
    await host?.stop();
    await Promise.all(receivers.map((r) => r.close()));
  });

  const call = (method: string, route: string, options: { key?: string; body?: unknown } = {}) => callApi(host.baseUrl, method, route, options);
  const createWebhook = async (body: Json): Promise<{ id: string; secret: string }> => {
    const created = await call('POST', 'webhooks', { key: ADMIN_KEY, body });
    expect(created.status).toBe(201);
    return { id: created.body?.id as string, secret: created.body?.secret as string };
  };
  const ping = async (name: string, id: string): Promise<void> => {
    expect((await call('POST', 'events', { key: INGEST_KEY, body: { id, name: 'ping', payload: { name } } })).status).toBe(202);
  };

  it('a limited webhook: deliveries beyond its rate are held back through the queue, then all arrive once, at their first attempt', async () => {
    const limited = await receiver(200);
    const webhook = await createWebhook({ url: limited.url('/limited'), subscriptions: ['ping'], attributes: { name: `rl${suffix}` }, rateLimitPerSecond: 1, format: 'cloudevents' });
    const events = Array.from({ length: 8 }, (_, i) => `rl-${suffix}-${i}`);
    // All at once: at 1 a second, most slots are seconds away.
    await Promise.all(events.map((id) => ping(`rl${suffix}`, id)));
    await until('every delivery to arrive', () => (new Set(limited.requests.map((r) => header(r.headers, 'webhook-id'))).size === events.length ? true : undefined), 90_000);
    // Held back, not dropped: the worker said so, and sent each delivery once.
    const held = host.logs.filter((l) => l.message.startsWith('delivery.message') && /"held":[1-9]/.test(l.message));
    expect(held.length).toBeGreaterThan(0);
    expect(limited.requests).toHaveLength(events.length);
    // Holding back is no attempt: every delivery succeeded at its first.
    for (const id of events) {
      const status = await call('GET', `events/${id}`, { key: ADMIN_KEY });
      const deliveries = status.body?.deliveries as { state: string; attempts: number }[];
      expect(deliveries).toEqual([expect.objectContaining({ state: 'delivered', attempts: 1 })]);
    }
    // A CloudEvents receiver reads every delivery unchanged; the signature verifies over its bytes.
    const verifier = new Receiver(webhook.secret.slice('whsec_'.length));
    for (const r of limited.requests) {
      const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
      const event = HTTP.toEvent({ headers, body: r.body }) as CloudEvent<unknown>;
      expect(event).toMatchObject({ specversion: '1.0', type: 'ping', id: headers['webhook-id'], datacontenttype: 'application/json', data: {} });
      expect(() =>
        verifier.verify(r.body, { 'webhook-id': headers['webhook-id'] ?? '', 'webhook-timestamp': headers['webhook-timestamp'] ?? '', 'webhook-signature': headers['webhook-signature'] ?? '' }),
      ).not.toThrow();
    }
  });

  it('maxAttempts 2: the delivery is poisoned with AttemptsExhausted after two attempts, not five', async () => {
    const down = await receiver(503);
    const webhook = await createWebhook({ url: down.url('/down'), subscriptions: ['ping'], attributes: { name: `ma${suffix}` }, maxAttempts: 2 });
    await ping(`ma${suffix}`, `ma-${suffix}`);
    const entry = await until('the poison entry', async () => {
      const list = await call('GET', 'poison', { key: ADMIN_KEY });
      const items = (list.body?.items ?? []) as { item: { kind: string; entry?: Json } }[];
      return items.map((i) => i.item.entry).find((e) => e?.webhookId === webhook.id);
    });
    expect(entry.reason).toEqual({ kind: 'AttemptsExhausted', attempts: 2 });
    expect(entry.attempts).toHaveLength(2);
    // Poisoned: nothing is left to send, so the receiver saw exactly those two.
    expect(down.requests).toHaveLength(2);
  });

  it('bad controls are 400s naming the field and the allowed values; nothing is stored', async () => {
    const url = 'http://127.0.0.1:9/never';
    const refused = async (extra: Json): Promise<string[]> => {
      const answer = await call('POST', 'webhooks', { key: ADMIN_KEY, body: { url, subscriptions: ['ping'], attributes: { name: `bad${suffix}` }, ...extra } });
      expect(answer.status).toBe(400);
      return (answer.body?.details ?? []) as string[];
    };
    expect(await refused({ rateLimitPerSecond: 0 })).toEqual(['rateLimitPerSecond: must be a rate in whole deliveries per second from 1 to 1000']);
    expect(await refused({ maxAttempts: 6 })).toEqual(["maxAttempts: must be a whole number of attempts from 1 to 5 (the retry schedule's attempts)"]);
    expect(await refused({ format: 'xml' })).toEqual(['format: must be one of pagopa, standard, cloudevents']);
    const list = await call('GET', 'webhooks', { key: ADMIN_KEY });
    expect((list.body?.items as Json[]).filter((w) => (w.attributes as Json).name === `bad${suffix}`)).toEqual([]);
  });
});
