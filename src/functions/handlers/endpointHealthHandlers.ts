import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { Clock } from '../../ports/clock';
import type { DeliveryStats } from '../../ports/deliveryStats';
import type { TenantStore } from '../../ports/tenantStore';
import type { WebhookStore } from '../../ports/webhookStore';
import { eventTypes } from '../../openapi/eventTypes';
import { getWebhookStats } from '../../usecases/getWebhookStats';
import { type Handler, json } from '../lib/responses';
import { adminOrTenant, route } from '../lib/route';

export type StatsHandlerDeps = {
  readonly webhooks: Pick<WebhookStore, 'get'>;
  readonly stats: DeliveryStats;
  readonly clock: Clock;
  readonly adminApiKey: string;
  readonly tenants: Pick<TenantStore, 'findByKeyHash' | 'get'>;
};

/** GET /api/webhooks/{id}/stats?since=ISO (admin, or the owning tenant). */
export const webhookStatsHandler = (deps: StatsHandlerDeps): Handler =>
  route({
    auth: adminOrTenant(deps),
    // The use case decodes `since` after the id: an unknown id is a 404 whatever the query holds.
    run: ({ id, request, caller }) =>
      pipe(
        getWebhookStats(deps)({ id, query: Object.fromEntries(request.query.entries()), principal: caller }),
        TE.map((stats) => ({ status: 200, body: stats })),
      ),
  });

/** GET /api/event-types: no key, like the OpenAPI document it mirrors. */
export const eventTypesHandler = (): Handler => {
  const body = { items: eventTypes() };
  return async () => json(200, body);
};
