import * as A from 'fp-ts/Array';
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
  readonly tenants: Pick<TenantStore, 'get' | 'setRouting'>;
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

/**
 * Migration: a tenant stored before grants (no `routing`) gets the values its webhooks use, written
 * once (ETag-guarded; a concurrent initialisation elsewhere wins and is kept). Its webhooks keep
 * receiving what they received, and nothing else: no silent leak, no silent stop.
 */
export const ensureGrants =
  (deps: GrantsDeps) =>
  (tenant: Tenant): TE.TaskEither<AppError, Tenant> =>
    tenant.routing !== undefined
      ? TE.right(tenant)
      : pipe(
          webhooksOf(deps.webhooks, tenant.id),
          TE.chain((webhooks) => {
            const routing = grantsFromAttributes(webhooks.map((w) => w.attributes));
            return pipe(
              deps.tenants.setRouting(tenant.id, routing, { onlyIfUnset: true }),
              TE.chainFirstIOK((stored) => () => {
                if (stored.routing === routing) {
                  const counts = Object.entries(routing).map(([attribute, values]) => `${attribute}: ${values.length}`);
                  deps.log(`tenant ${tenant.id}: routing grants initialised from ${webhooks.length} webhooks (${counts.length === 0 ? 'no routing values' : counts.join(', ')})`);
                }
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
          E.chain((id) => pipe(decodeOrInvalid(RoutingGrants, request.body, { what: 'The routing' }), E.map((routing) => ({ id, routing })))),
        ),
      ),
      TE.chain(({ id, routing }) => deps.tenants.setRouting(id, routing)),
      TE.chainFirstIOK(() => () => deps.onChange?.()),
    );

export type GrantsCache = { readonly grantsOf: TenantGrants; readonly invalidate: () => void };

const TENANT_PAGE = 1000;

/**
 * Every tenant's grants, loaded by paging the tenant partition (one query per 1000 tenants) and
 * kept `ttlSeconds`: that is how long a grant change made on another instance takes to reach this
 * one's fan-out (docs/tenants.md). Concurrent callers share one load; a failed load is not kept.
 */
export const grantsCache = (deps: GrantsDeps & { readonly tenants: Pick<TenantStore, 'list'>; readonly clock: Clock; readonly ttlSeconds: number }): GrantsCache => {
  let loaded: { at: number; grants: ReadonlyMap<string, RoutingGrants | undefined> } | undefined;
  let loading: { generation: number; result: Promise<E.Either<AppError, ReadonlyMap<string, RoutingGrants | undefined>>> } | undefined;
  // A write on this instance bumps the generation: a load that began before it is not kept.
  let generation = 0;

  const page = (token: string | undefined, acc: Tenant[]): TE.TaskEither<AppError, Tenant[]> =>
    pipe(
      deps.tenants.list({ limit: TENANT_PAGE, ...(token === undefined ? {} : { continuationToken: token }) }),
      TE.chain((p) => (p.continuationToken === undefined ? TE.right([...acc, ...p.items]) : page(p.continuationToken, [...acc, ...p.items]))),
    );
  // Built per load: a port may read when the task is built, not only when it runs.
  const load = (): Promise<E.Either<AppError, ReadonlyMap<string, RoutingGrants | undefined>>> =>
    pipe(
      page(undefined, []),
      TE.chain(A.traverse(TE.ApplicativeSeq)(ensureGrants(deps))),
      TE.map((tenants): ReadonlyMap<string, RoutingGrants | undefined> => new Map(tenants.map((t) => [t.id as string, t.routing]))),
    )();

  const fresh = (): ReadonlyMap<string, RoutingGrants | undefined> | undefined =>
    loaded !== undefined && deps.clock.now().getTime() - loaded.at < deps.ttlSeconds * 1000 ? loaded.grants : undefined;

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
