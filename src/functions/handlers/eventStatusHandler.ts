import type { DurableClient } from 'durable-functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { durableReadDispatch } from '../../adapters/durable/durableDispatch';
import { notFound } from '../../domain/errors';
import { EventId } from '../../domain/events';
import type { AttemptLog } from '../../ports/attemptLog';
import type { EventStore } from '../../ports/eventStore';
import { getEventStatus } from '../../usecases/getEventStatus';
import { requireBearer } from '../lib/auth';
import { errorResponse, type Handler, json } from '../lib/responses';

export type EventStatusHandlerDeps = {
  readonly events: Pick<EventStore, 'get'>;
  readonly attemptLog: Pick<AttemptLog, 'forEvent'>;
  readonly client: DurableClient;
  readonly adminApiKey: string;
};

/** GET /api/events/{id}: the event, its fan-out, and each delivery's state (admin key). */
export const eventStatusHandler =
  (deps: EventStatusHandlerDeps): Handler =>
  async (request, context) =>
    pipe(
      TE.fromEither(requireBearer(request, deps.adminApiKey)),
      TE.chainEitherK(() =>
        pipe(
          EventId.decode(request.params.id),
          E.mapLeft(() => notFound(`No event with id "${String(request.params.id).slice(0, 128)}"`)),
        ),
      ),
      TE.chain(getEventStatus({ events: deps.events, attemptLog: deps.attemptLog, readDispatch: durableReadDispatch(deps.client) })),
      TE.match(
        (error) => errorResponse(error, context),
        (view) => json(200, view),
      ),
    )();
