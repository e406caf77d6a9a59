import type { InvocationContext } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { notFound } from '../../domain/errors';
import { EventId } from '../../domain/events';
import type { AttemptLog } from '../../ports/attemptLog';
import type { ReadDispatch } from '../../ports/dispatch';
import type { EventStore } from '../../ports/eventStore';
import { getEventStatus } from '../../usecases/getEventStatus';
import type { Handler } from '../lib/responses';
import { bearerKey, route } from '../lib/route';

export type EventStatusHandlerDeps = {
  readonly events: Pick<EventStore, 'get'>;
  readonly attemptLog: Pick<AttemptLog, 'forEvent'>;
  /** The orchestration's state, read with the invocation's durable client. */
  readonly readDispatch: (context: InvocationContext) => ReadDispatch;
  readonly adminApiKey: string;
};

/** GET /api/events/{id}: the event, its fan-out, and each delivery's state (admin key). */
export const eventStatusHandler = (deps: EventStatusHandlerDeps): Handler =>
  route({
    auth: bearerKey(deps.adminApiKey),
    run: ({ id, context }) =>
      pipe(
        TE.fromEither(
          pipe(
            EventId.decode(id),
            E.mapLeft(() => notFound(`No event with id "${id.slice(0, 128)}"`)),
          ),
        ),
        TE.chain(getEventStatus({ events: deps.events, attemptLog: deps.attemptLog, readDispatch: deps.readDispatch(context) })),
        TE.map((view) => ({ status: 200, body: view })),
      ),
  });
