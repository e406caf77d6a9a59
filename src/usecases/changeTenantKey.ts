import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { type AppError, notFound } from '../domain/errors';
import { type Tenant, TenantId } from '../domain/tenant';
import { newKey, type TenantDeps, type TenantWithKey } from './createTenant';

export const decodeTenantId = (id: string): E.Either<AppError, TenantId> =>
  pipe(
    TenantId.decode(id),
    E.mapLeft(() => notFound(`No tenant with id "${id.slice(0, 64)}"`)),
  );

/** GET /api/tenants/{id} (admin). */
export const getTenant =
  (deps: Pick<TenantDeps, 'tenants'>) =>
  (id: string): TE.TaskEither<AppError, Tenant> =>
    pipe(TE.fromEither(decodeTenantId(id)), TE.chain(deps.tenants.get));

/** POST /api/tenants/{id}/rotate-key (admin): a new key; the old one stops working at once. */
export const rotateTenantKey =
  (deps: TenantDeps) =>
  (id: string): TE.TaskEither<AppError, TenantWithKey> =>
    pipe(
      TE.fromEither(decodeTenantId(id)),
      TE.chain((tenantId) => {
        const { apiKey, keyHash, keyCreatedAt } = newKey(deps);
        return pipe(
          deps.tenants.setKey(tenantId, { keyHash, keyCreatedAt }),
          TE.map((tenant) => ({ tenant, apiKey })),
        );
      }),
    );

/** DELETE /api/tenants/{id}/key (admin): the tenant keeps its webhooks but no key works for it. */
export const revokeTenantKey =
  (deps: Pick<TenantDeps, 'tenants'>) =>
  (id: string): TE.TaskEither<AppError, Tenant> =>
    pipe(
      TE.fromEither(decodeTenantId(id)),
      TE.chain((tenantId) => deps.tenants.setKey(tenantId, null)),
    );
