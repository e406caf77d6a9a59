import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { RoutingGrants } from '../domain/routingGrants';

/** The routing grants a tenant holds now; undefined for a tenant that does not exist (it holds nothing). */
export type TenantGrants = (tenantId: string) => TE.TaskEither<AppError, RoutingGrants | undefined>;
