import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { Webhook as Receiver } from 'standardwebhooks';
import { call as callApi } from '../../__tests__/faults/harness';
import { type SpawnedHost, spawnHost } from '../../../local-host/testing/spawnHost';
import { startServer, type TestServer } from '../../adapters/http/__tests__/testServer';
import type { JsonSchema } from '../../openapi/jsonSchema';
import { validate } from '../../openapi/__tests__/schemaValidator';

/*
 * Endpoint health end to end (the compiled app in the embedded host, receivers on 127.0.0.1):
 * auto-disable under short settings with the operational event verified by the standardwebhooks
 * package, 410 and poison events, stats that match what the receivers saw, the event types and
 * the OpenAPI `webhooks` section checked against real deliveries, auth and bad input on each route.
 */

const appDir = path.resolve(__dirname, '..', '..', '..');
const INGEST_KEY = 'health-ingest-key-0123456789-abcdefghijklmnop';
const ADMIN_KEY = 'health-admin-key-0123456789-abcdefghijklmnop';
const OPS_SECRET = 'whsec_b3BzLXNlY3JldC1mb3ItaGVhbHRoLWUyZS10ZXN0cw==';
const suffix = `${process.pid}${Date.now() % 100000}`;

type Json = Record<string, unknown>;
type Answer = { status: number; body: Json | undefined };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const until = async <A>(what: string, probe: () => Promise<A | undefined> | A | undefined, timeoutMs = 45_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
};
const header = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
};

describe('endpoint health through the embedded host', () => {
  let host: SpawnedHost;
  let ops: TestServer;
  const receivers: TestServer[] = [];

  const receiver = async (status: (n: number) => number): Promise<TestServer> => {
    let n = 0;
    const server = await startServer((_req, res) => {
      res.statusCode = status(++n);
      res.end(res.statusCode >= 300 ? '{"error":"down"}' : 'ok');
    });
    receivers.push(server);
    return server;
  };

  beforeAll(async () => {
    ops = await startServer((_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    host = await spawnHost({
      appDir,
      env: {
        INGEST_API_KEY: INGEST_KEY,
        ADMIN_API_KEY: ADMIN_KEY,
        WEBHOOKS_TABLE: `hlwebhooks${suffix}`,
        EVENTS_TABLE: `hlevents${suffix}`,
        ATTEMPTS_TABLE: `hlattempts${suffix}`,
        STATS_TABLE: `hlstats${suffix}`,
        DELIVERIES_QUEUE: `hl-deliveries-${suffix}`,
        ALLOW_PRIVATE_DESTINATIONS: 'true',
        RETRY_SCHEDULE_SECONDS: '1,1,1,1,1',
        RETRY_JITTER_RATIO: '0',
        DELIVERY_TIMEOUT_MS: '2000',
        // Short on purpose: three failed attempts over at least a second disable a webhook.
        AUTO_DISABLE_AFTER_SECONDS: '1',
        AUTO_DISABLE_MIN_FAILURES: '3',
        OPS_WEBHOOK_URL: ops.url('/ops'),
        OPS_WEBHOOK_SECRET: OPS_SECRET,
      },
    });
  });
  afterAll(async () => {
    await host?.stop();
    await Promise.all([ops, ...receivers].map((r) => r?.close()));
  });

  const call = async (method: string, route: string, options: { key?: string; body?: unknown; raw?: string } = {}): Promise<Answer> => {
    const { status, body } = await callApi(host.baseUrl, method, route, options);
    return { status, body };
  };
  const createWebhook = async (key: string, body: Json): Promise<{ id: string; secret: string }> => {
    const created = await call('POST', 'webhooks', { key, body });
    expect(created.status).toBe(201);
    return { id: created.body?.id as string, secret: created.body?.secret as string };
  };
  const ping = async (name: string): Promise<void> => {
    expect((await call('POST', 'events', { key: INGEST_KEY, body: { name: 'ping', payload: { name } } })).status).toBe(202);
  };
  /** The operational events received so far, each verified as a Standard Webhooks receiver does. */
  const opsEvents = (): Json[] =>
    ops.requests.map(
      (r) =>
        new Receiver(OPS_SECRET).verify(r.body, {
          'webhook-id': header(r.headers, 'webhook-id'),
          'webhook-timestamp': header(r.headers, 'webhook-timestamp'),
          'webhook-signature': header(r.headers, 'webhook-signature'),
        }) as Json,
    );
  const opsEvent = (name: string, webhookId: string): Promise<Json> => until(`${name} for ${webhookId}`, () => opsEvents().find((e) => e.name === name && (e.payload as Json).webhookId === webhookId));

  let eventTypes: Json[] = [];
  const schemaOf = (name: string): JsonSchema => {
    const found = eventTypes.find((e) => e.name === name);
    if (found === undefined) throw new Error(`no event type ${name}`);
    return found.schema as JsonSchema;
  };

  it('GET /api/event-types answers without a key: every public and operational body, with a schema and an example that fits it', async () => {
    const answer = await call('GET', 'event-types');
    expect(answer.status).toBe(200);
    eventTypes = answer.body?.items as Json[];
    expect(eventTypes.map((e) => e.name)).toEqual(['ping', 'service:subscribed', 'webhook.test', 'webhook.disabled', 'delivery.exhausted', 'replay.completed']);
    for (const e of eventTypes) expect({ name: e.name, errors: validate({ schema: e.schema as JsonSchema, value: e.example, root: {}, closed: true }) }).toEqual({ name: e.name, errors: [] });
  });

  it('a receiver that fails every attempt is disabled with FailingSince; webhook.disabled arrives signed; re-enabling clears the reason', async () => {
    const dead = await receiver(() => 503);
    const webhook = await createWebhook(ADMIN_KEY, { url: dead.url('/dead'), subscriptions: ['ping'], attributes: { name: `dead${suffix}` } });
    await ping(`dead${suffix}`);
    const event = await opsEvent('webhook.disabled', webhook.id);
    const reason = (event.payload as Json).reason as Json;
    expect(reason).toEqual({ kind: 'FailingSince', since: expect.any(String), failures: expect.any(Number) });
    expect(reason.failures as number).toBeGreaterThanOrEqual(3);
    expect(validate({ schema: schemaOf('webhook.disabled'), value: event, root: {}, closed: true })).toEqual([]);
    const shown = await call('GET', `webhooks/${webhook.id}`, { key: ADMIN_KEY });
    expect(shown.body).toMatchObject({ disabled: true, disabledReason: reason });
    // Disabled: the rest of the schedule is skipped, so the receiver saw exactly the counted failures.
    await sleep(3000);
    expect(dead.requests).toHaveLength(reason.failures as number);
    const enabled = await call('PATCH', `webhooks/${webhook.id}`, { key: ADMIN_KEY, body: { disabled: false } });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ disabled: false });
    expect(enabled.body).not.toHaveProperty('disabledReason');
    expect((await call('GET', `webhooks/${webhook.id}`, { key: ADMIN_KEY })).body).not.toHaveProperty('disabledReason');
  });

  it('410 disables with {"kind": "Gone"}; a refused delivery goes to poison and delivery.exhausted carries the reason, not the payload', async () => {
    const gone = await receiver(() => 410);
    const refusing = await receiver(() => 400);
    const goneHook = await createWebhook(ADMIN_KEY, { url: gone.url('/gone'), subscriptions: ['ping'], attributes: { name: `gone${suffix}` } });
    const refusingHook = await createWebhook(ADMIN_KEY, { url: refusing.url('/no'), subscriptions: ['service:subscribed'], attributes: { serviceId: `svc${suffix}` } });
    await ping(`gone${suffix}`);
    expect((await call('POST', 'events', { key: INGEST_KEY, body: { name: 'service:subscribed', payload: { serviceId: `svc${suffix}`, fiscalCode: 'AAABBB00A00A000B' } } })).status).toBe(202);
    expect((await opsEvent('webhook.disabled', goneHook.id)).payload).toMatchObject({ reason: { kind: 'Gone' } });
    expect((await call('GET', `webhooks/${goneHook.id}`, { key: ADMIN_KEY })).body).toMatchObject({ disabled: true, disabledReason: { kind: 'Gone' } });
    const exhausted = await opsEvent('delivery.exhausted', refusingHook.id);
    expect(exhausted.payload).toMatchObject({ attempts: 1, reason: { kind: 'Rejected', status: 400 } });
    expect(JSON.stringify(exhausted)).not.toContain('AAABBB00A00A000B');
    expect(validate({ schema: schemaOf('delivery.exhausted'), value: exhausted, root: {}, closed: true })).toEqual([]);
  });

  it('stats match what the receivers saw; real deliveries fit the event type and the OpenAPI webhooks section', async () => {
    let n = 0;
    // Every third request fails once: each of those deliveries succeeds on its retry.
    const flaky = await receiver(() => (++n % 3 === 0 ? 500 : 200));
    const webhook = await createWebhook(ADMIN_KEY, { url: flaky.url('/flaky'), subscriptions: ['ping'], attributes: { name: `flaky${suffix}` } });
    for (let i = 0; i < 5; i++) await ping(`flaky${suffix}`);
    // 5 deliveries: each gets a 2xx in the end; the receiver saw the failures in between.
    await until('every delivery to succeed', () => (flaky.requests.length >= 7 ? true : undefined));
    const seenOk = (): number => flaky.requests.length - Math.floor(flaky.requests.length / 3);
    const stats = await until('the stats to count every attempt', async () => {
      const answer = await call('GET', `webhooks/${webhook.id}/stats`, { key: ADMIN_KEY });
      expect(answer.status).toBe(200);
      const b = answer.body as Json;
      return b.delivered === 5 && (b.delivered as number) + (b.failed as number) === flaky.requests.length ? b : undefined;
    });
    expect(stats).toMatchObject({ delivered: seenOk(), failed: flaky.requests.length - seenOk(), retrying: flaky.requests.length - seenOk(), poisoned: 0 });
    expect(stats.successRate).toBeCloseTo(5 / flaky.requests.length);
    expect(typeof stats.p50Ms).toBe('number');
    expect(typeof stats.lastSuccessAt).toBe('string');

    const document = (await call('GET', 'openapi.json')).body as Json;
    const fromDocument = (((((document.webhooks as Json).ping as Json).post as Json).requestBody as Json).content as Json)['application/json'] as Json;
    for (const r of flaky.requests) {
      const body = JSON.parse(r.body) as unknown;
      expect(validate({ schema: schemaOf('ping'), value: body, root: {}, closed: true })).toEqual([]);
      expect(validate({ schema: fromDocument.schema as JsonSchema, value: body, root: document, closed: true })).toEqual([]);
    }
    // The check can fail: a body with another name or an unknown field does not fit.
    expect(validate({ schema: schemaOf('ping'), value: { name: 'pong', payload: {} }, root: {}, closed: true })).not.toEqual([]);
    expect(validate({ schema: schemaOf('ping'), value: { name: 'ping', payload: { extra: 1 } }, root: {}, closed: true })).not.toEqual([]);
  });

  it("stats: the admin and the owning tenant read them; another tenant's webhook is 404 like an unknown id; bad input is a 400 naming it", async () => {
    const grants = { name: [`t${suffix}`] };
    const tenantOf = async (name: string): Promise<string> => {
      const created = await call('POST', 'tenants', { key: ADMIN_KEY, body: { name, routing: grants } });
      expect(created.status).toBe(201);
      return created.body?.apiKey as string;
    };
    const keyA = await tenantOf('health A');
    const keyB = await tenantOf('health B');
    const ok = await receiver(() => 200);
    const webhook = await createWebhook(keyA, { url: ok.url('/a'), subscriptions: ['ping'], attributes: { name: `t${suffix}` } });
    const route = `webhooks/${webhook.id}/stats`;
    expect((await call('GET', route, { key: ADMIN_KEY })).status).toBe(200);
    expect((await call('GET', route, { key: keyA })).body).toMatchObject({ delivered: 0, failed: 0, successRate: null });
    const other = await call('GET', route, { key: keyB });
    const unknown = await call('GET', 'webhooks/01HZZZZZZZZZZZZZZZZZZZZZZZ/stats', { key: keyB });
    expect(other.status).toBe(404);
    expect(other.body?.error).toEqual(unknown.body?.error);
    expect((await call('GET', route)).status).toBe(401);
    expect((await call('GET', route, { key: INGEST_KEY })).status).toBe(401);
    const bad = async (query: string): Promise<Answer> => call('GET', `${route}?${query}`, { key: keyA });
    expect(await bad('since=yesterday')).toMatchObject({ status: 400, body: { details: [expect.stringMatching(/^since: must be an ISO 8601 date-time/)] } });
    expect(await bad('since=2999-01-01T00:00:00Z')).toMatchObject({ status: 400, body: { details: ['since: is in the future'] } });
    expect(await bad('until=2026-01-01T00:00:00Z')).toMatchObject({ status: 400, body: { details: [expect.stringMatching(/^until: is not a known field/)] } });
    expect((await call('GET', 'webhooks/not-an-id/stats', { key: ADMIN_KEY })).status).toBe(404);
    const since = new Date(Date.now() - 3600_000).toISOString();
    expect(await call('GET', `${route}?since=${encodeURIComponent(since)}`, { key: keyA })).toMatchObject({ status: 200, body: { since: `${since.slice(0, 13)}:00:00.000Z` } });
  });

  it("per-tenant alerts: a tenant's webhook subscribed to webhook.disabled and delivery.exhausted hears about its other webhooks, verified with its own secret", async () => {
    const created = await call('POST', 'tenants', { key: ADMIN_KEY, body: { name: 'health C', routing: { name: [`c${suffix}`] } } });
    expect(created.status).toBe(201);
    const key = created.body?.apiKey as string;
    const alertsReceiver = await receiver(() => 200);
    const gone = await receiver(() => 410);
    const alerts = await createWebhook(key, { url: alertsReceiver.url('/alerts'), subscriptions: ['webhook.disabled', 'delivery.exhausted'] });
    const dead = await createWebhook(key, { url: gone.url('/c'), subscriptions: ['ping'], attributes: { name: `c${suffix}` } });
    await ping(`c${suffix}`);
    const alert = await until('the tenant alert', () => alertsReceiver.requests[0]);
    const body = new Receiver(alerts.secret).verify(alert.body, {
      'webhook-id': header(alert.headers, 'webhook-id'),
      'webhook-timestamp': header(alert.headers, 'webhook-timestamp'),
      'webhook-signature': header(alert.headers, 'webhook-signature'),
    });
    expect(body).toEqual({ name: 'webhook.disabled', payload: { webhookId: dead.id, tenantId: created.body?.id, reason: { kind: 'Gone' }, at: expect.any(String) } });
    // The same occurrence reached OPS_WEBHOOK_URL with the same webhook-id.
    const toOps = await until('the ops copy', () => ops.requests.find((r) => header(r.headers, 'webhook-id') === header(alert.headers, 'webhook-id')));
    expect(JSON.parse(toOps.body)).toEqual(body);
    expect(await call('POST', 'webhooks', { key, body: { url: alertsReceiver.url('/x'), subscriptions: ['replay.completed'] } })).toMatchObject({
      status: 400,
      body: { details: [expect.stringMatching(/^subscriptions\.0: must be a public event name/)] },
    });
  });

  it('a replay that finishes sends replay.completed to OPS_WEBHOOK_URL, signed, with its id and count', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const refusing = await receiver(() => 400);
    const webhook = await createWebhook(ADMIN_KEY, { url: refusing.url('/r'), subscriptions: ['ping'], attributes: { name: `r${suffix}` } });
    await ping(`r${suffix}`);
    await opsEvent('delivery.exhausted', webhook.id);
    const started = await call('POST', `webhooks/${webhook.id}/replay`, { key: ADMIN_KEY, body: { since } });
    expect(started.status).toBe(202);
    const done = await opsEvent('replay.completed', webhook.id);
    expect(done.payload).toMatchObject({ replayId: started.body?.id, status: 'Completed', deliveries: 1, since: expect.any(String), only: 'failed' });
    expect(validate({ schema: schemaOf('replay.completed'), value: done, root: {}, closed: true })).toEqual([]);
  });
});
