import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { TenantStore } from '../ports/tenantStore';
import type { WebhookStore } from '../ports/webhookStore';

/**
 * WebhookStore.create that cannot leave a webhook to a tenant being deleted. A tenant's request
 * authenticates before its webhook is written, and `deleteTenant` revokes the key, counts the
 * tenant's webhooks, then deletes the tenant. So after writing, the tenant is read again: if it has
 * no key any more (revoked, or deleted), the webhook is removed and the request refused. Either this
 * read comes before the revoke, and then the write did too and the delete's count sees the webhook
 * (409), or it comes after, and the webhook goes: no webhook outlives its tenant. A read that fails
 * leaves the webhook as written (a create refused for a flaky read would be worse than the race).
 * Used by every path that creates tenant webhooks (the registry and WebSub).
 */
export const tenantOwnedCreate = (webhooks: WebhookStore, tenants: Pick<TenantStore, 'get'>): WebhookStore => ({
  ...webhooks,
  create: (webhook) => {
    const tenantId = webhook.tenantId;
    if (tenantId === undefined) return webhooks.create(webhook);
    const revoked: AppError = { kind: 'Unauthorized', message: `The key of tenant "${tenantId}" was revoked during this request; nothing was created` };
    return pipe(
      webhooks.create(webhook),
      TE.chainFirst(() =>
        pipe(
          tenants.get(tenantId),
          TE.map((tenant) => tenant.keyHash !== null),
          TE.orElse((e): TE.TaskEither<AppError, boolean> => TE.right(e.kind !== 'NotFound')),
          TE.chain((active) =>
            active
              ? TE.right(undefined)
              : pipe(
                  webhooks.delete(webhook.id),
                  TE.orElse((e): TE.TaskEither<AppError, void> => (e.kind === 'NotFound' ? TE.right(undefined) : TE.left(e))),
                  TE.chain((): TE.TaskEither<AppError, void> => TE.left(revoked)),
                ),
          ),
        ),
      ),
    );
  },
});
