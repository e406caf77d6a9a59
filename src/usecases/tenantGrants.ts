import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import { grantsFromAttributes, RoutingGrants } from '../domain/routingGrants';
import type { Tenant, TenantId } from '../domain/tenant';
import type { Webhook } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { TenantGrants } from '../ports/tenantGrants';
import type { TenantStore } from '../ports/tenantStore';
import type { WebhookStore } from '../ports/webhookStore';
import { decodeTenantId } from './changeTenantKey';
import { decodeOrInvalid } from './decode';

/* Routing grants: initialisation of tenants stored before them, the admin's replace, and the fan-out's cached view. */

export type GrantsDeps = {
  readonly tenants: Pick<TenantStore, 'get' | 'setRouting' | 'list'>;
  readonly webhooks: Pick<WebhookStore, 'list'>;
  /** One line per initialised tenant: its id and counts, never the values. */
  readonly log: (line: string) => void;
};

const LIST_PAGE = 100;

const webhooksOf = (webhooks: GrantsDeps['webhooks'], tenantId: TenantId): TE.TaskEither<AppError, Webhook[]> => {
  const step = (token: string | undefined, acc: Webhook[]): TE.TaskEither<AppError, Webhook[]> =>
    pipe(
      webhooks.list({ limit: LIST_PAGE, tenantId, ...(token === undefined ? {} : { continuationToken: token }) }),
      TE.chain((page) => {
        const all = [...acc, ...page.items];
        return page.continuationToken === undefined ? TE.right(all) : step(page.continuationToken, all);
      }),
    );
  return step(undefined, []);
};

const TENANT_PAGE = 1000;

/** Every tenant, one query per 1000 (they share one partition). */
const allTenants = (tenants: Pick<TenantStore, 'list'>): TE.TaskEither<AppError, Tenant[]> => {
  const step = (token: string | undefined, acc: Tenant[]): TE.TaskEither<AppError, Tenant[]> =>
    pipe(
      tenants.list({ limit: TENANT_PAGE, ...(token === undefined ? {} : { continuationToken: token }) }),
      TE.chain((p) => (p.continuationToken === undefined ? TE.right([...acc, ...p.items]) : step(p.continuationToken, [...acc, ...p.items]))),
    );
  return step(undefined, []);
};

/** The other tenants that hold any of these values (a value two projects route on before grants is worth a look). */
const sharedWith = (routing: RoutingGrants, tenantId: string, others: readonly Tenant[]): { values: number; tenants: string[] } => {
  const holders = new Set<string>();
  let values = 0;
  for (const [attribute, list] of Object.entries(routing))
    for (const value of list) {
      const by = others.filter((o) => o.id !== tenantId && o.routing?.[attribute]?.includes(value) === true).map((o) => o.id as string);
      if (by.length > 0) values += 1;
      by.forEach((id) => holders.add(id));
    }
  return { values, tenants: [...holders] };
};

/**
 * Migration: a tenant stored before grants (no `routing`) gets the values its webhooks use, written
 * once (ETag-guarded; a concurrent initialisation elsewhere wins and is kept). Its webhooks keep
 * receiving what they received, and nothing else: no silent stop. One log line per tenant, with
 * counts and, when other tenants hold some of the same values, their ids: a registration that
 * leaked before grants is named, not silently carried on. `others` are the tenants known so far
 * (read when not given).
 */
export const ensureGrants =
  (deps: GrantsDeps) =>
  (tenant: Tenant, others?: readonly Tenant[]): TE.TaskEither<AppError, Tenant> =>
    tenant.routing !== undefined
      ? TE.right(tenant)
      : pipe(
          TE.Do,
          TE.apS('webhooks', webhooksOf(deps.webhooks, tenant.id)),
          TE.apS('others', others === undefined ? allTenants(deps.tenants) : TE.right([...others])),
          TE.chain(({ webhooks, others: known }) => {
            const routing = grantsFromAttributes(webhooks.map((w) => w.attributes));
            return pipe(
              deps.tenants.setRouting(tenant.id, routing, { onlyIfUnset: true }),
              TE.chainFirstIOK((stored) => () => {
                if (stored.routing !== routing) return;
                const counts = Object.entries(routing).map(([attribute, values]) => `${attribute}: ${values.length}`);
                const shared = sharedWith(routing, tenant.id, known);
                const note = shared.values === 0 ? '' : `; ${shared.values} of these values are also granted to tenant(s) ${shared.tenants.join(', ')}: review with GET /api/tenants/{id}`;
                deps.log(`tenant ${tenant.id}: routing grants initialised from ${webhooks.length} webhooks (${counts.length === 0 ? 'no routing values' : counts.join(', ')})${note}`);
              }),
            );
          }),
        );

/** The grants a tenant holds, read from storage now (registration checks take no cached answer). */
export const currentGrants =
  (deps: GrantsDeps): TenantGrants =>
  (tenantId) =>
    pipe(
      TE.fromEither(decodeTenantId(tenantId)),
      TE.chain(deps.tenants.get),
      TE.chain(ensureGrants(deps)),
      TE.map((tenant) => tenant.routing),
      TE.orElse((e) => (e.kind === 'NotFound' ? TE.right(undefined) : TE.left(e))),
    );

/** GET /api/tenants/{id}: the tenant with its grants (initialised first if it predates them). */
export const getTenantWithGrants =
  (deps: GrantsDeps) =>
  (id: string): TE.TaskEither<AppError, Tenant> =>
    pipe(TE.fromEither(decodeTenantId(id)), TE.chain(deps.tenants.get), TE.chain(ensureGrants(deps)));

/** PUT /api/tenants/{id}/routing (admin): replaces the grants; `onChange` drops this instance's cache at once. */
export const setTenantRouting =
  (deps: Pick<GrantsDeps, 'tenants'> & { readonly onChange?: () => void }) =>
  (request: { id: string; body: unknown }): TE.TaskEither<AppError, Tenant> =>
    pipe(
      TE.fromEither(
        pipe(
          decodeTenantId(request.id),
          E.chain((id) =>
            pipe(
              decodeOrInvalid(RoutingGrants, request.body, { what: 'The routing' }),
              E.map((routing) => ({ id, routing })),
            ),
          ),
        ),
      ),
      TE.chain(({ id, routing }) => deps.tenants.setRouting(id, routing)),
      TE.chainFirstIOK(() => () => deps.onChange?.()),
    );

export type GrantsCache = { readonly grantsOf: TenantGrants; readonly invalidate: () => void };

/**
 * Every tenant's grants, loaded by paging the tenant partition (one query per 1000 tenants) and
 * kept `ttlSeconds`: that is how long a grant change made on another instance takes to reach this
 * one's fan-out (docs/tenants.md). Concurrent callers share one load; a failed load is not kept.
 */
export const grantsCache = (deps: GrantsDeps & { readonly clock: Clock; readonly ttlSeconds: number }): GrantsCache => {
  let loaded: { at: number; grants: ReadonlyMap<string, RoutingGrants | undefined> } | undefined;
  let loading: { generation: number; result: Promise<E.Either<AppError, ReadonlyMap<string, RoutingGrants | undefined>>> } | undefined;
  // A write on this instance bumps the generation: a load that began before it is not kept.
  let generation = 0;

  // Tenants initialised in this load are compared with those before them, already initialised.
  const ensureAll =
    (tenants: readonly Tenant[]): TE.TaskEither<AppError, Tenant[]> =>
    async () => {
      const current = [...tenants];
      for (let i = 0; i < current.length; i++) {
        const ensured = await ensureGrants(deps)(current[i] as Tenant, current)();
        if (E.isLeft(ensured)) return ensured;
        current[i] = ensured.right;
      }
      return E.right(current);
    };
  // Built per load: a port may read when the task is built, not only when it runs.
  const load = (): Promise<E.Either<AppError, ReadonlyMap<string, RoutingGrants | undefined>>> =>
    pipe(
      allTenants(deps.tenants),
      TE.chain(ensureAll),
      TE.map((tenants): ReadonlyMap<string, RoutingGrants | undefined> => new Map(tenants.map((t) => [t.id as string, t.routing]))),
    )();

  const fresh = (): ReadonlyMap<string, RoutingGrants | undefined> | undefined => (loaded !== undefined && deps.clock.now().getTime() - loaded.at < deps.ttlSeconds * 1000 ? loaded.grants : undefined);

  const grantsOf: TenantGrants = (tenantId) => async () => {
    const cached = fresh();
    if (cached !== undefined) return E.right(cached.get(tenantId));
    const started = generation;
    const at = deps.clock.now().getTime();
    if (loading === undefined || loading.generation !== started) {
      const current = { generation: started, result: load() };
      loading = current;
      void current.result.finally(() => {
        if (loading === current) loading = undefined;
      });
    }
    const result = await loading.result;
    if (E.isLeft(result)) return result;
    if (started === generation && (loaded === undefined || loaded.at <= at)) loaded = { at, grants: result.right };
    return E.right(result.right.get(tenantId));
  };
  return {
    grantsOf,
    invalidate: () => {
      generation += 1;
      loaded = undefined;
    },
  };
};
