import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { listRecentEvents, type ListRecentEventsDeps } from '../../usecases/listRecentEvents';
import { ListEventsQuery } from '../lib/queries';
import type { Handler } from '../lib/responses';
import { bearerKey, route } from '../lib/route';
import type { EventList } from '../../domain/views';

/** GET /api/events?limit=&sinceHours=: the newest events, for the ops console (admin key). */
export const eventListHandler = (deps: ListRecentEventsDeps & { readonly adminApiKey: string }): Handler =>
  route({
    auth: bearerKey(deps.adminApiKey),
    query: ListEventsQuery,
    run: ({ query }) =>
      pipe(
        listRecentEvents(deps)(query),
        TE.map((events) => ({ status: 200, body: { items: events.map(({ id, name, payload, receivedAt }) => ({ id, name, payload, receivedAt })) } satisfies EventList })),
      ),
  });
