import { type DurableClient, OrchestrationRuntimeStatus } from 'durable-functions';
import * as TE from 'fp-ts/TaskEither';
import { type AppError, transient } from '../../domain/errors';

/** Deletes the history of finished orchestrations created before `before` (retention); answers how many. */
export const durablePurgeHistory =
  (client: DurableClient) =>
  (before: Date): TE.TaskEither<AppError, number> =>
    TE.tryCatch(
      async () =>
        (
          await client.purgeInstanceHistoryBy({
            createdTimeFrom: new Date(0),
            createdTimeTo: before,
            // Running and pending instances still have work to do: only finished ones go.
            runtimeStatus: [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated],
          })
        ).instancesDeleted,
      (e) => transient(`The durable task hub could not purge histories: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`),
    );
