import path from 'node:path';
import { type DeadStorage, deadStorage } from '../../../local-host/testing/deadStorage';
import { type SpawnedHost, spawnHost } from '../../../local-host/testing/spawnHost';

/*
 * The compiled app (package.json "main") in the embedded host against the test Azurite: every
 * status code of the two APIs, the registry's life cycle, and health with storage up and down.
 */

const appDir = path.resolve(__dirname, '..', '..', '..');
const INGEST_KEY = 'test-ingest-key-0123456789-abcdefghijklmnop';
const ADMIN_KEY = 'test-admin-key-0123456789-abcdefghijklmnop';
const suffix = `${process.pid}${Date.now() % 100000}`;
const settings = {
  INGEST_API_KEY: INGEST_KEY,
  ADMIN_API_KEY: ADMIN_KEY,
  MAX_EVENT_BODY_BYTES: '2048',
  WEBHOOKS_TABLE: `httpwebhooks${suffix}`,
  EVENTS_TABLE: `httpevents${suffix}`,
  DELIVERIES_QUEUE: `http-deliveries-${suffix}`,
  ALLOW_PRIVATE_DESTINATIONS: 'true',
};

type Answer = { status: number; body: Record<string, unknown> | undefined; headers: Headers };

describe('HTTP APIs through the embedded host', () => {
  let host: SpawnedHost;
  beforeAll(async () => {
    host = await spawnHost({ appDir, env: settings });
  });
  afterAll(async () => {
    await host.stop();
  });

  const call = async (method: string, route: string, options: { key?: string; body?: unknown; raw?: string | Buffer } = {}): Promise<Answer> => {
    const res = await fetch(`${host.baseUrl}/api/${route}`, {
      method,
      headers: { ...(options.key === undefined ? {} : { authorization: `Bearer ${options.key}` }), 'content-type': 'application/json' },
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>), headers: res.headers };
  };

  describe('GET /api/health', () => {
    it('200 without a key when storage answers', async () => {
      expect(await call('GET', 'health')).toMatchObject({ status: 200, body: { status: 'ok', checks: { tables: 'ok', queues: 'ok', blobs: 'ok' } } });
    });
  });

  describe('POST /api/events', () => {
    it('202 with a generated id', async () => {
      const res = await call('POST', 'events', { key: INGEST_KEY, body: { name: 'ping:all' } });
      expect(res.status).toBe(202);
      expect(res.body?.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    });

    it('202 with the client id, again for a repeat, 409 for the same id with another body', async () => {
      const event = { id: `evt-${suffix}`, name: 'profile:completed', payload: { fiscalCode: 'AAABBB00A00A000B', servicePreferencesMode: 'AUTO' } };
      expect(await call('POST', 'events', { key: INGEST_KEY, body: event })).toMatchObject({ status: 202, body: { id: event.id } });
      expect(await call('POST', 'events', { key: INGEST_KEY, body: event })).toMatchObject({ status: 202, body: { id: event.id } });
      const other = await call('POST', 'events', { key: INGEST_KEY, body: { ...event, payload: { ...event.payload, servicePreferencesMode: 'MANUAL' } } });
      expect(other).toMatchObject({ status: 409, body: { error: 'Conflict' } });
    });

    it('400 naming the field, the unknown name, or the JSON error', async () => {
      expect(await call('POST', 'events', { key: INGEST_KEY, body: { name: 'service:subscribed', payload: { serviceId: 's', fiscalCode: 'bad' } } })).toEqual(
        expect.objectContaining({
          status: 400,
          body: { error: 'Invalid', message: 'The event is invalid', details: ['payload.fiscalCode: must be a fiscal code (16 characters, e.g. AAABBB00A00A000B)'] },
        }),
      );
      const unknown = await call('POST', 'events', { key: INGEST_KEY, body: { name: 'user:deleted' } });
      expect(unknown.status).toBe(400);
      expect((unknown.body?.details as string[])[0]).toBe(
        'name: unknown event "user:deleted"; known events: ping, service:subscribed, ping:all, profile:completed, profile:service-preferences-changed',
      );
      const broken = await call('POST', 'events', { key: INGEST_KEY, raw: '{"name": "ping"' });
      expect(broken.status).toBe(400);
      expect((broken.body?.details as string[])[0]).toMatch(/^\(body\): is not valid JSON/);
    });

    it('401 without a key, with a wrong key, with the admin key', async () => {
      for (const key of [undefined, 'wrong-key-0123456789-abcdefghijklmnop', ADMIN_KEY]) {
        const res = await call('POST', 'events', { key, body: { name: 'ping:all' } });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    });

    it('413 over MAX_EVENT_BODY_BYTES', async () => {
      const res = await call('POST', 'events', { key: INGEST_KEY, body: { name: 'ping', payload: { name: 'x'.repeat(2100) } } });
      expect(res).toMatchObject({ status: 413, body: { error: 'TooLarge' } });
    });
  });

  describe('/api/webhooks', () => {
    it('goes through the whole life cycle: create, read, list, replace, patch, delete', async () => {
      const created = await call('POST', 'webhooks', {
        key: ADMIN_KEY,
        body: { url: 'https://receiver.example/hooks', subscriptions: ['ping'], attributes: { name: 'wh1' }, headers: { Authorization: 'Bearer receiver-token' } },
      });
      expect(created.status).toBe(201);
      const id = created.body?.id as string;
      expect(created.body).toMatchObject({ url: 'https://receiver.example/hooks', subscriptions: ['ping'], attributes: { name: 'wh1' }, headerNames: ['Authorization'], disabled: false });
      expect(created.body?.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      // Header values are write-only: no answer holds one, the create answer included.
      expect(JSON.stringify(created.body)).not.toContain('receiver-token');

      const read = await call('GET', `webhooks/${id}`, { key: ADMIN_KEY });
      expect(read.status).toBe(200);
      const { secret: _secret, ...withoutSecret } = created.body ?? {};
      expect(read.body).toEqual(withoutSecret);

      const second = await call('POST', 'webhooks', { key: ADMIN_KEY, body: { url: 'http://127.0.0.1:9/x', subscriptions: ['*'] } });
      const listed = await call('GET', 'webhooks?limit=1', { key: ADMIN_KEY });
      expect(listed.status).toBe(200);
      expect((listed.body?.items as { id: string }[]).map((w) => w.id)).toEqual([id]);
      const rest = await call('GET', `webhooks?limit=1&continuationToken=${encodeURIComponent(listed.body?.continuationToken as string)}`, { key: ADMIN_KEY });
      expect((rest.body?.items as { id: string }[]).map((w) => w.id)).toEqual([second.body?.id]);
      expect(rest.body?.continuationToken).toBeUndefined();

      const replaced = await call('PUT', `webhooks/${id}`, { key: ADMIN_KEY, body: { url: 'https://receiver.example/v2', subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-1' } } });
      expect(replaced).toMatchObject({
        status: 200,
        body: { id, url: 'https://receiver.example/v2', subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-1' }, headerNames: [], createdAt: created.body?.createdAt },
      });
      expect(replaced.body).not.toHaveProperty('secret');

      const patched = await call('PATCH', `webhooks/${id}`, { key: ADMIN_KEY, body: { disabled: true, headers: { 'X-Tenant': 't1', 'X-Api-Key': 'receiver-api-key' } } });
      expect(patched).toMatchObject({ status: 200, body: { disabled: true, headerNames: ['X-Tenant', 'X-Api-Key'], url: 'https://receiver.example/v2' } });
      // PATCH merges by name: one header removed, the other kept.
      const merged = await call('PATCH', `webhooks/${id}`, { key: ADMIN_KEY, body: { headers: { 'x-tenant': null } } });
      expect(merged.body?.headerNames).toEqual(['X-Api-Key']);
      for (const answer of [patched, merged, await call('GET', `webhooks/${id}`, { key: ADMIN_KEY }), await call('GET', 'webhooks', { key: ADMIN_KEY })]) {
        expect(JSON.stringify(answer.body)).not.toContain('receiver-api-key');
        expect(JSON.stringify(answer.body)).not.toContain('"headers"');
      }

      expect(await call('DELETE', `webhooks/${id}`, { key: ADMIN_KEY })).toMatchObject({ status: 204, body: undefined });
      expect(await call('GET', `webhooks/${id}`, { key: ADMIN_KEY })).toMatchObject({ status: 404, body: { error: 'NotFound' } });
      expect(await call('DELETE', `webhooks/${id}`, { key: ADMIN_KEY })).toMatchObject({ status: 404 });
      expect(await call('DELETE', `webhooks/${second.body?.id as string}`, { key: ADMIN_KEY })).toMatchObject({ status: 204 });
    });

    it('400 for invalid bodies, patches and queries, naming the fields', async () => {
      const bad = await call('POST', 'webhooks', {
        key: ADMIN_KEY,
        body: { url: 'https://user:pw@receiver.example/', subscriptions: ['ping:all'], headers: { 'Transfer-Encoding': 'chunked', 'webhook-signature': 'v1,x' } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body?.details).toEqual([
        'url: must be an absolute http or https URL, without credentials or fragment, at most 2048 characters',
        'subscriptions.0: must be a public event name (ping, service:subscribed), a pattern such as service:*, *, or an alert (webhook.disabled, delivery.exhausted)',
        'headers.Transfer-Encoding: must be a header name (an HTTP token of at most 64 characters) that the dispatcher does not set itself (not hop-by-hop, proxy-*, host, content-*, expect or webhook-*)',
        'headers.webhook-signature: must be a header name (an HTTP token of at most 64 characters) that the dispatcher does not set itself (not hop-by-hop, proxy-*, host, content-*, expect or webhook-*)',
      ]);
      const created = await call('POST', 'webhooks', { key: ADMIN_KEY, body: { url: 'https://receiver.example/', subscriptions: ['*'] } });
      const id = created.body?.id as string;
      expect(await call('PATCH', `webhooks/${id}`, { key: ADMIN_KEY, body: { secret: 'whsec_mine' } })).toMatchObject({ status: 400 });
      expect(await call('PUT', `webhooks/${id}`, { key: ADMIN_KEY, body: { url: 'https://receiver.example/' } })).toMatchObject({
        status: 400,
        body: { details: ['subscriptions: is required (a list of 1 to 16 subscriptions)'] },
      });
      expect(await call('GET', 'webhooks?limit=1000', { key: ADMIN_KEY })).toMatchObject({ status: 400, body: { details: ['limit: must be an integer from 1 to 100'] } });
      expect(await call('GET', 'webhooks?continuationToken=nonsense', { key: ADMIN_KEY })).toMatchObject({ status: 400 });
      await call('DELETE', `webhooks/${id}`, { key: ADMIN_KEY });
    });

    it('401 without the admin key, 404 for unknown ids, 413 for huge bodies', async () => {
      expect((await call('GET', 'webhooks')).status).toBe(401);
      expect((await call('POST', 'webhooks', { key: INGEST_KEY, body: {} })).status).toBe(401);
      expect((await call('GET', 'webhooks/01HZZZZZZZZZZZZZZZZZZZZZZZ', { key: ADMIN_KEY })).status).toBe(404);
      expect((await call('PUT', 'webhooks/not-an-id', { key: ADMIN_KEY, body: { url: 'https://x.example/', subscriptions: ['*'] } })).status).toBe(404);
      expect((await call('POST', 'webhooks', { key: ADMIN_KEY, raw: 'x'.repeat(70 * 1024) })).status).toBe(413);
    });
  });

  describe('Cache-Control: no-store', () => {
    it('on every answer of the registry, tenant and WebSub routes (they carry secrets and keys), errors included', async () => {
      const created = await call('POST', 'webhooks', { key: ADMIN_KEY, body: { url: 'https://receiver.example/cache', subscriptions: ['ping'], attributes: { name: 'cache' } } });
      const id = created.body?.id as string;
      const tenant = await call('POST', 'tenants', { key: ADMIN_KEY, body: { name: `cache-${suffix}` } });
      const tenantId = tenant.body?.id as string;
      expect({ webhook: created.status, tenant: tenant.status, secret: typeof created.body?.secret, apiKey: typeof tenant.body?.apiKey }).toEqual({
        webhook: 201,
        tenant: 201,
        secret: 'string',
        apiKey: 'string',
      });
      const answers: [string, Answer][] = [
        ['POST webhooks', created],
        ['GET webhooks', await call('GET', 'webhooks', { key: ADMIN_KEY })],
        ['GET webhooks/{id}', await call('GET', `webhooks/${id}`, { key: ADMIN_KEY })],
        ['PUT webhooks/{id}', await call('PUT', `webhooks/${id}`, { key: ADMIN_KEY, body: { url: 'https://receiver.example/cache2', subscriptions: ['ping'], attributes: { name: 'cache' } } })],
        ['PATCH webhooks/{id}', await call('PATCH', `webhooks/${id}`, { key: ADMIN_KEY, body: { disabled: false } })],
        ['POST webhooks/{id}/rotate-secret', await call('POST', `webhooks/${id}/rotate-secret`, { key: ADMIN_KEY, body: {} })],
        ['POST webhooks/{id}/verify', await call('POST', `webhooks/${id}/verify`, { key: ADMIN_KEY })],
        ['POST tenants', tenant],
        ['GET tenants', await call('GET', 'tenants', { key: ADMIN_KEY })],
        ['GET tenants/{id}', await call('GET', `tenants/${tenantId}`, { key: ADMIN_KEY })],
        ['POST tenants/{id}/rotate-key', await call('POST', `tenants/${tenantId}/rotate-key`, { key: ADMIN_KEY })],
        ['GET tenants/{id}/webhooks', await call('GET', `tenants/${tenantId}/webhooks`, { key: ADMIN_KEY })],
        ['DELETE tenants/{id}/key', await call('DELETE', `tenants/${tenantId}/key`, { key: ADMIN_KEY })],
        ['DELETE tenants/{id}', await call('DELETE', `tenants/${tenantId}`, { key: ADMIN_KEY })],
        ['POST websub (400)', await call('POST', 'websub', { key: ADMIN_KEY, raw: 'hub.mode=nonsense' })],
        ['GET webhooks (401)', await call('GET', 'webhooks')],
        ['DELETE webhooks/{id}', await call('DELETE', `webhooks/${id}`, { key: ADMIN_KEY })],
      ];
      expect(answers.map(([route, a]) => [route, a.headers.get('cache-control')])).toEqual(answers.map(([route]) => [route, 'no-store']));
      // Routes without secrets keep their caching as it was.
      expect((await call('GET', 'health')).headers.get('cache-control')).toBeNull();
    });
  });
});

describe('HTTP APIs with storage down', () => {
  let host: SpawnedHost | undefined;
  let storage: DeadStorage | undefined;
  beforeAll(async () => {
    storage = await deadStorage();
    host = await spawnHost({ appDir, env: { ...settings, AzureWebJobsStorage: storage.connectionString } });
  });
  afterAll(async () => {
    await host?.stop();
    await storage?.close();
  });
  const api = (route: string): string => {
    if (host === undefined) throw new Error('the host did not start');
    return `${host.baseUrl}/api/${route}`;
  };

  it('health answers 503 naming tables, queues and blobs', async () => {
    const res = await fetch(api('health'));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', message: 'Not answering: tables, queues, blobs', checks: { tables: 'down', queues: 'down', blobs: 'down' } });
  });

  it('ingest answers 503, never 202, and the registry 503 too', async () => {
    const ingest = await fetch(api('events'), { method: 'POST', headers: { authorization: `Bearer ${INGEST_KEY}` }, body: JSON.stringify({ name: 'ping:all', id: 'kept-nowhere' }) });
    expect(ingest.status).toBe(503);
    expect(ingest.headers.get('retry-after')).toBe('5');
    const list = await fetch(api('webhooks'), { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(list.status).toBe(503);
  });
});

describe('start-up with bad settings', () => {
  // As in Azure, a bad setting must not take the app away: health names it (settings.e2e.test.ts has more).
  it('the host starts and health answers 503 naming the setting and not its value', async () => {
    const started = await spawnHost({ appDir, env: { ...settings, INGEST_API_KEY: 'short-secret', ADMIN_API_KEY: ADMIN_KEY }, startTimeoutMs: 20_000 });
    try {
      const res = await fetch(`${started.baseUrl}/api/health`);
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(text).toMatch(/INGEST_API_KEY: must be a secret of at least 32 characters/);
      expect(text).not.toContain('short-secret');
    } finally {
      await started.stop();
    }
  });
});
