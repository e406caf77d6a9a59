import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { type IngestEventDeps, ingestEvent } from '../../usecases/ingestEvent';
import { requireBearer } from '../lib/auth';
import { readJsonBody } from '../lib/body';
import { recordAcceptedEvent } from '../../telemetry/telemetry';
import { errorResponse, type Handler, json } from '../lib/responses';
import type { EventAccepted } from '../../domain/views';

export type IngestEventHandlerDeps = IngestEventDeps & { readonly ingestApiKey: string; readonly maxEventBodyBytes: number };

/** POST /api/events: key, size, JSON, then the use case; 202 {"id"} once the event is stored. */
export const ingestEventHandler =
  (deps: IngestEventHandlerDeps): Handler =>
  async (request, context) =>
    pipe(
      TE.fromEither(requireBearer(request, deps.ingestApiKey)),
      TE.chain(() => () => readJsonBody(request, deps.maxEventBodyBytes)),
      TE.chain(ingestEvent(deps)),
      TE.match(
        (error) => errorResponse(error, context),
        (result) => {
          context.log(recordAcceptedEvent({ id: result.id, name: result.name, repeated: result.repeated }));
          // A disabled event (DISABLED_EVENTS) is accepted and stored but not dispatched: the answer says so.
          return json(202, (result.disabled === true ? { id: result.id, disabled: true } : { id: result.id }) satisfies EventAccepted);
        },
      ),
    )();

