import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { Clock } from '../../ports/clock';
import type { DeliveryStats } from '../../ports/deliveryStats';
import type { TenantStore } from '../../ports/tenantStore';
import type { WebhookStore } from '../../ports/webhookStore';
import { eventTypes } from '../../openapi/eventTypes';
import { getWebhookStats } from '../../usecases/getWebhookStats';
import { errorResponse, type Handler, json } from '../lib/responses';
import { principalOf } from './webhookHandlers';

export type StatsHandlerDeps = {
  readonly webhooks: Pick<WebhookStore, 'get'>;
  readonly stats: DeliveryStats;
  readonly clock: Clock;
  readonly adminApiKey: string;
  readonly tenants?: Pick<TenantStore, 'findByKeyHash' | 'get'>;
};

/** GET /api/webhooks/{id}/stats?since=ISO (admin, or the owning tenant). */
export const webhookStatsHandler =
  (deps: StatsHandlerDeps): Handler =>
  async (request, context) =>
    pipe(
      principalOf(deps)(request),
      TE.chain((principal) => getWebhookStats(deps)({ id: request.params.id ?? '', query: Object.fromEntries(request.query.entries()), principal })),
      TE.match(
        (error) => errorResponse(error, context),
        (stats) => json(200, stats),
      ),
    )();

/** GET /api/event-types: no key, like the OpenAPI document it mirrors. */
export const eventTypesHandler = (): Handler => {
  const body = { items: eventTypes() };
  return async () => json(200, body);
};
