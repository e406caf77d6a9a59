import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { type AppError, conflict } from '../domain/errors';
import type { TenantId } from '../domain/tenant';
import type { TenantStore } from '../ports/tenantStore';
import type { WebhookStore } from '../ports/webhookStore';
import { decodeTenantId } from './changeTenantKey';

/** Webhooks read per list call while counting a tenant's webhooks (the table service's largest page). */
export const COUNT_PAGE_SIZE = 1000;

export type DeleteTenantDeps = { readonly tenants: TenantStore; readonly webhooks: Pick<WebhookStore, 'list'> };

/** How many webhooks carry this tenant's id, over every page of the tenant-filtered list. */
export const countTenantWebhooks =
  (webhooks: Pick<WebhookStore, 'list'>) =>
  (tenantId: TenantId): TE.TaskEither<AppError, number> => {
    const from = (counted: number, continuationToken?: string): TE.TaskEither<AppError, number> =>
      pipe(
        webhooks.list({ limit: COUNT_PAGE_SIZE, tenantId, ...(continuationToken === undefined ? {} : { continuationToken }) }),
        TE.chain((page) => (page.continuationToken === undefined ? TE.right(counted + page.items.length) : from(counted + page.items.length, page.continuationToken))),
      );
    return from(0);
  };

const webhooksWord = (n: number): string => (n === 1 ? '1 webhook' : `${n} webhooks`);

/** Conflict while the tenant owns webhooks: deleting it must neither orphan them nor delete a project's webhooks behind its back. */
const refuseWhileOwning =
  (deps: DeleteTenantDeps, when: 'before' | 'afterRevoke') =>
  (tenantId: TenantId): TE.TaskEither<AppError, void> =>
    pipe(
      countTenantWebhooks(deps.webhooks)(tenantId),
      TE.chain((n) => {
        if (n === 0) return TE.right(undefined);
        const revoked = when === 'afterRevoke' ? ' (created during this delete; its key is now revoked)' : '';
        return TE.left(conflict(`Tenant "${tenantId}" still owns ${webhooksWord(n)}${revoked}; delete them first (GET /api/tenants/${tenantId}/webhooks lists them)`));
      }),
    );

/**
 * DELETE /api/tenants/{id} (admin): the tenant and its key go, only when it owns no webhook.
 *
 * A webhook create by the tenant may run during the delete, and a webhook row cannot share a
 * transaction with the tenant rows. So: count (a refusal then changes nothing), revoke the key (no
 * request authenticates as the tenant from then on), count again (this sees every create that
 * authenticated earlier and has been written by now: the answer is 409 and the tenant stays, keyless),
 * and only then delete the tenant row. A create that authenticated before the revoke and is written
 * after the second count reads the tenant again and undoes itself (tenantOwnedCreate.ts).
 */
export const deleteTenant =
  (deps: DeleteTenantDeps) =>
  (id: string): TE.TaskEither<AppError, void> =>
    pipe(
      TE.fromEither(decodeTenantId(id)),
      TE.chainFirst(deps.tenants.get),
      TE.chainFirst(refuseWhileOwning(deps, 'before')),
      TE.chainFirst((tenantId) => deps.tenants.setKey(tenantId, null)),
      TE.chainFirst(refuseWhileOwning(deps, 'afterRevoke')),
      TE.chain(deps.tenants.delete),
    );
