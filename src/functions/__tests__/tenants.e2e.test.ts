import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { type SpawnedHost, spawnHost } from '../../../local-host/testing/spawnHost';

/*
 * Tenants, keys and subscriber-controlled delivery through the embedded host (the compiled app,
 * the test Azurite, a receiver on loopback): cross-tenant access on every registry route, a secret
 * rotation verified by a Standard Webhooks receiver with either secret, endpoint verification,
 * DISABLED_EVENTS, a WebSub subscribe/unsubscribe driven like a subscriber library, and no secret
 * or key in any log line or error body.
 */

const appDir = path.resolve(__dirname, '..', '..', '..');
const INGEST_KEY = 'tenants-ingest-key-0123456789-abcdefghijklmnop';
const ADMIN_KEY = 'tenants-admin-key-0123456789-abcdefghijklmnop';
const suffix = `${process.pid}${Date.now() % 100000}`;
const settings = {
  INGEST_API_KEY: INGEST_KEY,
  ADMIN_API_KEY: ADMIN_KEY,
  WEBHOOKS_TABLE: `tnwebhooks${suffix}`,
  EVENTS_TABLE: `tnevents${suffix}`,
  ATTEMPTS_TABLE: `tnattempts${suffix}`,
  DELIVERIES_QUEUE: `tn-deliveries-${suffix}`,
  ALLOW_PRIVATE_DESTINATIONS: 'true',
  DISABLED_EVENTS: 'service:subscribed',
  VERIFY_ENDPOINTS_DEFAULT: 'false',
};

type Json = Record<string, unknown>;
type Answer = { status: number; body: Json | undefined };
type Received = { method: string; url: string; headers: IncomingMessage['headers']; body: string };

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

const until = async <A>(what: string, probe: () => Promise<A | undefined> | A | undefined, timeoutMs = 60_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('tenants, keys, secrets and subscriber-controlled delivery through the embedded host', () => {
  let host: SpawnedHost;
  let receiver: Server;
  let base: string;
  const received: Received[] = [];
  /** Every secret and key that appeared (only in the answers meant to show them). */
  const secrets = new Set<string>();
  /** Every answer that must not show a secret. */
  const otherAnswers: string[] = [];

  beforeAll(async () => {
    receiver = createServer(async (req, res) => {
      const body = await readBody(req);
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && url.pathname.startsWith('/websub')) {
        // What a WebSub subscriber library does: confirm the intent it expects by echoing the challenge.
        const expected = url.searchParams.get('hub.topic') === 'ping?name=ws1' && url.searchParams.get('hub.mode') !== null;
        res.writeHead(expected ? 200 : 404, { 'content-type': 'text/plain' }).end(expected ? (url.searchParams.get('hub.challenge') ?? '') : 'unknown');
        return;
      }
      if (url.pathname === '/echo') {
        const parsed = JSON.parse(body) as { name: string; payload: { challenge?: string } };
        if (parsed.name === 'webhook:verification') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ challenge: parsed.payload.challenge }));
          return;
        }
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

  const call = async (method: string, route: string, options: { key?: string; body?: unknown; showsSecret?: boolean } = {}): Promise<Answer> => {
    const res = await fetch(`${host.baseUrl}/api/${route}`, {
      method,
      headers: { ...(options.key === undefined ? {} : { authorization: `Bearer ${options.key}` }), 'content-type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    if (options.showsSecret !== true) otherAnswers.push(text);
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as Json) };
  };
  const newTenant = async (name: string): Promise<{ id: string; key: string }> => {
    // Grants for every routing value the tenants of this file use (routing grants: grants.e2e.test.ts).
    const routing = { name: ['a1', 'rot', 'v-ok', 'v-no', 'ws1', 'other', 'd1'], serviceId: ['s'] };
    const created = await call('POST', 'tenants', { key: ADMIN_KEY, body: { name, routing }, showsSecret: true });
    expect(created).toMatchObject({ status: 201, body: { name, hasKey: true, apiKey: expect.stringMatching(/^whtk_/) } });
    expect(created.body).not.toHaveProperty('keyHash');
    secrets.add(created.body?.apiKey as string);
    return { id: created.body?.id as string, key: created.body?.apiKey as string };
  };
  const newWebhook = async (key: string, body: Json): Promise<Json> => {
    const created = await call('POST', 'webhooks', { key, body, showsSecret: true });
    expect(created.status).toBe(201);
    secrets.add(created.body?.secret as string);
    return created.body as Json;
  };
  const settled = (eventId: string): Promise<Json> =>
    until(`event ${eventId} to be fanned out`, async () => {
      const view = await call('GET', `events/${eventId}`, { key: ADMIN_KEY });
      const dispatch = view.body?.dispatch as Json | undefined;
      return dispatch?.status === 'Completed' ? (view.body as Json) : undefined;
    });

  let tenantA: { id: string; key: string };
  let tenantB: { id: string; key: string };

  it('tenants: admin only; the key shows once, the list shows no key or hash', async () => {
    tenantA = await newTenant('project A');
    tenantB = await newTenant('project B');
    const list = await call('GET', 'tenants', { key: ADMIN_KEY });
    expect(list.status).toBe(200);
    expect((list.body?.items as Json[]).map((t) => t.id)).toEqual([tenantA.id, tenantB.id]);
    expect(JSON.stringify(list.body)).not.toMatch(/apiKey|keyHash/);
    expect(await call('GET', `tenants/${tenantA.id}`, { key: ADMIN_KEY })).toMatchObject({ status: 200, body: { id: tenantA.id, hasKey: true } });
    for (const key of [tenantA.key, INGEST_KEY, undefined]) expect((await call('GET', 'tenants', { key })).status).toBe(401);
    expect((await call('POST', 'tenants', { key: ADMIN_KEY, body: { name: '' } })).status).toBe(400);
    expect((await call('GET', 'tenants/01HZZZZZZZZZZZZZZZZZZZZZZZ', { key: ADMIN_KEY })).status).toBe(404);
  });

  it("another tenant's webhook answers 404 on every registry route, exactly like an unknown id; the admin sees all", async () => {
    const mine = await newWebhook(tenantA.key, { url: `${base}/a`, subscriptions: ['ping'], attributes: { name: 'a1' } });
    expect(mine.tenantId).toBe(tenantA.id);
    const id = mine.id as string;
    const unknown = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
    const routes: [string, (id: string) => string, unknown][] = [
      ['GET', (x) => `webhooks/${x}`, undefined],
      ['PUT', (x) => `webhooks/${x}`, { url: `${base}/b`, subscriptions: ['*'] }],
      ['PATCH', (x) => `webhooks/${x}`, { disabled: true }],
      ['DELETE', (x) => `webhooks/${x}`, undefined],
      ['GET', (x) => `webhooks/${x}/attempts`, undefined],
      ['POST', (x) => `webhooks/${x}/rotate-secret`, { overlapSeconds: 60 }],
      ['POST', (x) => `webhooks/${x}/verify`, undefined],
    ];
    for (const [method, route, body] of routes) {
      const other = await call(method, route(id), { key: tenantB.key, body });
      const none = await call(method, route(unknown), { key: tenantB.key, body });
      expect({ method, route: route('{id}'), status: other.status }).toEqual({ method, route: route('{id}'), status: 404 });
      expect(other.body).toEqual({ ...(none.body as Json), message: (none.body?.message as string).replace(unknown, id) });
    }
    expect(await call('GET', `webhooks/${id}`, { key: tenantA.key })).toMatchObject({ status: 200, body: { id, disabled: false, url: `${base}/a` } });
    expect(await call('GET', `webhooks/${id}`, { key: ADMIN_KEY })).toMatchObject({ status: 200, body: { id, tenantId: tenantA.id } });
    expect(((await call('GET', 'webhooks', { key: tenantB.key })).body?.items as Json[]).map((w) => w.id)).toEqual([]);
    expect(((await call('GET', 'webhooks', { key: tenantA.key })).body?.items as Json[]).map((w) => w.id)).toEqual([id]);
    expect(((await call('GET', `tenants/${tenantA.id}/webhooks`, { key: ADMIN_KEY })).body?.items as Json[]).map((w) => w.id)).toEqual([id]);
    expect((await call('GET', 'webhooks', { key: ADMIN_KEY })).body?.items).toEqual(expect.arrayContaining([expect.objectContaining({ id })]));
    // The admin's own webhooks are not a tenant's either.
    const adminOwned = await newWebhook(ADMIN_KEY, { url: `${base}/admin`, subscriptions: ['ping'] });
    expect((await call('GET', `webhooks/${adminOwned.id as string}`, { key: tenantA.key })).status).toBe(404);
    expect((await call('DELETE', `webhooks/${adminOwned.id as string}`, { key: ADMIN_KEY })).status).toBe(204);
  });

  it('a rotated tenant key replaces the old one at once; a revoked one opens nothing', async () => {
    const tenant = await newTenant('project C');
    expect((await call('GET', 'webhooks', { key: tenant.key })).status).toBe(200);
    const rotated = await call('POST', `tenants/${tenant.id}/rotate-key`, { key: ADMIN_KEY, showsSecret: true });
    expect(rotated).toMatchObject({ status: 200, body: { id: tenant.id, apiKey: expect.stringMatching(/^whtk_/) } });
    secrets.add(rotated.body?.apiKey as string);
    expect((await call('GET', 'webhooks', { key: tenant.key })).status).toBe(401);
    expect((await call('GET', 'webhooks', { key: rotated.body?.apiKey as string })).status).toBe(200);
    expect(await call('DELETE', `tenants/${tenant.id}/key`, { key: ADMIN_KEY })).toMatchObject({ status: 200, body: { hasKey: false } });
    expect((await call('GET', 'webhooks', { key: rotated.body?.apiKey as string })).status).toBe(401);
  });

  it('secret rotation: during the overlap a receiver holding either the old or the new secret verifies the delivery', async () => {
    const hook = await newWebhook(tenantA.key, { url: `${base}/rotation`, subscriptions: ['ping'], attributes: { name: 'rot' } });
    const rotated = await call('POST', `webhooks/${hook.id as string}/rotate-secret`, { key: tenantA.key, body: { overlapSeconds: 3600 }, showsSecret: true });
    expect(rotated).toMatchObject({ status: 200, body: { id: hook.id, secret: expect.stringMatching(/^whsec_/), previousSecretExpiresAt: expect.any(String) } });
    expect(rotated.body?.previousSecrets).toBeUndefined();
    secrets.add(rotated.body?.secret as string);
    expect(rotated.body?.secret).not.toBe(hook.secret);
    expect((await call('GET', `webhooks/${hook.id as string}`, { key: tenantA.key })).body).not.toHaveProperty('secret');

    const event = await call('POST', 'events', { key: INGEST_KEY, body: { name: 'ping', payload: { name: 'rot' } } });
    expect(event.status).toBe(202);
    const delivery = await until('the rotated delivery', () => received.find((r) => r.url === '/rotation'));
    const headers = {
      'webhook-id': String(delivery.headers['webhook-id']),
      'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
      'webhook-signature': String(delivery.headers['webhook-signature']),
    };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(new StandardWebhook(hook.secret as string).verify(delivery.body, headers)).toEqual({ name: 'ping', payload: {} });
    expect(new StandardWebhook(rotated.body?.secret as string).verify(delivery.body, headers)).toEqual({ name: 'ping', payload: {} });
    expect(() => new StandardWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').verify(delivery.body, headers)).toThrow();
  });

  it('endpoint verification: an echoing endpoint is verified at once; one that does not echo receives nothing', async () => {
    const ok = await newWebhook(tenantA.key, { url: `${base}/echo`, subscriptions: ['ping'], attributes: { name: 'v-ok' }, verify: true });
    expect(ok.verified).toBe(true);
    const no = await newWebhook(tenantA.key, { url: `${base}/noecho`, subscriptions: ['ping'], attributes: { name: 'v-no' }, verify: true });
    expect(no).toMatchObject({ verified: false, verification: { detail: 'the endpoint answered without echoing the challenge' } });
    const challenge = received.find((r) => r.url === '/noecho') as Received;
    expect(JSON.parse(challenge.body)).toMatchObject({ name: 'webhook:verification' });
    expect(() => new StandardWebhook(no.secret as string).verify(challenge.body, challenge.headers as Record<string, string>)).not.toThrow();

    const blocked = await call('POST', 'events', { key: INGEST_KEY, body: { name: 'ping', payload: { name: 'v-no' } } });
    expect(await settled(blocked.body?.id as string)).toMatchObject({ dispatch: { deliveries: 0 } });
    const allowed = await call('POST', 'events', { key: INGEST_KEY, body: { name: 'ping', payload: { name: 'v-ok' } } });
    await until('the verified delivery', () => received.find((r) => r.url === '/echo' && r.body === '{"name":"ping","payload":{}}'));
    expect(allowed.status).toBe(202);
    expect(received.filter((r) => r.url === '/noecho')).toHaveLength(1);
    expect(await call('POST', `webhooks/${no.id as string}/verify`, { key: tenantA.key })).toMatchObject({ status: 200, body: { verified: false } });
  });

  it('DISABLED_EVENTS: a disabled event is accepted (202, "disabled": true) but not dispatched', async () => {
    const posted = await call('POST', 'events', { key: INGEST_KEY, body: { name: 'service:subscribed', payload: { serviceId: 's', fiscalCode: 'AAABBB00A00A000B' } } });
    expect(posted).toMatchObject({ status: 202, body: { id: expect.any(String), disabled: true } });
    const view = await call('GET', `events/${posted.body?.id as string}`, { key: ADMIN_KEY });
    expect(view).toMatchObject({ status: 200, body: { dispatch: { status: 'NotStarted' } } });
  });

  it('WebSub: a form subscribe answers 202, the callback confirms the GET intent check, deliveries follow; unsubscribe removes it', async () => {
    const hubSecret = 'a-websub-subscriber-secret-0123456789';
    secrets.add(hubSecret);
    const form = (mode: string): URLSearchParams =>
      new URLSearchParams({
        'hub.mode': mode,
        'hub.topic': 'ping?name=ws1',
        'hub.callback': `${base}/websub/cb1`,
        'hub.lease_seconds': '3600',
        ...(mode === 'subscribe' ? { 'hub.secret': hubSecret } : {}),
      });
    const post = (body: URLSearchParams, key = tenantA.key) =>
      fetch(`${host.baseUrl}/api/websub`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' }, body });
    const subscribed = await post(form('subscribe'));
    expect(subscribed.status).toBe(202);
    const intent = await until('the intent verification GET', () => received.find((r) => r.method === 'GET' && r.url.startsWith('/websub/cb1')));
    const query = new URL(intent.url, 'http://x').searchParams;
    expect({ mode: query.get('hub.mode'), topic: query.get('hub.topic'), lease: query.get('hub.lease_seconds') }).toEqual({ mode: 'subscribe', topic: 'ping?name=ws1', lease: '3600' });
    expect(query.get('hub.challenge')).toMatch(/^[0-9a-f]{32}$/);
    const active = await until('the subscription to be active', async () => {
      const items = (await call('GET', 'webhooks', { key: tenantA.key })).body?.items as Json[];
      return items.find((w) => w.websubTopic === 'ping?name=ws1' && w.verified === true);
    });
    expect(active).toMatchObject({ url: `${base}/websub/cb1`, subscriptions: ['ping'], attributes: { name: 'ws1' }, expiresAt: expect.any(String) });

    await call('POST', 'events', { key: INGEST_KEY, body: { name: 'ping', payload: { name: 'ws1' } } });
    const content = await until('the WebSub delivery', () => received.find((r) => r.method === 'POST' && r.url === '/websub/cb1'));
    const { createHmac } = await import('node:crypto');
    expect(content.headers['x-hub-signature']).toBe(`sha256=${createHmac('sha256', hubSecret).update(content.body).digest('hex')}`);
    expect(() => new StandardWebhook(`whsec_${Buffer.from(hubSecret).toString('base64')}`).verify(content.body, content.headers as Record<string, string>)).not.toThrow();

    // Errors: a bad form, another tenant unsubscribing, no key.
    const bad = await post(new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.topic': 'ping:all', 'hub.callback': 'ftp://x' }));
    expect(bad.status).toBe(400);
    otherAnswers.push(await bad.text());
    expect((await post(form('unsubscribe'), tenantB.key)).status).toBe(404);
    expect((await post(form('subscribe'), 'whtk_wrong')).status).toBe(401);

    expect((await post(form('unsubscribe'))).status).toBe(202);
    await until('the unsubscribe intent GET', () => received.find((r) => r.method === 'GET' && r.url.includes('hub.mode=unsubscribe')));
    await until('the subscription to be gone', async () => {
      const items = (await call('GET', 'webhooks', { key: tenantA.key })).body?.items as Json[];
      return items.some((w) => w.id === active.id) ? undefined : true;
    });
  });

  it('WebSub: a callback that does not confirm gets no subscription', async () => {
    const res = await fetch(`${host.baseUrl}/api/websub`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenantB.key}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.topic': 'ping?name=other', 'hub.callback': `${base}/websub/refuses` }),
    });
    expect(res.status).toBe(202);
    await until('the refused intent GET', () => received.find((r) => r.method === 'GET' && r.url.startsWith('/websub/refuses')));
    await until('the pending subscription to be removed', async () => {
      const items = (await call('GET', 'webhooks', { key: tenantB.key })).body?.items as Json[];
      return items.length === 0 ? true : undefined;
    });
  });

  it('deleting a tenant: 401 but for the admin, 409 while it owns webhooks, then 204; its key opens nothing and it no longer lists', async () => {
    const tenant = await newTenant('project D');
    const hook = await newWebhook(tenant.key, { url: `${base}/d`, subscriptions: ['ping'], attributes: { name: 'd1' } });
    for (const key of [tenant.key, tenantA.key, INGEST_KEY, undefined]) expect((await call('DELETE', `tenants/${tenant.id}`, { key })).status).toBe(401);
    const refused = await call('DELETE', `tenants/${tenant.id}`, { key: ADMIN_KEY });
    expect(refused).toMatchObject({ status: 409, body: { error: 'Conflict', message: expect.stringContaining('still owns 1 webhook;') } });
    // A refusal changes nothing: the key still works and the webhook is still the tenant's.
    expect(((await call('GET', 'webhooks', { key: tenant.key })).body?.items as Json[]).map((w) => w.id)).toEqual([hook.id]);

    expect((await call('DELETE', `webhooks/${hook.id as string}`, { key: ADMIN_KEY })).status).toBe(204);
    expect(await call('DELETE', `tenants/${tenant.id}`, { key: ADMIN_KEY })).toEqual({ status: 204, body: undefined });
    expect((await call('GET', 'webhooks', { key: tenant.key })).status).toBe(401);
    expect((await call('POST', 'webhooks', { key: tenant.key, body: { url: `${base}/d`, subscriptions: ['ping'] } })).status).toBe(401);
    expect((await call('GET', `tenants/${tenant.id}`, { key: ADMIN_KEY })).status).toBe(404);
    expect(((await call('GET', 'tenants', { key: ADMIN_KEY })).body?.items as Json[]).map((t) => t.id)).not.toContain(tenant.id);
    expect((await call('DELETE', `tenants/${tenant.id}`, { key: ADMIN_KEY })).status).toBe(404);
    expect((await call('DELETE', 'tenants/not-a-tenant', { key: ADMIN_KEY })).status).toBe(404);
    // The other tenants are untouched.
    expect((await call('GET', 'webhooks', { key: tenantA.key })).status).toBe(200);
  });

  it('no secret or key appears in any log line or in any answer not meant to show it', () => {
    expect(secrets.size).toBeGreaterThanOrEqual(8);
    const logText = `${JSON.stringify(host.logs)}\n${host.rawOutput.join('\n')}`;
    expect(host.logs.length).toBeGreaterThan(20);
    for (const secret of [...secrets, ADMIN_KEY, INGEST_KEY]) {
      expect(logText.includes(secret)).toBe(false);
      expect(otherAnswers.some((a) => a.includes(secret))).toBe(false);
    }
  });
});
