import type { InvocationContext } from '@azure/functions';
import * as TE from 'fp-ts/TaskEither';
import { pipe } from 'fp-ts/function';
import type { DispatchFresh, StartDispatch } from '../../ports/dispatch';
import { recordAcceptedEvent } from '../../telemetry/telemetry';
import { type IngestEventDeps, ingestEvent } from '../../usecases/ingestEvent';
import { bearerKey, route } from '../lib/route';
import type { Handler } from '../lib/responses';
import type { EventAccepted } from '../../domain/views';

export type IngestEventHandlerDeps = Omit<IngestEventDeps, 'startDispatch' | 'dispatchFresh'> & {
  readonly ingestApiKey: string;
  readonly maxEventBodyBytes: number;
  /** The fan-out, started with the invocation's durable client; its pages are logged to the invocation. */
  readonly startDispatch: (context: InvocationContext) => StartDispatch;
  /** The same for a post without `id`, which it stores as well (docs/architecture.md item 31). */
  readonly dispatchFresh?: (context: InvocationContext) => DispatchFresh;
};

/** POST /api/events: key, size, JSON, then the use case; 202 {"id"} once the event is stored. */
export const ingestEventHandler = (deps: IngestEventHandlerDeps): Handler =>
  route({
    auth: bearerKey(deps.ingestApiKey),
    body: { limitBytes: deps.maxEventBodyBytes },
    run: ({ body, context }) =>
      pipe(
        ingestEvent({ ...deps, startDispatch: deps.startDispatch(context), dispatchFresh: deps.dispatchFresh?.(context) })(body),
        TE.map((result) => {
          context.log(recordAcceptedEvent({ id: result.id, name: result.name, repeated: result.repeated }));
          // A disabled event (DISABLED_EVENTS) is accepted and stored but not dispatched: the answer says so.
          return { status: 202, body: (result.disabled === true ? { id: result.id, disabled: true } : { id: result.id }) satisfies EventAccepted };
        }),
      ),
  });
