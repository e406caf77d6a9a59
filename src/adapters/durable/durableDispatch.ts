import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';
import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { transient } from '../../domain/errors';
import type { ContinueFanOut, DispatchState, FanOutCursor, ReadDispatch } from '../../ports/dispatch';

/** The input of the fan-out orchestration: where it starts, and what the pages before it enqueued. */
export type FanOutStart = FanOutCursor & { readonly deliveries: number; readonly pages: number };

const isNotFound = (e: unknown): boolean => e instanceof Error && /HTTP 404/.test(e.message);
/** The instance's status, or undefined when none exists (the client throws on the API's 404). */
const statusOrUndefined = (client: DurableClient, instanceId: string): Promise<DurableOrchestrationStatus | undefined> =>
  client.getStatus(instanceId).catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });
const isAlreadyRunning = (e: unknown): boolean => e instanceof Error && /\b409\b|already exists|already running/i.test(e.message);

/**
 * Starts the fan-out orchestration (instance id = event id) for the pages after the first, once:
 * for a repeated post, an instance that exists in any state (running, completed, failed) is left
 * alone, so it never dispatches twice. Two posts racing past the status check meet the refusal to
 * start a running id.
 */
export const durableContinueFanOut =
  (client: DurableClient, orchestratorName: string): ContinueFanOut =>
  ({ cursor, deliveries, pages, repeated }) =>
    TE.tryCatch(
      async () => {
        // A first post has no orchestration yet: the status check (a round trip to the durable
        // store) is for repeats, which must not dispatch a completed event again.
        const existing = repeated ? await statusOrUndefined(client, cursor.eventId) : undefined;
        if (existing !== undefined) return;
        const input: FanOutStart = { ...cursor, deliveries, pages };
        await client.startNew(orchestratorName, { instanceId: cursor.eventId, input }).catch((e: unknown) => {
          if (!isAlreadyRunning(e)) throw e;
        });
      },
      (e) => transient(`Could not start the fan-out of event ${cursor.eventId}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`),
    );

// Exact: the orchestration's output carries more (eventId) than the status shows.
const Progress = t.exact(t.partial({ deliveries: t.number, pages: t.number }));
const STATUSES: readonly DispatchState['status'][] = ['Pending', 'Running', 'Completed', 'Failed', 'Terminated', 'ContinuedAsNew', 'Suspended'];

/** The orchestration's status, output and custom status, as a DispatchState. */
export const durableReadDispatch =
  (client: DurableClient): ReadDispatch =>
  (eventId) =>
    TE.tryCatch(
      async (): Promise<DispatchState> => {
        const status = await statusOrUndefined(client, eventId);
        if (status === undefined) return { status: 'NotStarted' };
        const runtime = String(status.runtimeStatus);
        const progress = Progress.decode(status.runtimeStatus === 'Completed' ? status.output : status.customStatus);
        return {
          status: STATUSES.find((s) => s === runtime) ?? 'Unknown',
          ...(E.isRight(progress) ? progress.right : {}),
          ...(status.runtimeStatus === 'Failed' ? { error: typeof status.output === 'string' ? status.output : JSON.stringify(status.output) } : {}),
          lastUpdatedAt: new Date(status.lastUpdatedTime).toISOString(),
        };
      },
      (e) => transient(`Could not read the dispatch of event ${eventId}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`),
    );
