import type { HttpRequest } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../../domain/errors';
import { ADMIN, hashKey, type Principal, TENANT_KEY_PREFIX } from '../../domain/tenant';
import type { TenantStore } from '../../ports/tenantStore';
import { bearerToken, sameSecret, UNAUTHORIZED as unauthorized } from './auth';

/**
 * Who calls: the admin key (constant-time compare), or a tenant key, found by the SHA-256 of the
 * presented key (one point read; an unknown hash is simply absent, which leaks nothing about any
 * stored key). Missing, malformed, unknown and revoked keys get the same answer.
 */
export const authenticate =
  (deps: { adminApiKey: string; tenants: Pick<TenantStore, 'findByKeyHash'> }) =>
  (request: HttpRequest): TE.TaskEither<AppError, Principal> => {
    const token = bearerToken(request);
    if (token === undefined) return TE.left(unauthorized);
    if (sameSecret(token, deps.adminApiKey)) return TE.right(ADMIN);
    if (!token.startsWith(TENANT_KEY_PREFIX)) return TE.left(unauthorized);
    return pipe(
      deps.tenants.findByKeyHash(hashKey(token)),
      TE.chainEitherK((tenantId): E.Either<AppError, Principal> => (tenantId === undefined ? E.left(unauthorized) : E.right({ kind: 'Tenant', tenantId }))),
    );
  };
