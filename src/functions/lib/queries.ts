import * as t from 'io-ts';
import { IntegerParam, LimitParam } from '../../domain/stringCodecs';
import { WellFormedString } from '../../domain/strings';
import { DEFAULT_EVENTS_LIMIT, DEFAULT_EVENTS_SINCE_HOURS, MAX_EVENTS_LIMIT, MAX_EVENTS_SINCE_HOURS } from '../../usecases/listRecentEvents';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from '../../usecases/listWebhooks';

/*
 * The query codecs of the HTTP routes: query strings are decoded at the edge (src/functions/lib/route.ts
 * takes one of these), and use cases receive numbers. Absent parameters get their defaults here.
 */

/** GET /api/events?limit=&sinceHours= */
export const ListEventsQuery = t.type(
  { limit: LimitParam({ max: MAX_EVENTS_LIMIT, fallback: DEFAULT_EVENTS_LIMIT }), sinceHours: IntegerParam({ min: 1, max: MAX_EVENTS_SINCE_HOURS, fallback: DEFAULT_EVENTS_SINCE_HOURS }) },
  'ListEventsQuery',
);
export type ListEventsQuery = t.TypeOf<typeof ListEventsQuery>;

/** GET /api/webhooks and /api/tenants/{id}/webhooks: ?limit=&continuationToken= */
export const ListWebhooksQuery = t.intersection(
  [t.type({ limit: LimitParam({ max: MAX_LIST_LIMIT, fallback: DEFAULT_LIST_LIMIT }) }), t.partial({ continuationToken: WellFormedString })],
  'ListWebhooksQuery',
);
export type ListWebhooksQuery = t.TypeOf<typeof ListWebhooksQuery>;

/** GET /api/tenants?limit=&continuationToken= */
export const ListTenantsQuery = t.intersection([t.type({ limit: LimitParam({ max: 100, fallback: 50 }) }), t.partial({ continuationToken: t.string })], 'ListTenantsQuery');
export type ListTenantsQuery = t.TypeOf<typeof ListTenantsQuery>;

/** GET /api/poison?limit= (a queue peek returns at most 32). */
export const PoisonListQuery = t.type({ limit: LimitParam({ max: 32, fallback: 32 }) }, 'PoisonListQuery');
export type PoisonListQuery = t.TypeOf<typeof PoisonListQuery>;
