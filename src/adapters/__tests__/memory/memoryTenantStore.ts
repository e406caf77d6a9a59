import * as TE from 'fp-ts/TaskEither';
import { type AppError, conflict, invalid, notFound } from '../../../domain/errors';
import type { Tenant, TenantId } from '../../../domain/tenant';
import type { TenantStore } from '../../../ports/tenantStore';

/** The TenantStore contract in memory, for unit tests; `failWith` makes every call fail. */
export type MemoryTenantStore = TenantStore & { readonly rows: Map<string, Tenant>; failWith?: AppError };

export const memoryTenantStore = (): MemoryTenantStore => {
  const rows = new Map<string, Tenant>();
  const store: MemoryTenantStore = {
    rows,
    create: (tenant) => (store.failWith ? TE.left(store.failWith) : rows.has(tenant.id) ? TE.left(conflict(`tenant ${tenant.id} exists`)) : (rows.set(tenant.id, tenant), TE.right(tenant))),
    get: (id) => {
      if (store.failWith) return TE.left(store.failWith);
      const found = rows.get(id);
      return found === undefined ? TE.left(notFound(`No tenant with id "${id}"`)) : TE.right(found);
    },
    list: ({ limit, continuationToken }) => {
      if (store.failWith) return TE.left(store.failWith);
      if (continuationToken !== undefined && !/^[0-9A-Z]{26}$/.test(continuationToken)) return TE.left(invalid('The query is invalid', ['continuationToken: is not a token this API issued']));
      const rest = [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).filter((t) => continuationToken === undefined || t.id > continuationToken);
      const items = rest.slice(0, limit);
      const last = items[items.length - 1];
      return TE.right(rest.length > limit && last !== undefined ? { items, continuationToken: last.id } : { items });
    },
    setKey: (id, key) => {
      if (store.failWith) return TE.left(store.failWith);
      const found = rows.get(id);
      if (found === undefined) return TE.left(notFound(`No tenant with id "${id}"`));
      const next: Tenant = { ...found, keyHash: key?.keyHash ?? null, keyCreatedAt: key?.keyCreatedAt ?? null };
      rows.set(id, next);
      return TE.right(next);
    },
    setRouting: (id, routing, options) => {
      if (store.failWith) return TE.left(store.failWith);
      const found = rows.get(id);
      if (found === undefined) return TE.left(notFound(`No tenant with id "${id}"`));
      if (options?.onlyIfUnset === true && found.routing !== undefined) return TE.right(found);
      const next: Tenant = { ...found, routing };
      rows.set(id, next);
      return TE.right(next);
    },
    bumpPortalEpoch: (id) => {
      if (store.failWith) return TE.left(store.failWith);
      const found = rows.get(id);
      if (found === undefined) return TE.left(notFound(`No tenant with id "${id}"`));
      const next: Tenant = { ...found, portalEpoch: (found.portalEpoch ?? 0) + 1 };
      rows.set(id, next);
      return TE.right(next);
    },
    findByKeyHash: (hash) => (store.failWith ? TE.left(store.failWith) : TE.right([...rows.values()].find((t) => t.keyHash === hash)?.id as TenantId | undefined)),
    delete: (id) => (store.failWith ? TE.left(store.failWith) : rows.delete(id) ? TE.right(undefined) : TE.left(notFound(`No tenant with id "${id}"`))),
  };
  return store;
};
