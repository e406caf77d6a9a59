import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import { ADMIN, type Principal } from '../domain/tenant';
import type { WebhookPage, WebhookStore } from '../ports/webhookStore';

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 100;

/** The admin lists every webhook; a tenant only its own (the edge decodes the query). */
export const listWebhooks =
  (webhooks: WebhookStore) =>
  (query: { readonly limit: number; readonly continuationToken?: string }, principal: Principal = ADMIN): TE.TaskEither<AppError, WebhookPage> =>
    webhooks.list({ limit: query.limit, continuationToken: query.continuationToken, ...(principal.kind === 'Tenant' ? { tenantId: principal.tenantId } : {}) });
