import { HttpRequest } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { memoryTenantStore } from '../../adapters/__tests__/memory/memoryTenantStore';
import { PORTAL_SESSION_PREFIX, portalKeys, signPortalToken, verifyPortalToken } from '../../domain/portalToken';
import { hashKey, type Tenant, type TenantId } from '../../domain/tenant';
import { authenticate } from '../../functions/lib/principal';
import { expectLeft as left, expectRight as right } from '../../__tests__/taskEither';
import { mintPortalLink, openPortalSession, portalSessionPrincipal, revokePortalLinks } from '../portalLinks';

/*
 * Portal links and sessions (docs/portal.md): what a holder of a link can and cannot do with it.
 * Tokens are bound to a tenant, an expiry and the tenant's portal epoch, and signed under keys only
 * the admin key derives.
 */

const ADMIN_KEY = 'portal-unit-admin-key-0123456789abcdef';
const TENANT_A = '01HZZZZZZZZZZZZZZZZZZZZZZA' as TenantId;
const TENANT_B = '01HZZZZZZZZZZZZZZZZZZZZZZB' as TenantId;
const tenant = (id: TenantId, name: string): Tenant => ({ id, name, keyHash: hashKey(`whtk_${name}`), keyCreatedAt: '2024-05-01T10:00:00.000Z', createdAt: '2024-05-01T10:00:00.000Z', routing: {} });

const setup = () => {
  const tenants = memoryTenantStore();
  tenants.rows.set(TENANT_A, tenant(TENANT_A, 'alpha'));
  tenants.rows.set(TENANT_B, tenant(TENANT_B, 'beta'));
  let time = Date.parse('2024-05-01T10:00:00.000Z');
  const clock = { now: () => new Date(time), advance: (seconds: number) => void (time += seconds * 1000) };
  const deps = { tenants, clock, keys: portalKeys(ADMIN_KEY) };
  const linkToken = async (id: TenantId = TENANT_A, body: unknown = {}) => {
    const link = await right(mintPortalLink(deps)({ id, body, origin: 'https://dispatcher.example' }));
    return { link, token: decodeURIComponent(/#token=(.+)$/.exec(link.url)?.[1] ?? '') };
  };
  return { tenants, clock, deps, linkToken };
};

const messageOf = (e: unknown): string => (e as { message: string }).message;

describe('portal links', () => {
  it('mints a link to /api/portal with the token in the fragment only, expiring after ttlSeconds (default one hour)', async () => {
    const { linkToken } = setup();
    const { link, token } = await linkToken();
    expect(link.url.startsWith('https://dispatcher.example/api/portal#token=whpl_')).toBe(true);
    expect(new URL(link.url).search).toBe('');
    expect(link.expiresAt).toBe('2024-05-01T11:00:00.000Z');
    expect(token.length).toBeGreaterThan(40);
    const day = await linkToken(TENANT_A, { ttlSeconds: 86_400 });
    expect(day.link.expiresAt).toBe('2024-05-02T10:00:00.000Z');
  });

  it('refuses a TTL over 24 h, under 1 s, fractional or unknown fields (400 naming the field), and an unknown tenant (404)', async () => {
    const { deps } = setup();
    for (const body of [{ ttlSeconds: 86_401 }, { ttlSeconds: 0 }, { ttlSeconds: 1.5 }, { ttlSeconds: '60' }, { ttl: 60 }, []]) {
      const e = (await left(mintPortalLink(deps)({ id: TENANT_A, body, origin: 'https://x' }))) as { kind: string; details: string[] };
      expect(e.kind).toBe('Invalid');
      expect(e.details.join(' ')).toMatch(Array.isArray(body) ? /must be an object/ : /ttl/);
    }
    expect(await left(mintPortalLink(deps)({ id: '01HZZZZZZZZZZZZZZZZZZZZZZC', body: {}, origin: 'https://x' }))).toMatchObject({ kind: 'NotFound' });
    expect(await left(mintPortalLink(deps)({ id: 'not-an-id', body: {}, origin: 'https://x' }))).toMatchObject({ kind: 'NotFound' });
  });

  it('exchanges a link for a session bearer that acts as that tenant, and ends when the link would', async () => {
    const { deps, linkToken, clock } = setup();
    const { link, token } = await linkToken(TENANT_A, { ttlSeconds: 600 });
    const session = await right(openPortalSession(deps)({ token }));
    expect(session.tenantId).toBe(TENANT_A);
    expect(session.expiresAt).toBe(link.expiresAt);
    expect(session.token.startsWith(PORTAL_SESSION_PREFIX)).toBe(true);
    expect(await right(portalSessionPrincipal(deps)(session.token))).toEqual({ kind: 'Tenant', tenantId: TENANT_A });
    clock.advance(600);
    expect(messageOf(await left(portalSessionPrincipal(deps)(session.token)))).toMatch(/session has expired/);
    expect(messageOf(await left(openPortalSession(deps)({ token })))).toMatch(/link has expired/);
  });

  it('refuses a link used as a bearer, and a session offered as a link: each kind has its own key', async () => {
    const { deps, linkToken } = setup();
    const { token } = await linkToken();
    const session = await right(openPortalSession(deps)({ token }));
    expect(await left(portalSessionPrincipal(deps)(token))).toMatchObject({ kind: 'Unauthorized' });
    expect(await left(openPortalSession(deps)({ token: session.token }))).toMatchObject({ kind: 'Unauthorized' });
    // The same claims re-prefixed as the other kind do not verify either.
    expect(await left(portalSessionPrincipal(deps)(token.replace(/^whpl_/, PORTAL_SESSION_PREFIX)))).toMatchObject({ kind: 'Unauthorized' });
  });

  it('refuses a tampered token: another tenant id, a later expiry, a cut signature, or another key', async () => {
    const { deps, linkToken } = setup();
    const { token } = await linkToken();
    const [body, signature] = token.slice('whpl_'.length).split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = (c: Record<string, unknown>) => `whpl_${Buffer.from(JSON.stringify(c)).toString('base64url')}.${signature}`;
    for (const bad of [forged({ ...claims, tid: TENANT_B }), forged({ ...claims, exp: (claims.exp as number) + 3600 }), `whpl_${body}.${signature.slice(0, -2)}`, `whpl_${body}`, `${token}x`, '']) {
      const e = await left(openPortalSession(deps)({ token: bad }));
      expect(e).toMatchObject({ kind: 'Unauthorized' });
      expect(messageOf(e)).toMatch(/link is not valid/);
    }
    const otherKeys = portalKeys('another-admin-key-0123456789abcdef0123');
    const minted = signPortalToken({ keys: otherKeys, kind: 'link', claims: claims as never });
    expect(messageOf(await left(openPortalSession(deps)({ token: minted })))).toMatch(/link is not valid/);
    expect(E.isRight(verifyPortalToken({ keys: otherKeys, kind: 'link', token: minted, nowSeconds: 0 }))).toBe(true);
  });

  it('refuses a signature re-spelled with the same bytes (a last character whose spare bits differ): only the issued text is a token', async () => {
    const { deps, linkToken } = setup();
    const { token } = await linkToken();
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = token.slice(-1);
    // 32 bytes take 43 characters: the last one carries 4 bits, its lowest 2 are spare.
    const respelled = `${token.slice(0, -1)}${ALPHABET[ALPHABET.indexOf(last) ^ 1]}`;
    const signatureOf = (t: string) => Buffer.from(t.split('.')[1] as string, 'base64url');
    expect(signatureOf(respelled).equals(signatureOf(token))).toBe(true);
    expect(messageOf(await left(openPortalSession(deps)({ token: respelled })))).toMatch(/link is not valid/);
  });

  it('refuses a body without a token with a 400, not a 401', async () => {
    const { deps } = setup();
    expect(await left(openPortalSession(deps)({}))).toMatchObject({ kind: 'Invalid' });
    expect(await left(openPortalSession(deps)({ token: 'x', extra: 1 }))).toMatchObject({ kind: 'Invalid' });
  });

  it('revokes every link and session of one tenant at once, and only of that tenant', async () => {
    const { deps, linkToken, tenants } = setup();
    const a1 = await linkToken(TENANT_A);
    const a2 = await linkToken(TENANT_A);
    const b = await linkToken(TENANT_B);
    const sessionA = await right(openPortalSession(deps)({ token: a1.token }));
    const sessionB = await right(openPortalSession(deps)({ token: b.token }));
    await right(revokePortalLinks({ tenants })(TENANT_A));
    expect(messageOf(await left(openPortalSession(deps)({ token: a2.token })))).toMatch(/link was revoked/);
    expect(messageOf(await left(portalSessionPrincipal(deps)(sessionA.token)))).toMatch(/session was revoked/);
    expect(await right(portalSessionPrincipal(deps)(sessionB.token))).toEqual({ kind: 'Tenant', tenantId: TENANT_B });
    // A link minted after the revocation works.
    const fresh = await linkToken(TENANT_A);
    expect((await right(openPortalSession(deps)({ token: fresh.token }))).tenantId).toBe(TENANT_A);
    expect(await left(revokePortalLinks({ tenants })('01HZZZZZZZZZZZZZZZZZZZZZZC'))).toMatchObject({ kind: 'NotFound' });
  });

  it('ends the sessions of a deleted tenant', async () => {
    const { deps, linkToken, tenants } = setup();
    const session = await right(openPortalSession(deps)({ token: (await linkToken(TENANT_A)).token }));
    tenants.rows.delete(TENANT_A);
    expect(await left(portalSessionPrincipal(deps)(session.token))).toMatchObject({ kind: 'Unauthorized' });
  });

  it('makes every API route take a session bearer as the tenant, never as the admin (authenticate)', async () => {
    const { tenants } = setup();
    // Sessions are checked against the real clock in authenticate: mint with it.
    const deps = { tenants, clock: { now: () => new Date() }, keys: portalKeys(ADMIN_KEY) };
    const link = await right(mintPortalLink(deps)({ id: TENANT_A, body: {}, origin: 'https://x' }));
    const session = await right(openPortalSession(deps)({ token: decodeURIComponent(link.url.split('#token=')[1] ?? '') }));
    const request = (bearer: string) => new HttpRequest({ url: 'https://x/api/webhooks', method: 'GET', headers: { authorization: `Bearer ${bearer}` } });
    const auth = authenticate({ adminApiKey: ADMIN_KEY, tenants });
    expect(await right(auth(request(session.token)))).toEqual({ kind: 'Tenant', tenantId: TENANT_A });
    expect(await left(auth(request(`${session.token.slice(0, -3)}abc`)))).toMatchObject({ kind: 'Unauthorized' });
    // Under another admin key the same session is nobody.
    expect(await left(authenticate({ adminApiKey: `${ADMIN_KEY}-rotated`, tenants })(request(session.token)))).toMatchObject({ kind: 'Unauthorized' });
  });
});
