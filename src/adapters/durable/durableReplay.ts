import type { DurableClient, DurableOrchestrationStatus } from 'durable-functions';
import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { transient } from '../../domain/errors';
import { ReplayScope } from '../../domain/replay';
import type { ReadReplay, StartReplay } from '../../ports/replay';

const isNotFound = (e: unknown): boolean => e instanceof Error && /HTTP 404/.test(e.message);
const isAlreadyRunning = (e: unknown): boolean => e instanceof Error && /\b409\b|already exists|already running|already pending/i.test(e.message);
const firstLine = (e: unknown): string => (e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e));

const statusOrUndefined = (client: DurableClient, instanceId: string): Promise<DurableOrchestrationStatus | undefined> =>
  client.getStatus(instanceId).catch((e: unknown) => {
    if (isNotFound(e)) return undefined;
    throw e;
  });

const RUNNING = new Set(['Pending', 'Running', 'ContinuedAsNew', 'Suspended']);

/**
 * Instance id = replay id. A replay of that id still running is left alone (the same request sent
 * twice starts nothing new); a finished one is started again (Azure and the local host overwrite it).
 * Two requests racing past the status check meet the refusal to start a running id.
 */
export const durableStartReplay =
  (client: DurableClient, orchestratorName: string): StartReplay =>
  (cursor) =>
    TE.tryCatch(
      async () => {
        const existing = await statusOrUndefined(client, cursor.replayId);
        if (existing !== undefined && RUNNING.has(String(existing.runtimeStatus))) return { started: false };
        return client.startNew(orchestratorName, { instanceId: cursor.replayId, input: cursor }).then(
          () => ({ started: true }),
          (e: unknown) => {
            if (isAlreadyRunning(e)) return { started: false };
            throw e;
          },
        );
      },
      (e) => transient(`Could not start replay ${cursor.replayId}: ${firstLine(e)}`),
    );

const Input = t.type({ webhookId: t.string, since: t.string, until: t.string, only: ReplayScope, deliveries: t.number });
const Progress = t.type({ deliveries: t.number });

/** The replay's orchestration as a ReplayStatus: its window from the input, its count from the custom status or output. */
export const durableReadReplay =
  (client: DurableClient): ReadReplay =>
  (replayId) =>
    TE.tryCatch(
      async () => {
        const status = await statusOrUndefined(client, replayId);
        if (status === undefined) return undefined;
        const input = Input.decode(status.input);
        if (E.isLeft(input)) return undefined;
        const runtime = String(status.runtimeStatus);
        const progress = Progress.decode(runtime === 'Completed' ? status.output : status.customStatus);
        const { webhookId, since, until, only } = input.right;
        return {
          id: replayId,
          webhookId,
          status: runtime === 'Completed' ? ('Completed' as const) : RUNNING.has(runtime) ? ('Running' as const) : ('Failed' as const),
          deliveries: E.isRight(progress) ? progress.right.deliveries : input.right.deliveries,
          since,
          until,
          only,
        };
      },
      (e) => transient(`Could not read replay ${replayId}: ${firstLine(e)}`),
    );
