import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import type { AppError } from '../domain/errors';
import { refinedString, WellFormedString } from '../domain/strings';
import { ADMIN, type Principal } from '../domain/tenant';
import type { WebhookPage, WebhookStore } from '../ports/webhookStore';
import { decodeOrInvalid } from './decode';

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 100;

const LimitParam = refinedString<'LimitParam'>(`an integer from 1 to ${MAX_LIST_LIMIT}`, (s) => /^[0-9]{1,3}$/.test(s) && Number(s) >= 1 && Number(s) <= MAX_LIST_LIMIT);

/** Query parameters as they arrive: strings, all optional. */
export const ListWebhooksQuery = t.partial({ limit: LimitParam, continuationToken: WellFormedString }, 'ListWebhooksQuery');

/** The admin lists every webhook; a tenant only its own. */
export const listWebhooks =
  (webhooks: WebhookStore) =>
  (query: Record<string, string | undefined>, principal: Principal = ADMIN): TE.TaskEither<AppError, WebhookPage> =>
    pipe(
      TE.fromEither(decodeOrInvalid(ListWebhooksQuery, query, { what: 'The query' })),
      TE.chain((q) =>
        webhooks.list({
          limit: q.limit === undefined ? DEFAULT_LIST_LIMIT : Number(q.limit),
          continuationToken: q.continuationToken,
          ...(principal.kind === 'Tenant' ? { tenantId: principal.tenantId } : {}),
        }),
      ),
    );
