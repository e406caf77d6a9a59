import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { hourOf, toWebhookStats, type WebhookStats } from '../domain/deliveryStats';
import { type AppError, invalid } from '../domain/errors';
import { checkedString } from '../domain/strings';
import { ADMIN, type Principal } from '../domain/tenant';
import { withoutExtraFields } from '../domain/codecs';
import type { Clock } from '../ports/clock';
import type { DeliveryStats } from '../ports/deliveryStats';
import type { WebhookStore } from '../ports/webhookStore';
import { decodeOrInvalid } from './decode';
import { decodeWebhookId, ownedBy } from './getWebhook';

/** Without `since`: the last day. */
export const DEFAULT_STATS_WINDOW_SECONDS = 24 * 3600;

/** An ISO 8601 date-time with its zone, e.g. 2026-12-05T10:00:00Z (a bare date or a local time is ambiguous). */
const IsoDateTime = checkedString(
  'an ISO 8601 date-time with a zone (e.g. 2026-12-05T10:00:00Z)',
  (s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
);
export const WebhookStatsQuery = withoutExtraFields(t.partial({ since: IsoDateTime }), ['since'], 'WebhookStatsQuery');

export type GetWebhookStatsDeps = { readonly webhooks: Pick<WebhookStore, 'get'>; readonly stats: DeliveryStats; readonly clock: Clock };

/**
 * GET /api/webhooks/{id}/stats: the webhook's counters from the hour holding `since` on (the answer's
 * `since` is that hour's start), for the admin or
 * the owning tenant (another tenant's webhook is NotFound, like an unknown id).
 */
export const getWebhookStats =
  (deps: GetWebhookStatsDeps) =>
  (request: { id: string; query: Record<string, string | undefined>; principal?: Principal }): TE.TaskEither<AppError, WebhookStats> => {
    const now = deps.clock.now();
    return pipe(
      TE.fromEither(
        pipe(
          decodeWebhookId(request.id),
          E.chain((id) =>
            pipe(
              decodeOrInvalid(WebhookStatsQuery, request.query, { what: 'The query' }),
              E.map((query) => ({ id, query })),
            ),
          ),
          E.chain(({ id, query }) => {
            const since = query.since === undefined ? new Date(now.getTime() - DEFAULT_STATS_WINDOW_SECONDS * 1000) : new Date(query.since);
            return since.getTime() > now.getTime() ? E.left(invalid('The query is invalid', ['since: is in the future'])) : E.right({ id, since });
          }),
        ),
      ),
      TE.chainFirst(({ id }) => pipe(deps.webhooks.get(id), TE.chainEitherK(ownedBy(request.principal ?? ADMIN)))),
      TE.chain(({ id, since }) =>
        pipe(
          deps.stats.read({ webhookId: id, since }),
          TE.map((counters) => toWebhookStats(counters, `${hourOf(since)}:00:00.000Z`)),
        ),
      ),
    );
  };
