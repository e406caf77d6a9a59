import { createHash, timingSafeEqual } from 'node:crypto';
import * as t from 'io-ts';
import { IsoTimestamp, withoutExtraFields } from './codecs';
import { ULID_PATTERN } from './ids';
import { checkedString, patternString } from './strings';
import { RoutingGrants } from './routingGrants';

/*
 * Tenants: the integrated projects that share one dispatcher. Each holds one API key that manages
 * only its own webhooks. Keys are shown once (create, rotate) and stored only as a SHA-256 hash:
 * a key is 32 random bytes, so a hash without salt or stretching cannot be reversed or guessed.
 */

export const TENANT_KEY_PREFIX = 'whtk_';
export const TENANT_KEY_BYTES = 32;
export const MAX_TENANT_NAME_LENGTH = 128;

/** Tenant ids are ULIDs, like webhook ids. */
export const TenantId = patternString<'TenantId'>('a tenant id', ULID_PATTERN);
export type TenantId = t.TypeOf<typeof TenantId>;

/** Hex SHA-256 of a key: what storage holds, and the row key of the key's lookup row. */
export const KeyHash = patternString<'KeyHash'>('a key hash', /^[0-9a-f]{64}$/);
export type KeyHash = t.TypeOf<typeof KeyHash>;

export const TenantName = checkedString(
  `a name of 1 to ${MAX_TENANT_NAME_LENGTH} visible characters`,
  (s) => s.length >= 1 && s.length <= MAX_TENANT_NAME_LENGTH && [...s].every((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f),
);

export const Tenant = t.intersection(
  [
    t.type({
      id: TenantId,
      name: TenantName,
      /** Absent while the tenant has no key (revoked). */
      keyHash: t.union([KeyHash, t.null]),
      keyCreatedAt: t.union([t.string, t.null]),
      createdAt: t.string,
    }),
    // Absent on tenants stored before routing grants: the first read initialises them (usecases/tenantGrants.ts).
    // portalEpoch: absent = 0; DELETE /api/tenants/{id}/portal-links bumps it, ending every portal link and session (docs/portal.md).
    t.partial({ routing: RoutingGrants, portalEpoch: t.number }),
  ],
  'Tenant',
);
export type Tenant = t.TypeOf<typeof Tenant>;

/** What the tenant API shows: never the hash (it would let anyone test guesses offline). */
export const TenantView = t.intersection(
  [t.type({ id: TenantId, name: t.string, hasKey: t.boolean, createdAt: IsoTimestamp }), t.partial({ keyCreatedAt: IsoTimestamp, routing: RoutingGrants })],
  'TenantView',
);
export type TenantView = t.TypeOf<typeof TenantView>;
export const tenantView = (tenant: Tenant): TenantView => ({
  id: tenant.id,
  name: tenant.name,
  hasKey: tenant.keyHash !== null,
  ...(tenant.keyCreatedAt === null ? {} : { keyCreatedAt: tenant.keyCreatedAt }),
  createdAt: tenant.createdAt,
  ...(tenant.routing === undefined ? {} : { routing: tenant.routing }),
});

export const TenantInput = withoutExtraFields(t.intersection([t.type({ name: TenantName }), t.partial({ routing: RoutingGrants })]), ['name', 'routing'], 'TenantInput');
export type TenantInput = t.TypeOf<typeof TenantInput>;

/** A fresh tenant key from random bytes (the caller supplies them, so tests can fix them). */
export const tenantKey = (random: Uint8Array): string => {
  if (random.length < TENANT_KEY_BYTES) throw new Error(`a tenant key needs ${TENANT_KEY_BYTES} random bytes`);
  return TENANT_KEY_PREFIX + Buffer.from(random).toString('base64url');
};

export const hashKey = (key: string): KeyHash => createHash('sha256').update(key, 'utf8').digest('hex') as KeyHash;

/** Constant-time: a stored hash against the hash of a presented key. */
export const sameHash = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Who is calling the registry: the admin sees every webhook, a tenant only its own. */
export type Principal = { readonly kind: 'Admin' } | { readonly kind: 'Tenant'; readonly tenantId: TenantId };
export const ADMIN: Principal = { kind: 'Admin' };

/** True when the principal may see and change a resource owned by `ownerTenantId` (undefined = the admin's). */
export const mayAccess = (principal: Principal, ownerTenantId: string | undefined): boolean => principal.kind === 'Admin' || principal.tenantId === ownerTenantId;
