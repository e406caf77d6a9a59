import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { RoutingGrants } from '../domain/routingGrants';
import type { KeyHash, Tenant, TenantId } from '../domain/tenant';

export type TenantPage = { readonly items: readonly Tenant[]; readonly continuationToken?: string };

export type TenantStore = {
  /** Stores a tenant and, atomically, the lookup row of its key hash. */
  create(tenant: Tenant): TE.TaskEither<AppError, Tenant>;
  get(id: TenantId): TE.TaskEither<AppError, Tenant>;
  list(page: { limit: number; continuationToken?: string }): TE.TaskEither<AppError, TenantPage>;
  /** Replaces the key (or removes it, with null): the old key stops working in the same transaction. */
  setKey(id: TenantId, key: { keyHash: KeyHash; keyCreatedAt: string } | null): TE.TaskEither<AppError, Tenant>;
  /**
   * Replaces the routing grants (guarded by the row's ETag). With `onlyIfUnset`, a tenant that has
   * grants already keeps them and is returned as it is (another instance migrated it first).
   */
  setRouting(id: TenantId, routing: RoutingGrants, options?: { onlyIfUnset?: boolean }): TE.TaskEither<AppError, Tenant>;
  /** Adds one to the tenant's portal epoch (guarded by the row's ETag): every portal link and session minted before stops. */
  bumpPortalEpoch(id: TenantId): TE.TaskEither<AppError, Tenant>;
  /** The tenant holding the key with this hash; undefined when no tenant does (one point read). */
  findByKeyHash(hash: KeyHash): TE.TaskEither<AppError, TenantId | undefined>;
  /** Removes the tenant and every key row naming it: no key of it works afterwards. NotFound when there is no such tenant. */
  delete(id: TenantId): TE.TaskEither<AppError, void>;
};
