import path from 'node:path';
import { call as callApi } from '../../__tests__/faults/harness';
import { type SpawnedHost, spawnHost } from '../../../local-host/testing/spawnHost';

/*
 * Portal links and sessions through the embedded host (docs/portal.md): only the admin mints and
 * revokes; a link opens a session that acts as its tenant on the API routes and as nothing else;
 * expired, revoked, tampered and other tenants' tokens are refused and change nothing.
 */

const appDir = path.resolve(__dirname, '..', '..', '..');
const INGEST_KEY = 'portal-ingest-key-0123456789abcdefghijkl';
const ADMIN_KEY = 'portal-admin-key-0123456789abcdefghijklm';
const suffix = `${process.pid}${Date.now() % 100000}`;
const settings = {
  INGEST_API_KEY: INGEST_KEY,
  ADMIN_API_KEY: ADMIN_KEY,
  WEBHOOKS_TABLE: `plwebhooks${suffix}`,
  EVENTS_TABLE: `plevents${suffix}`,
  ATTEMPTS_TABLE: `plattempts${suffix}`,
  DELIVERIES_QUEUE: `pl-deliveries-${suffix}`,
  ALLOW_PRIVATE_DESTINATIONS: 'true',
};

type Json = Record<string, unknown>;

describe('portal links and sessions through the embedded host', () => {
  let host: SpawnedHost;

  beforeAll(async () => {
    host = await spawnHost({ appDir, env: settings });
  });
  afterAll(async () => {
    await host?.stop();
  });

  const call = (method: string, route: string, options: { key?: string; body?: unknown; raw?: string } = {}) => callApi(host.baseUrl, method, route, options);
  const newTenant = async (name: string, routing: Json): Promise<{ id: string; key: string }> => {
    const created = await call('POST', 'tenants', { key: ADMIN_KEY, body: { name, routing } });
    expect(created.status).toBe(201);
    return { id: created.body?.id as string, key: created.body?.apiKey as string };
  };
  const tokenOf = (url: string): string => decodeURIComponent(new URL(url).hash.replace(/^#token=/, ''));
  const mint = async (tenantId: string, body?: Json): Promise<{ url: string; expiresAt: string; token: string }> => {
    const minted = await call('POST', `tenants/${tenantId}/portal-links`, { key: ADMIN_KEY, ...(body === undefined ? {} : { body }) });
    expect(minted.status).toBe(201);
    const url = minted.body?.url as string;
    return { url, expiresAt: minted.body?.expiresAt as string, token: tokenOf(url) };
  };
  const exchange = (token: string) => call('POST', 'portal/session', { body: { token } });
  const sessionOf = async (token: string): Promise<string> => {
    const opened = await exchange(token);
    expect(opened.status).toBe(201);
    return opened.body?.token as string;
  };

  it('only the admin mints and revokes links; the link opens /api/portal with the token in the fragment, not the query', async () => {
    const tenant = await newTenant('minting', { name: ['mint-a'] });
    const noKey = await call('POST', `tenants/${tenant.id}/portal-links`, { body: {} });
    const tenantKey = await call('POST', `tenants/${tenant.id}/portal-links`, { key: tenant.key, body: {} });
    expect([noKey.status, tenantKey.status]).toEqual([401, 401]);
    const before = Date.now();
    const link = await mint(tenant.id);
    const url = new URL(link.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${host.baseUrl}/api/portal`);
    expect(url.search).toBe('');
    expect(link.token).toMatch(/^whpl_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    // Default TTL one hour.
    expect(Math.abs(Date.parse(link.expiresAt) - before - 3600_000)).toBeLessThan(120_000);
    const session = await sessionOf(link.token);
    // A session bearer is the tenant, not the admin: no minting, no revoking, no tenant list, no events.
    for (const [method, route] of [
      ['POST', `tenants/${tenant.id}/portal-links`],
      ['DELETE', `tenants/${tenant.id}/portal-links`],
      ['GET', 'tenants'],
      ['GET', `tenants/${tenant.id}`],
      ['GET', 'events'],
      ['GET', 'poison'],
    ] as const) {
      expect(`${method} ${route} ${(await call(method, route, { key: session })).status}`).toBe(`${method} ${route} 401`);
    }
    const page = await fetch(`${host.baseUrl}/api/portal`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('refuses a bad TTL or body with a 400 naming it, and an unknown tenant with a 404', async () => {
    const tenant = await newTenant('ttl', {});
    for (const body of [{ ttlSeconds: 86_401 }, { ttlSeconds: 0 }, { ttlSeconds: 'an hour' }, { ttl: 60 }]) {
      const answer = await call('POST', `tenants/${tenant.id}/portal-links`, { key: ADMIN_KEY, body });
      expect(answer.status).toBe(400);
      expect(JSON.stringify(answer.body?.details)).toMatch(/ttl/);
    }
    expect((await call('POST', `tenants/${tenant.id}/portal-links`, { key: ADMIN_KEY, raw: '{"ttlSeconds":' })).status).toBe(400);
    const day = await mint(tenant.id, { ttlSeconds: 86_400 });
    expect(Date.parse(day.expiresAt) - Date.now()).toBeGreaterThan(86_000_000);
    expect((await call('POST', 'tenants/01HZZZZZZZZZZZZZZZZZZZZZZZ/portal-links', { key: ADMIN_KEY, body: {} })).status).toBe(404);
    expect((await call('DELETE', 'tenants/01HZZZZZZZZZZZZZZZZZZZZZZZ/portal-links', { key: ADMIN_KEY })).status).toBe(404);
    expect((await call('POST', 'portal/session', { body: {} })).status).toBe(400);
  });

  it('a session acts as its tenant on the webhook routes: its own webhooks only, within its grants', async () => {
    const a = await newTenant('session A', { name: ['a-orders'] });
    const b = await newTenant('session B', { name: ['b-orders'] });
    const sessionA = await sessionOf((await mint(a.id)).token);
    const created = await call('POST', 'webhooks', { key: sessionA, body: { url: 'http://127.0.0.1:9/a', subscriptions: ['ping'], attributes: { name: 'a-orders' } } });
    expect(created.status).toBe(201);
    expect(created.body?.tenantId).toBe(a.id);
    const outside = await call('POST', 'webhooks', { key: sessionA, body: { url: 'http://127.0.0.1:9/b', subscriptions: ['ping'], attributes: { name: 'b-orders' } } });
    expect(outside.status).toBe(403);
    expect(outside.body?.message).toMatch(/b-orders/);
    const ofB = await call('POST', 'webhooks', { key: b.key, body: { url: 'http://127.0.0.1:9/b', subscriptions: ['ping'], attributes: { name: 'b-orders' } } });
    expect(ofB.status).toBe(201);

    const listed = await call('GET', 'webhooks', { key: sessionA });
    expect((listed.body?.items as Json[]).map((w) => w.id)).toEqual([created.body?.id]);
    // Another tenant's webhook does not exist for this session, on every route the portal uses.
    for (const [method, route] of [
      ['GET', ''],
      ['PATCH', ''],
      ['GET', '/stats'],
      ['GET', '/attempts'],
      ['POST', '/test'],
      ['POST', '/rotate-secret'],
    ] as const) {
      const answer = await call(method, `webhooks/${ofB.body?.id as string}${route}`, { key: sessionA, ...(method === 'PATCH' ? { body: { disabled: true } } : {}) });
      expect(`${method} ${route} ${answer.status}`).toBe(`${method} ${route} 404`);
    }
    expect((await call('GET', `webhooks/${ofB.body?.id as string}`, { key: ADMIN_KEY })).body?.disabled).toBe(false);
    expect((await call('GET', `webhooks/${created.body?.id as string}/stats`, { key: sessionA })).status).toBe(200);
    expect(await call('GET', 'portal/me', { key: sessionA })).toMatchObject({ status: 200, body: { tenantId: a.id, name: 'session A', routing: { name: ['a-orders'] } } });
    // The tenant key opens the same portal view; the admin key has none.
    expect(await call('GET', 'portal/me', { key: b.key })).toMatchObject({ status: 200, body: { tenantId: b.id } });
    expect((await call('GET', 'portal/me', { key: ADMIN_KEY })).status).toBe(403);
  });

  it('refuses tampered tokens: another tenant id under the old signature, a cut signature, a link used as a bearer', async () => {
    const a = await newTenant('tamper A', {});
    const b = await newTenant('tamper B', {});
    const { token } = await mint(a.id);
    const [body, signature] = token.slice('whpl_'.length).split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Json;
    const forged = `whpl_${Buffer.from(JSON.stringify({ ...claims, tid: b.id })).toString('base64url')}.${signature}`;
    for (const bad of [forged, `whpl_${body}.${signature.slice(0, -4)}`, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`]) {
      const answer = await exchange(bad);
      expect(answer.status).toBe(401);
      expect(answer.body?.message).toMatch(/portal link is not valid/);
    }
    // The link itself is not a bearer.
    expect((await call('GET', 'webhooks', { key: token })).status).toBe(401);
    const session = await sessionOf(token);
    const forgedSession = `whps_${Buffer.from(JSON.stringify({ ...claims, tid: b.id })).toString('base64url')}.${session.split('.')[1] as string}`;
    expect((await call('GET', 'webhooks', { key: forgedSession })).status).toBe(401);
    expect((await call('GET', 'portal/me', { key: session })).body?.tenantId).toBe(a.id);
  });

  it('an expired link opens nothing and says so', async () => {
    const tenant = await newTenant('expiry', {});
    const link = await mint(tenant.id, { ttlSeconds: 1 });
    const session = await sessionOf(link.token);
    // Expiry is whole seconds: wait until the expiry instant has passed.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(link.expiresAt) - Date.now()) + 1100));
    const again = await exchange(link.token);
    expect(again.status).toBe(401);
    expect(again.body?.message).toBe('This portal link has expired; ask for a new link');
    const used = await call('GET', 'webhooks', { key: session });
    expect(used.status).toBe(401);
    expect(used.body?.message).toBe('The portal session has expired; open a new portal link');
  });

  it('revocation ends every link and session of the tenant at once, survives a key rotation, and spares other tenants', async () => {
    const a = await newTenant('revoke A', {});
    const b = await newTenant('revoke B', {});
    const [linkA1, linkA2, linkB] = [await mint(a.id), await mint(a.id), await mint(b.id)];
    const [sessionA, sessionB] = [await sessionOf(linkA1.token), await sessionOf(linkB.token)];
    expect((await call('DELETE', `tenants/${a.id}/portal-links`, { key: sessionA })).status).toBe(401);
    expect((await call('DELETE', `tenants/${a.id}/portal-links`, { key: ADMIN_KEY })).status).toBe(204);
    const refused = await call('GET', 'webhooks', { key: sessionA });
    expect(refused).toMatchObject({ status: 401, body: { message: 'The portal session was revoked; open a new portal link' } });
    expect(await exchange(linkA2.token)).toMatchObject({ status: 401, body: { message: 'This portal link was revoked; ask for a new link' } });
    expect((await call('GET', 'webhooks', { key: sessionB })).status).toBe(200);
    // A key rotation rewrites the tenant row: the revocation stays, and a new link works.
    expect((await call('POST', `tenants/${a.id}/rotate-key`, { key: ADMIN_KEY })).status).toBe(200);
    expect((await call('GET', 'webhooks', { key: sessionA })).status).toBe(401);
    const fresh = await sessionOf((await mint(a.id)).token);
    expect((await call('GET', 'webhooks', { key: fresh })).status).toBe(200);
    // The tenant row's API view does not show the epoch.
    expect(Object.keys((await call('GET', `tenants/${a.id}`, { key: ADMIN_KEY })).body ?? {})).not.toContain('portalEpoch');
  });
});
