import { TableClient } from '@azure/data-tables';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { call as callApi, readBody, until } from '../../__tests__/faults/harness';
import { type SpawnedHost, spawnHost, storageConnectionString } from '../../../local-host/testing/spawnHost';

/*
 * Routing grants and endpoint verification through the embedded host (docs/tenants.md): the
 * two-tenant leak of issue 14 (tenant A registering tenant B's serviceId received B's citizens'
 * fiscal codes), grants revoked mid-stream (through the API, and behind this host's back as another
 * instance would, then after TENANT_GRANTS_CACHE_SECONDS), the initialisation of a tenant stored
 * before grants, bad input on the new routes, and the three ways a tenant skipped verification.
 */

const appDir = path.resolve(__dirname, '..', '..', '..');
const INGEST_KEY = 'grants-ingest-key-0123456789abcdefghijkl';
const ADMIN_KEY = 'grants-admin-key-0123456789abcdefghijklm';
const FISCAL_CODE = 'AAABBB00A00A000B';
const CACHE_SECONDS = 1;
const suffix = `${process.pid}${Date.now() % 100000}`;
const settings = {
  INGEST_API_KEY: INGEST_KEY,
  ADMIN_API_KEY: ADMIN_KEY,
  WEBHOOKS_TABLE: `grwebhooks${suffix}`,
  EVENTS_TABLE: `grevents${suffix}`,
  ATTEMPTS_TABLE: `grattempts${suffix}`,
  DELIVERIES_QUEUE: `gr-deliveries-${suffix}`,
  ALLOW_PRIVATE_DESTINATIONS: 'true',
  VERIFY_ENDPOINTS_DEFAULT: 'true',
  TENANT_GRANTS_CACHE_SECONDS: String(CACHE_SECONDS),
};

type Json = Record<string, unknown>;
type Answer = { status: number; body: Json | undefined };
type Received = { method: string; path: string; url: string; body: string };

describe('routing grants and endpoint verification through the embedded host', () => {
  let host: SpawnedHost;
  let receiver: Server;
  let base: string;
  const received: Received[] = [];

  beforeAll(async () => {
    receiver = createServer(async (req, res) => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://x');
      received.push({ method: req.method ?? '', path: url.pathname, url: req.url ?? '', body });
      // WebSub intent checks are confirmed everywhere; endpoint challenges everywhere but under /silent.
      if (req.method === 'GET' && url.searchParams.has('hub.challenge')) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(url.searchParams.get('hub.challenge') ?? '');
        return;
      }
      const parsed = body === '' ? undefined : (JSON.parse(body) as { name?: string; payload?: { challenge?: string } });
      if (parsed?.name === 'webhook:verification' && !url.pathname.startsWith('/silent')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ challenge: parsed.payload?.challenge }));
        return;
      }
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    host = await spawnHost({ appDir, env: settings });
  });
  afterAll(async () => {
    await host?.stop();
    await new Promise((r) => receiver.close(r));
  });

  const call = async (method: string, route: string, options: { key?: string; body?: unknown; raw?: string } = {}): Promise<Answer> => {
    const { status, body } = await callApi(host.baseUrl, method, route, options);
    return { status, body };
  };
  const newTenant = async (body: Json): Promise<{ id: string; key: string }> => {
    const created = await call('POST', 'tenants', { key: ADMIN_KEY, body });
    expect(created.status).toBe(201);
    return { id: created.body?.id as string, key: created.body?.apiKey as string };
  };
  const newWebhook = async (key: string, body: Json): Promise<Json> => {
    const created = await call('POST', 'webhooks', { key, body });
    expect(created.status).toBe(201);
    return created.body as Json;
  };
  const subscribe = (key: string, form: Record<string, string>): Promise<Response> =>
    fetch(`${host.baseUrl}/api/websub`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  /** Posts an event and waits until every delivery it planned was delivered; answers the webhook ids it was delivered to. */
  const deliveredToAll = async (event: { name: string; payload?: Json }): Promise<string[]> => {
    const posted = await call('POST', 'events', { key: INGEST_KEY, body: event });
    expect(posted.status).toBe(202);
    const view = await until(`event ${event.name} to be delivered`, async () => {
      const v = (await call('GET', `events/${posted.body?.id as string}`, { key: ADMIN_KEY })).body as Json;
      const dispatch = v?.dispatch as Json | undefined;
      const summary = v?.summary as Json | undefined;
      return dispatch?.status === 'Completed' && summary?.delivered === dispatch.deliveries ? v : undefined;
    });
    return (view.deliveries as Json[]).map((d) => d.webhookId as string).sort();
  };
  /** The deliveries (not verification challenges) a receiver path got. */
  const deliveriesAt = (p: string): Json[] =>
    received
      .filter((r) => r.method === 'POST' && r.path === p)
      .map((r) => JSON.parse(r.body) as Json)
      .filter((b) => b.name !== 'webhook:verification');
  const tenantRows = (): TableClient => TableClient.fromConnectionString(storageConnectionString(), settings.WEBHOOKS_TABLE, { allowInsecureConnection: true });
  /** Rewrites a tenant row's grants the way another instance (or a row from before grants) would leave it. */
  const rewriteRouting = async (tenantId: string, routing: Json | undefined): Promise<void> => {
    const client = tenantRows();
    const row = await client.getEntity<Record<string, unknown>>('tenants', `tenant|${tenantId}`);
    const kept = Object.fromEntries(Object.entries(row).filter(([k]) => !/^routing[0-9]+$/.test(k) && !['etag', 'timestamp', 'odata.metadata'].includes(k)));
    await client.updateEntity({ ...kept, partitionKey: 'tenants', rowKey: `tenant|${tenantId}`, ...(routing === undefined ? {} : { routing0: JSON.stringify(routing) }) }, 'Replace');
  };

  it("the leak of issue 14: tenant A registering tenant B's serviceId gets 403, stores nothing, and receives none of its deliveries", async () => {
    const tenantA = await newTenant({ name: 'leak A' });
    const adminB = await newWebhook(ADMIN_KEY, { url: `${base}/leak-admin`, subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-leak-b' }, verify: false });
    const attempt = await call('POST', 'webhooks', { key: tenantA.key, body: { url: `${base}/leak-a`, subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-leak-b' } } });

    const to = await deliveredToAll({ name: 'service:subscribed', payload: { serviceId: 'svc-leak-b', fiscalCode: FISCAL_CODE } });
    expect(to).toEqual([adminB.id]);
    expect(deliveriesAt('/leak-admin')).toEqual([{ name: 'service:subscribed', payload: { fiscalCode: FISCAL_CODE } }]);
    expect(deliveriesAt('/leak-a')).toEqual([]);
    expect(attempt).toEqual({ status: 403, body: { error: 'Forbidden', message: expect.stringContaining('serviceId "svc-leak-b"') } });
    expect((await call('GET', 'webhooks', { key: tenantA.key })).body?.items).toEqual([]);
  });

  it('the routing routes: the admin sets grants, GET shows them; every bad input is a 4xx naming the problem and changes nothing', async () => {
    const tenant = await newTenant({ name: 'routes', routing: { serviceId: ['svc-1', 'svc-1', 'svc-2'] } });
    expect(await call('GET', `tenants/${tenant.id}`, { key: ADMIN_KEY })).toMatchObject({ status: 200, body: { routing: { serviceId: ['svc-1', 'svc-2'] } } });
    const replaced = await call('PUT', `tenants/${tenant.id}/routing`, { key: ADMIN_KEY, body: { serviceId: ['svc-3'], name: ['orders'] } });
    expect(replaced).toMatchObject({ status: 200, body: { id: tenant.id, name: 'routes', hasKey: true, routing: { serviceId: ['svc-3'], name: ['orders'] } } });
    expect(replaced.body).not.toHaveProperty('apiKey');

    const tooMany = Array.from({ length: 1001 }, (_, i) => `svc-${i}`);
    const bad: [unknown, RegExp][] = [
      [{ color: ['red'] }, /^color: must be a routing attribute \(name, serviceId\)/],
      [{ serviceId: [1] }, /^serviceId\.0: must be a non-empty string/],
      [{ serviceId: [''] }, /^serviceId\.0: must be a non-empty string/],
      [{ serviceId: 'svc-1' }, /^serviceId: must be a list of at most 1000 values \(MAX_ROUTING_VALUES_PER_ATTRIBUTE\)/],
      [{ serviceId: tooMany }, /^serviceId: must be a list of at most 1000 values \(MAX_ROUTING_VALUES_PER_ATTRIBUTE\)/],
      [['svc-1'], /^\(body\): must be an object from routing attributes \(name, serviceId\) to lists of values/],
    ];
    for (const [body, detail] of bad) {
      const answer = await call('PUT', `tenants/${tenant.id}/routing`, { key: ADMIN_KEY, body });
      expect(answer).toMatchObject({ status: 400, body: { error: 'Invalid', message: 'The routing is invalid' } });
      expect((answer.body?.details as string[]).some((d) => detail.test(d))).toBe(true);
    }
    expect((await call('PUT', `tenants/${tenant.id}/routing`, { key: tenant.key, body: { serviceId: ['svc-9'] } })).status).toBe(401);
    expect((await call('PUT', 'tenants/01HZZZZZZZZZZZZZZZZZZZZZZZ/routing', { key: ADMIN_KEY, body: { serviceId: [] } })).status).toBe(404);
    expect((await call('POST', 'tenants', { key: ADMIN_KEY, body: { name: 'bad', routing: { color: ['x'] } } })).status).toBe(400);
    expect(((await call('GET', 'tenants', { key: ADMIN_KEY })).body?.items as Json[]).map((t) => t.name)).not.toContain('bad');
    expect(await call('GET', `tenants/${tenant.id}`, { key: ADMIN_KEY })).toMatchObject({ status: 200, body: { routing: { serviceId: ['svc-3'], name: ['orders'] } } });

    // A tenant may change its webhooks only within its grants, on every registry route.
    const hook = await newWebhook(tenant.key, { url: `${base}/routes`, subscriptions: ['ping'], attributes: { name: 'orders' } });
    for (const [method, body] of [
      ['PUT', { url: `${base}/routes`, subscriptions: ['ping'], attributes: { name: 'other' } }],
      ['PATCH', { attributes: { serviceId: 'svc-1' } }],
    ] as const) {
      expect(await call(method, `webhooks/${hook.id as string}`, { key: tenant.key, body })).toMatchObject({ status: 403, body: { error: 'Forbidden' } });
    }
    expect(await call('GET', `webhooks/${hook.id as string}`, { key: tenant.key })).toMatchObject({ status: 200, body: { attributes: { name: 'orders' } } });
  });

  it('revocation mid-stream: A stops receiving service:subscribed, profile AUTO fan-outs and ping:all pings; B and the admin keep receiving', async () => {
    const a = await newTenant({ name: 'stream A', routing: { serviceId: ['svc-a'], name: ['a-ping'] } });
    const b = await newTenant({ name: 'stream B', routing: { serviceId: ['svc-b'], name: ['b-ping'] } });
    const subscriptions = ['service:subscribed', 'ping'];
    const wa = await newWebhook(a.key, { url: `${base}/stream-a`, subscriptions, attributes: { serviceId: 'svc-a', name: 'a-ping' } });
    const wb = await newWebhook(b.key, { url: `${base}/stream-b`, subscriptions, attributes: { serviceId: 'svc-b', name: 'b-ping' } });
    const admin = await newWebhook(ADMIN_KEY, { url: `${base}/stream-admin`, subscriptions, attributes: { serviceId: 'svc-a', name: 'admin-ping' } });
    expect([wa.verified, wb.verified, admin.verified]).toEqual([true, true, true]);
    const profile = { name: 'profile:completed', payload: { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'AUTO' } };
    const targeted = { name: 'service:subscribed', payload: { serviceId: 'svc-a', fiscalCode: FISCAL_CODE } };
    const ids = (...hooks: Json[]): string[] => hooks.map((h) => h.id as string).sort();
    // Webhooks of the other tests receive AUTO fan-outs and pings too: look at this test's three.
    const mine = new Set(ids(wa, wb, admin));
    const deliveredTo = async (event: { name: string; payload?: Json }): Promise<string[]> => (await deliveredToAll(event)).filter((id) => mine.has(id));

    // Before: each webhook gets what its grants cover.
    expect(await deliveredTo(profile)).toEqual(ids(wa, wb, admin));
    expect(await deliveredTo({ name: 'ping:all' })).toEqual(ids(wa, wb, admin));
    expect(await deliveredTo(targeted)).toEqual(ids(wa, admin));
    expect(deliveriesAt('/stream-a').map((d) => d.name)).toEqual(['service:subscribed', 'ping', 'service:subscribed']);

    // The admin revokes svc-a through this host: its cache is dropped at once.
    expect(await call('PUT', `tenants/${a.id}/routing`, { key: ADMIN_KEY, body: { name: ['a-ping'] } })).toMatchObject({ status: 200, body: { routing: { name: ['a-ping'] } } });
    expect(await deliveredTo(profile)).toEqual(ids(wb, admin));
    expect(await deliveredTo(targeted)).toEqual(ids(admin));
    expect(await deliveredTo({ name: 'ping:all' })).toEqual(ids(wa, wb, admin));

    // Another instance revokes a-ping: this host follows within TENANT_GRANTS_CACHE_SECONDS.
    await rewriteRouting(a.id, {});
    await new Promise((r) => setTimeout(r, (CACHE_SECONDS + 1) * 1000));
    expect(await deliveredTo({ name: 'ping:all' })).toEqual(ids(wb, admin));
    expect(await deliveredTo(profile)).toEqual(ids(wb, admin));
    expect(deliveriesAt('/stream-a').map((d) => d.name)).toEqual(['service:subscribed', 'ping', 'service:subscribed', 'ping']);
    expect(deliveriesAt('/stream-b').map((d) => d.name)).toEqual(['service:subscribed', 'ping', 'service:subscribed', 'ping', 'ping', 'service:subscribed']);
    expect(deliveriesAt('/stream-admin')).toHaveLength(8);
  });

  it('a tenant stored before grants is initialised from its webhooks (one log line, counts only): no silent stop, no new reach', async () => {
    const m = await newTenant({ name: 'migrated', routing: { serviceId: ['svc-m'] } });
    const hook = await newWebhook(m.key, { url: `${base}/migrated`, subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-m' } });
    await rewriteRouting(m.id, undefined);
    await new Promise((r) => setTimeout(r, (CACHE_SECONDS + 1) * 1000));

    expect(await deliveredToAll({ name: 'service:subscribed', payload: { serviceId: 'svc-m', fiscalCode: FISCAL_CODE } })).toEqual([hook.id]);
    const line = await until('the initialisation log line', () => host.rawOutput.find((l) => l.includes(`tenant ${m.id}: routing grants initialised`)));
    expect(line).toContain('from 1 webhooks (serviceId: 1)');
    expect(line).not.toContain('svc-m');
    expect(await call('GET', `tenants/${m.id}`, { key: ADMIN_KEY })).toMatchObject({ status: 200, body: { routing: { serviceId: ['svc-m'] } } });
    expect((await call('POST', 'webhooks', { key: m.key, body: { url: `${base}/migrated`, subscriptions: ['ping'], attributes: { name: 'new' } } })).status).toBe(403);
  });

  it('VERIFY_ENDPOINTS_DEFAULT=true: a tenant cannot skip verification (create, PATCH after a failure, a WebSub callback moved), and WebSub topics obey the grants', async () => {
    const t = await newTenant({ name: 'verify', routing: { serviceId: ['svc-v'] } });
    const hook = { subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-v' } };

    // 1. Create with "verify": false: 403 for a tenant, nothing stored; the admin may.
    const skipped = await call('POST', 'webhooks', { key: t.key, body: { url: `${base}/silent-create`, ...hook, verify: false } });
    expect(skipped).toEqual({ status: 403, body: { error: 'Forbidden', message: expect.stringMatching(/^verify: /) } });
    expect((await call('GET', 'webhooks', { key: t.key })).body?.items).toEqual([]);

    // 2. PATCH {"verify": false} on a webhook that failed verification: 403, still unverified.
    const failed = await newWebhook(t.key, { url: `${base}/silent-patch`, ...hook });
    expect(failed).toMatchObject({ verified: false, verification: { detail: 'the endpoint answered without echoing the challenge' } });
    expect(await call('PATCH', `webhooks/${failed.id as string}`, { key: t.key, body: { verify: false } })).toMatchObject({ status: 403, body: { error: 'Forbidden' } });
    expect(await call('PUT', `webhooks/${failed.id as string}`, { key: t.key, body: { url: `${base}/silent-patch`, ...hook, verify: false } })).toMatchObject({ status: 403 });

    // 3. A WebSub subscription confirmed on its own callback, then PATCHed to an endpoint that never echoes.
    expect((await subscribe(t.key, { 'hub.mode': 'subscribe', 'hub.topic': 'service:subscribed?serviceId=svc-v', 'hub.callback': `${base}/websub-v` })).status).toBe(202);
    const active = await until('the WebSub subscription to be active', async () =>
      ((await call('GET', 'webhooks', { key: t.key })).body?.items as Json[]).find((w) => w.websubTopic !== undefined && w.verified === true),
    );
    expect(await call('PATCH', `webhooks/${active.id as string}`, { key: t.key, body: { url: `${base}/silent-websub`, verify: false } })).toMatchObject({ status: 403 });
    expect(await call('PATCH', `webhooks/${active.id as string}`, { key: t.key, body: { url: `${base}/silent-websub` } })).toMatchObject({ status: 200, body: { verified: false } });
    expect(received.filter((r) => r.path === '/silent-websub').map((r) => (JSON.parse(r.body) as Json).name)).toEqual(['webhook:verification']);

    // Only the admin's webhook receives; none of the three silent endpoints gets a delivery.
    const admin = await newWebhook(ADMIN_KEY, { url: `${base}/silent-admin`, ...hook, verify: false });
    expect(await deliveredToAll({ name: 'service:subscribed', payload: { serviceId: 'svc-v', fiscalCode: FISCAL_CODE } })).toEqual([admin.id]);
    for (const p of ['/silent-create', '/silent-patch', '/silent-websub']) expect(deliveriesAt(p)).toEqual([]);

    // WebSub topics with a routing value obey the grants; an unsubscribe needs none.
    const refused = await subscribe(t.key, { 'hub.mode': 'subscribe', 'hub.topic': 'service:subscribed?serviceId=svc-other', 'hub.callback': `${base}/websub-other` });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: 'Forbidden', message: expect.stringContaining('serviceId "svc-other"') });
    expect(((await call('GET', 'webhooks', { key: t.key })).body?.items as Json[]).map((w) => w.url)).not.toContain(`${base}/websub-other`);
  });
});
