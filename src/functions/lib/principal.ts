import type { HttpRequest } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../../domain/errors';
import { PORTAL_SESSION_PREFIX, portalKeysOf } from '../../domain/portalToken';
import { ADMIN, hashKey, type Principal, TENANT_KEY_PREFIX } from '../../domain/tenant';
import { systemClock } from '../../ports/clock';
import type { TenantStore } from '../../ports/tenantStore';
import { portalSessionPrincipal } from '../../usecases/portalLinks';
import { bearerToken, sameSecret, UNAUTHORIZED as unauthorized } from './auth';

/**
 * Who calls: the admin key (constant-time compare), or a tenant key, found by the SHA-256 of the
 * presented key (one point read; an unknown hash is simply absent, which leaks nothing about any
 * stored key). Missing, malformed, unknown and revoked keys get the same answer; a portal session
 * bearer is checked by its signature, expiry and the tenant's portal epoch.
 */
export const authenticate =
  (deps: { adminApiKey: string; tenants: Pick<TenantStore, 'findByKeyHash' | 'get'> }) =>
  (request: HttpRequest): TE.TaskEither<AppError, Principal> => {
    const token = bearerToken(request);
    if (token === undefined) return TE.left(unauthorized);
    if (sameSecret(token, deps.adminApiKey)) return TE.right(ADMIN);
    // A portal session (docs/portal.md): that tenant's principal, signed under a key derived from the admin key.
    if (token.startsWith(PORTAL_SESSION_PREFIX)) return portalSessionPrincipal({ tenants: deps.tenants, clock: systemClock, keys: portalKeysOf(deps.adminApiKey) })(token);
    if (!token.startsWith(TENANT_KEY_PREFIX)) return TE.left(unauthorized);
    return pipe(
      deps.tenants.findByKeyHash(hashKey(token)),
      TE.chainEitherK((tenantId): E.Either<AppError, Principal> => (tenantId === undefined ? E.left(unauthorized) : E.right({ kind: 'Tenant', tenantId }))),
    );
  };
