import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { listRecentEvents, type ListRecentEventsDeps } from '../../usecases/listRecentEvents';
import { requireBearer } from '../lib/auth';
import { errorResponse, type Handler, json } from '../lib/responses';
import type { EventList } from '../../domain/views';

/** GET /api/events?limit=&sinceHours=: the newest events, for the ops console (admin key). */
export const eventListHandler =
  (deps: ListRecentEventsDeps & { readonly adminApiKey: string }): Handler =>
  async (request, context) =>
    pipe(
      TE.fromEither(requireBearer(request, deps.adminApiKey)),
      TE.chain(() => listRecentEvents(deps)(Object.fromEntries(request.query.entries()))),
      TE.match(
        (error) => errorResponse(error, context),
        (events) => json(200, { items: events.map(({ id, name, payload, receivedAt }) => ({ id, name, payload, receivedAt })) } satisfies EventList),
      ),
    )();
