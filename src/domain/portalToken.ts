import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { RoutingGrants } from './routingGrants';
import { TenantId } from './tenant';
import { IsoTimestamp, withoutExtraFields } from './codecs';

/*
 * Subscriber portal tokens (docs/portal.md). A link token travels in a URL fragment and is exchanged
 * once by the page for a session token, the bearer the portal sends on every API call. Both are
 * `<prefix><base64url claims>.<base64url HMAC-SHA256>`, each kind under its own key, derived with
 * HKDF from ADMIN_API_KEY (no new setting; rotating the admin key ends every link and session).
 * Claims: tenant id (tenant-bound), expiry (expiry-bound), the tenant's portal epoch at minting
 * (revocable: DELETE .../portal-links bumps the epoch on the tenant row).
 */

export const PORTAL_LINK_PREFIX = 'whpl_';
export const PORTAL_SESSION_PREFIX = 'whps_';
export const DEFAULT_PORTAL_LINK_TTL_SECONDS = 3600;
export const MAX_PORTAL_LINK_TTL_SECONDS = 86_400;
/** Far longer than any token this code mints; a longer bearer is refused before any work. */
const MAX_TOKEN_CHARS = 512;

export type PortalTokenKind = 'link' | 'session';
const PREFIX: Readonly<Record<PortalTokenKind, string>> = { link: PORTAL_LINK_PREFIX, session: PORTAL_SESSION_PREFIX };

/** What a token asserts; short field names keep the URL short. */
export const PortalClaims = t.exact(t.type({ v: t.literal(1), tid: TenantId, ep: t.number, exp: t.number }), 'PortalClaims');
export type PortalClaims = t.TypeOf<typeof PortalClaims>;

/** POST /api/tenants/{id}/portal-links body. */
export const PortalLinkTtlSeconds = t.refinement(
  t.number,
  (n) => Number.isInteger(n) && n >= 1 && n <= MAX_PORTAL_LINK_TTL_SECONDS,
  `an integer number of seconds from 1 to ${MAX_PORTAL_LINK_TTL_SECONDS}`,
);
export const PortalLinkRequest = withoutExtraFields(t.partial({ ttlSeconds: PortalLinkTtlSeconds }), ['ttlSeconds'], 'PortalLinkRequest');
export type PortalLinkRequest = t.TypeOf<typeof PortalLinkRequest>;

/** POST /api/portal/session body. */
export const PortalSessionRequest = withoutExtraFields(t.type({ token: t.string }), ['token'], 'PortalSessionRequest');
export type PortalSessionRequest = t.TypeOf<typeof PortalSessionRequest>;

/** The two signing keys, derived from one secret; the `info` strings separate them (a link is never a session). */
export type PortalKeys = Readonly<Record<PortalTokenKind, Buffer>>;
export const portalKeys = (secret: string): PortalKeys => {
  const derive = (kind: PortalTokenKind) => Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'webhook-dispatcher portal', `portal-${kind}-v1`, 32));
  return { link: derive('link'), session: derive('session') };
};

let lastKeys: { secret: string; keys: PortalKeys } | undefined;
/** The same keys for the same secret, derived once (every session request needs them). */
export const portalKeysOf = (secret: string): PortalKeys => {
  if (lastKeys?.secret !== secret) lastKeys = { secret, keys: portalKeys(secret) };
  return lastKeys.keys;
};

const mac = (key: Buffer, kind: PortalTokenKind, body: string): Buffer => createHmac('sha256', key).update(`${PREFIX[kind]}${body}`, 'utf8').digest();

export const signPortalToken = (input: { keys: PortalKeys; kind: PortalTokenKind; claims: PortalClaims }): string => {
  const body = Buffer.from(JSON.stringify(PortalClaims.encode(input.claims)), 'utf8').toString('base64url');
  return `${PREFIX[input.kind]}${body}.${mac(input.keys[input.kind], input.kind, body).toString('base64url')}`;
};

/** Why a token is refused; only `Malformed` is said for anything not signed by us. */
export type PortalTokenProblem = 'Malformed' | 'Expired';

const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The claims of a token of this kind that we signed and that has not expired at `nowSeconds`.
 * The MAC is checked (constant time) before the claims are parsed; the epoch is the caller's check.
 */
export const verifyPortalToken = (input: { keys: PortalKeys; kind: PortalTokenKind; token: string; nowSeconds: number }): E.Either<PortalTokenProblem, PortalClaims> => {
  const { token, kind } = input;
  if (token.length > MAX_TOKEN_CHARS || !token.startsWith(PREFIX[kind])) return E.left('Malformed');
  const [body, signature, ...rest] = token.slice(PREFIX[kind].length).split('.');
  if (body === undefined || signature === undefined || rest.length > 0 || !B64URL.test(body) || !B64URL.test(signature)) return E.left('Malformed');
  const expected = mac(input.keys[kind], kind, body);
  const given = Buffer.from(signature, 'base64url');
  // Only the encoding this code issues: base64url ignores a last character's spare bits, so two texts decode alike.
  if (given.toString('base64url') !== signature || given.length !== expected.length || !timingSafeEqual(given, expected)) return E.left('Malformed');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return E.left('Malformed');
  }
  return pipe(
    PortalClaims.decode(parsed),
    E.mapLeft((): PortalTokenProblem => 'Malformed'),
    E.chain((claims) => (claims.exp > input.nowSeconds ? E.right(claims) : E.left<PortalTokenProblem, PortalClaims>('Expired'))),
  );
};

/* Wire codecs of the answers (OpenAPI; the HTTP test checks real answers against them). */
export const PortalLink = t.type({ url: t.string, expiresAt: IsoTimestamp }, 'PortalLink');
export type PortalLink = t.TypeOf<typeof PortalLink>;
export const PortalSessionView = t.type({ token: t.string, tenantId: TenantId, expiresAt: IsoTimestamp }, 'PortalSessionView');
export type PortalSessionView = t.TypeOf<typeof PortalSessionView>;
export const PortalMe = t.type({ tenantId: TenantId, name: t.string, routing: RoutingGrants }, 'PortalMe');
export type PortalMe = t.TypeOf<typeof PortalMe>;
