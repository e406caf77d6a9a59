import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import { ULID_RANDOM_BYTES, ulid } from '../domain/ids';
import { hashKey, type Tenant, TENANT_KEY_BYTES, type TenantId, TenantInput, tenantKey } from '../domain/tenant';
import type { Clock } from '../ports/clock';
import type { RandomBytes } from '../ports/random';
import type { TenantStore } from '../ports/tenantStore';
import { decodeOrInvalid } from './decode';

export type TenantDeps = { readonly tenants: TenantStore; readonly clock: Clock; readonly randomBytes: RandomBytes };

/** A stored tenant and its key in clear: the only moment the key exists outside the caller. */
export type TenantWithKey = { readonly tenant: Tenant; readonly apiKey: string };

/** A fresh key and what storage keeps of it. */
export const newKey = (deps: Pick<TenantDeps, 'clock' | 'randomBytes'>): { apiKey: string; keyHash: Tenant['keyHash'] & string; keyCreatedAt: string } => {
  const apiKey = tenantKey(deps.randomBytes(TENANT_KEY_BYTES));
  return { apiKey, keyHash: hashKey(apiKey), keyCreatedAt: deps.clock.now().toISOString() };
};

/** POST /api/tenants (admin): a tenant with a fresh id and key. */
export const createTenant =
  (deps: TenantDeps) =>
  (body: unknown): TE.TaskEither<AppError, TenantWithKey> =>
    pipe(
      TE.fromEither(decodeOrInvalid(TenantInput, body, { what: 'The tenant' })),
      TE.chain((input) => {
        const now = deps.clock.now();
        const { apiKey, keyHash, keyCreatedAt } = newKey(deps);
        // A new tenant holds only the routing values it is given (none by default).
        const tenant: Tenant = {
          id: ulid(now.getTime(), deps.randomBytes(ULID_RANDOM_BYTES)) as TenantId,
          name: input.name,
          keyHash,
          keyCreatedAt,
          createdAt: now.toISOString(),
          routing: input.routing ?? {},
        };
        return pipe(
          deps.tenants.create(tenant),
          TE.map((stored) => ({ tenant: stored, apiKey })),
        );
      }),
    );
