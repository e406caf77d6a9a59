import { randomBytes, randomUUID } from 'node:crypto';
import { TableServiceClient } from '@azure/data-tables';
import { QueueClient, type DequeuedMessageItem } from '@azure/storage-queue';
import { AppLoadError } from '../core/loadApp';
import type { HostComponent, HostContext } from '../core/component';
import { functionsWithTrigger } from '../core/invoke';
import type { RegisteredFunction } from '../core/types';
import { createDurableApi, DURABLE_PREFIX, requireSystemKey, rpcBasePath } from './api';
import { asciiJson } from './asciiWire';
import { ConflictError, type Outbox, runEpisode } from './episode';
import { EventType } from './history';
import { ControlMessage, decodeJson, MAX_INLINE_MESSAGE_CHARS, MAX_TIMER_DELAY_SECONDS, WorkItem } from './messages';
import { durableSettings } from './settings';
import { createInstanceStore } from './store';

const MIN_POLLING_INTERVAL_MS = 50;
/** Episodes of one instance in a row before its runner yields to the queue again. */
const MAX_EPISODES_PER_WAKE = 50;
/** A message that conflicts with another worker's lease comes back after this. */
const CONFLICT_RETRY_SECONDS = 1;

const usesDurable = (fns: RegisteredFunction[]): boolean =>
  fns.some((fn) => Object.values(fn.metadata.bindings).some((b) => ['orchestrationtrigger', 'activitytrigger', 'durableclient', 'orchestrationclient'].includes((b.type ?? '').toLowerCase())));

const sleep = (ms: number, wake: { poke?: () => void }): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      wake.poke = undefined;
      resolve();
    }
    wake.poke = done;
  });

/**
 * Runs `durable-functions` orchestrations and activities with Table Storage and queues, the way the
 * Durable extension's Azure Storage provider does: state and history in a table, orchestration
 * work on a control queue, activities on a work-item queue. Also serves the durable client binding
 * and its HTTP API.
 */
/** Start refused: the storage account holds a real Durable host's task hub of the same name. */
export class RealTaskHubError extends AppLoadError {}

export const createDurableComponent = (ctx: HostContext): HostComponent => {
  const registry = ctx.invoker.registry;
  if (!usesDurable(registry.functions)) return { name: 'durable', start: async () => undefined, stop: async () => undefined };
  const settings = durableSettings(ctx.hostJson, process.env);
  const store = createInstanceStore({ connectionString: ctx.storageConnectionString, tableName: settings.tableName });
  const control = new QueueClient(ctx.storageConnectionString, settings.controlQueue);
  const workItems = new QueueClient(ctx.storageConnectionString, settings.workItemQueue);
  const owner = `${process.pid}-${randomUUID()}`;
  /** A real host's hub in this storage: its work is not ours to run (or to delete), so the start is refused. */
  const refuseRealHub = async (): Promise<void> => {
    const tables = TableServiceClient.fromConnectionString(ctx.storageConnectionString, { allowInsecureConnection: true });
    for await (const table of tables.listTables({ queryOptions: { filter: `TableName eq '${settings.realHubTable}'` } })) {
      throw new RealTaskHubError(
        `storage already holds task hub '${settings.hubName}' of a real Functions host (table ${table.name ?? settings.realHubTable}): the local Durable runner does not share a hub with it; set another DURABLE_TASK_HUB or use other storage`,
      );
    }
  };
  const log = (level: 'debug' | 'information' | 'warning' | 'error', message: string, fields?: Record<string, unknown>): void => ctx.log.log(level, 'durable', message, fields);
  const rpcBaseUrl = (): string => `${ctx.baseUrl()}${DURABLE_PREFIX.slice(1)}`;

  let stopping = false;
  const controlWake: { poke?: () => void } = {};
  const workWake: { poke?: () => void } = {};
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>): void => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  const wake = async (instanceId: string): Promise<void> => {
    await control.sendMessage(asciiJson(JSON.stringify({ kind: 'wake', instanceId } satisfies ControlMessage)));
    controlWake.poke?.();
  };

  const sendOutbox = async (outbox: Outbox): Promise<void> => {
    await Promise.all([
      ...outbox.workItems.map(async (w) => {
        const item: WorkItem = { instanceId: w.instanceId, executionId: w.executionId, taskId: w.taskId, name: w.name };
        const inline = asciiJson(JSON.stringify({ ...item, input: w.input }));
        if (w.input === undefined || inline.length <= MAX_INLINE_MESSAGE_CHARS) return workItems.sendMessage(inline);
        const inputRow = `p-${w.executionId}-${w.taskId}`;
        await store.putPayload(w.instanceId, inputRow, w.input);
        return workItems.sendMessage(asciiJson(JSON.stringify({ ...item, inputRow } satisfies WorkItem)));
      }),
      ...outbox.timers.map((tm) => sendTimer({ kind: 'timer', ...tm })),
    ]);
    if (outbox.workItems.length > 0) workWake.poke?.();
  };

  const sendTimer = async (timer: Extract<ControlMessage, { kind: 'timer' }>): Promise<void> => {
    const delaySeconds = Math.min(MAX_TIMER_DELAY_SECONDS, Math.max(0, Math.ceil((Date.parse(timer.fireAt) - Date.now()) / 1000)));
    await control.sendMessage(asciiJson(JSON.stringify(timer)), { visibilityTimeout: delaySeconds });
  };

  const episodeDeps = {
    store,
    invoker: ctx.invoker,
    log: ctx.log,
    owner,
    leaseMs: settings.leaseSeconds * 1000,
    now: () => Date.now(),
    newExecutionId: () => randomUUID().replace(/-/g, ''),
    send: sendOutbox,
  };

  // One runner per instance in this process; a second wake-up waits for the first episode.
  const running = new Map<string, Promise<void>>();
  const processInstance = (instanceId: string): Promise<void> => {
    const previous = running.get(instanceId) ?? Promise.resolve();
    const next = previous.then(async () => {
      for (let i = 0; i < MAX_EPISODES_PER_WAKE; i++) {
        if ((await runEpisode(episodeDeps, instanceId)) === 'idle') return;
      }
      await wake(instanceId);
    });
    const settled = next.catch(() => undefined);
    running.set(instanceId, settled);
    void settled.then(() => {
      if (running.get(instanceId) === settled) running.delete(instanceId);
    });
    return next;
  };

  const handleControlBatch = async (messages: DequeuedMessageItem[]): Promise<void> => {
    const byInstance = new Map<string, DequeuedMessageItem[]>();
    for (const m of messages) {
      const decoded = decodeJson(ControlMessage, m.messageText);
      if (decoded === undefined) {
        log('warning', `Dropping an undecodable control message ${m.messageId}`);
        await control.deleteMessage(m.messageId, m.popReceipt);
        continue;
      }
      if (decoded.kind === 'timer') {
        if (Date.parse(decoded.fireAt) - Date.now() > 1000) {
          // Longer than the queue's visibility limit: send it again for the remaining time.
          await sendTimer(decoded);
          await control.deleteMessage(m.messageId, m.popReceipt);
          continue;
        }
        await store.deliver(decoded.instanceId, {
          rowKey: `i-timer-${decoded.executionId}-${decoded.timerId}`,
          executionId: decoded.executionId,
          event: { EventType: EventType.TimerFired, EventId: -1, Timestamp: new Date().toISOString(), TimerId: decoded.timerId, FireAt: decoded.fireAt },
        });
      }
      byInstance.set(decoded.instanceId, [...(byInstance.get(decoded.instanceId) ?? []), m]);
    }
    await Promise.all(
      [...byInstance].map(async ([instanceId, ms]) => {
        try {
          await processInstance(instanceId);
          await Promise.all(ms.map((m) => control.deleteMessage(m.messageId, m.popReceipt)));
        } catch (e) {
          if (e instanceof ConflictError) {
            log('debug', `Instance ${instanceId} is busy elsewhere: retrying`, { instanceId });
            await Promise.all(ms.map((m) => control.updateMessage(m.messageId, m.popReceipt, undefined, CONFLICT_RETRY_SECONDS).catch(() => undefined)));
          } else {
            log('error', `Episode of ${instanceId} failed (retried after the visibility timeout): ${(e as Error).stack ?? String(e)}`, { instanceId });
          }
        }
      }),
    );
  };

  /** Keeps a message invisible while its activity runs longer than the visibility timeout. */
  const keepInvisible = (m: DequeuedMessageItem): { popReceipt: () => string; stop: () => void } => {
    let popReceipt = m.popReceipt;
    const timer = setInterval(() => {
      workItems
        .updateMessage(m.messageId, popReceipt, undefined, settings.visibilityTimeoutSeconds)
        .then((r) => (popReceipt = r.popReceipt ?? popReceipt))
        .catch(() => undefined);
    }, (settings.visibilityTimeoutSeconds * 1000) / 2);
    return { popReceipt: () => popReceipt, stop: () => clearInterval(timer) };
  };

  const runActivity = async (m: DequeuedMessageItem): Promise<void> => {
    const item = decodeJson(WorkItem, m.messageText);
    if (item === undefined) {
      log('warning', `Dropping an undecodable work item ${m.messageId}`);
      await workItems.deleteMessage(m.messageId, m.popReceipt);
      return;
    }
    const hold = keepInvisible(m);
    try {
      const fn = functionsWithTrigger(registry, 'activityTrigger').find((f) => f.metadata.name.toLowerCase() === item.name.toLowerCase());
      const input = item.inputRow !== undefined ? await store.getPayload(item.instanceId, item.inputRow) : item.input;
      const timestamp = (): string => new Date().toISOString();
      let event;
      if (fn === undefined) {
        event = { EventType: EventType.TaskFailed, EventId: -1, Timestamp: timestamp(), TaskScheduledId: item.taskId, Reason: `The activity function '${item.name}' does not exist`, Details: '' };
      } else {
        const outcome = await ctx.invoker.invoke(fn, { data: input === undefined ? {} : { string: input } });
        ctx.log.invocation({ function: fn.metadata.name, invocationId: outcome.invocationId, durationMs: outcome.durationMs, outcome: outcome.kind, trigger: 'activityTrigger', error: outcome.kind === 'failed' ? outcome.error.message : undefined });
        if (outcome.kind === 'failed') {
          event = { EventType: EventType.TaskFailed, EventId: -1, Timestamp: timestamp(), TaskScheduledId: item.taskId, Reason: `Activity function '${fn.metadata.name}' failed: ${outcome.error.message}`, Details: outcome.error.name };
        } else {
          const r = outcome.response.returnValue;
          const result = r?.json ?? (r?.string != null ? JSON.stringify(r.string) : r?.int != null ? String(r.int) : r?.double != null ? String(r.double) : 'null');
          event = { EventType: EventType.TaskCompleted, EventId: -1, Timestamp: timestamp(), TaskScheduledId: item.taskId, Result: result };
        }
      }
      await store.deliver(item.instanceId, { rowKey: `i-task-${item.executionId}-${item.taskId}`, executionId: item.executionId, event });
      await wake(item.instanceId);
      await workItems.deleteMessage(m.messageId, hold.popReceipt());
    } finally {
      hold.stop();
    }
  };

  const controlLoop = async (): Promise<void> => {
    let idleMs = MIN_POLLING_INTERVAL_MS;
    while (!stopping) {
      try {
        const { receivedMessageItems } = await control.receiveMessages({ numberOfMessages: 32, visibilityTimeout: settings.visibilityTimeoutSeconds });
        if (receivedMessageItems.length === 0) {
          await sleep(idleMs, controlWake);
          idleMs = Math.min(idleMs * 2, settings.maxPollingIntervalMs);
          continue;
        }
        idleMs = MIN_POLLING_INTERVAL_MS;
        const batch = handleControlBatch(receivedMessageItems);
        track(batch);
        await batch;
      } catch (e) {
        log('error', `Control queue polling failed: ${String(e)}`);
        await sleep(settings.maxPollingIntervalMs, controlWake);
      }
    }
  };

  const workLoop = async (): Promise<void> => {
    let idleMs = MIN_POLLING_INTERVAL_MS;
    let active = 0;
    const slotFree: { poke?: () => void } = {};
    while (!stopping) {
      try {
        const room = settings.maxConcurrentActivities - active;
        if (room <= 0) {
          await sleep(settings.maxPollingIntervalMs, slotFree);
          continue;
        }
        const { receivedMessageItems } = await workItems.receiveMessages({ numberOfMessages: Math.min(32, room), visibilityTimeout: settings.visibilityTimeoutSeconds });
        if (receivedMessageItems.length === 0) {
          await sleep(idleMs, workWake);
          idleMs = Math.min(idleMs * 2, settings.maxPollingIntervalMs);
          continue;
        }
        idleMs = MIN_POLLING_INTERVAL_MS;
        for (const m of receivedMessageItems) {
          active++;
          const run = runActivity(m)
            .catch((e: unknown) => log('error', `Activity work item failed (retried after the visibility timeout): ${(e as Error).stack ?? String(e)}`))
            .finally(() => {
              active--;
              slotFree.poke?.();
            });
          track(run);
        }
      } catch (e) {
        log('error', `Work-item queue polling failed: ${String(e)}`);
        await sleep(settings.maxPollingIntervalMs, workWake);
      }
    }
  };

  // The durabletask_extension system key: LOCAL_HOST_DURABLE_SYSTEM_KEY, else random per start.
  const systemKey = process.env.LOCAL_HOST_DURABLE_SYSTEM_KEY || randomBytes(32).toString('base64url');

  const managementUrls = (instanceId: string): Record<string, string> => {
    const base = `${rpcBaseUrl()}instances/${encodeURIComponent(instanceId)}`;
    const query = `taskHub=${encodeURIComponent(settings.hubName)}&connection=Storage&code=${encodeURIComponent(systemKey)}`;
    return {
      id: instanceId,
      statusQueryGetUri: `${base}?${query}`,
      sendEventPostUri: `${base}/raiseEvent/{eventName}?${query}`,
      terminatePostUri: `${base}/terminate?reason={text}&${query}`,
      rewindPostUri: `${base}/rewind?reason={text}&${query}`,
      purgeHistoryDeleteUri: `${base}?${query}`,
      restartPostUri: `${base}/restart?${query}`,
      suspendPostUri: `${base}/suspend?reason={text}&${query}`,
      resumePostUri: `${base}/resume?reason={text}&${query}`,
    };
  };

  ctx.invoker.provideInput('durableClient', () => {
    const templates = managementUrls('INSTANCEID');
    return {
      string: JSON.stringify({
        taskHubName: settings.hubName,
        creationUrls: {
          createNewInstancePostUri: `${rpcBaseUrl()}orchestrators/{functionName}[/{instanceId}]?code=${encodeURIComponent(systemKey)}`,
          createAndWaitOnNewInstancePostUri: `${rpcBaseUrl()}orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=${encodeURIComponent(systemKey)}`,
        },
        managementUrls: { ...templates, id: 'INSTANCEID' },
        baseUrl: rpcBaseUrl().replace(/\/$/, ''),
        requiredQueryStringParameters: `code=${encodeURIComponent(systemKey)}`,
        // Azure's rpcBaseUrl is a loopback-only port of the extension; ours is on the public port,
        // so it carries the system key too (in the path: the client drops a query from it).
        rpcBaseUrl: `${ctx.baseUrl()}${rpcBasePath(systemKey).slice(1)}`,
      }),
    };
  });
  ctx.mountHttp(
    DURABLE_PREFIX,
    createDurableApi({
      store,
      orchestrators: () => functionsWithTrigger(registry, 'orchestrationTrigger').map((f) => f.metadata.name),
      wake,
      newExecutionId: episodeDeps.newExecutionId,
      now: () => Date.now(),
      managementUrls,
    }),
    requireSystemKey(systemKey),
  );

  let loops: Promise<void>[] = [];
  return {
    name: 'durable',
    start: async () => {
      const boot = async (): Promise<void> => {
        await refuseRealHub();
        await Promise.all([store.init(), control.createIfNotExists(), workItems.createIfNotExists()]);
        // Instances whose wake-up was lost (a crash between a write and its message) resume here.
        const active = await store.list(`runtimeStatus eq 'Pending' or runtimeStatus eq 'Running'`);
        await Promise.all(active.map((r) => wake(r.instanceId)));
        log('information', `Durable task hub '${settings.hubName}' (table ${settings.tableName}, queues ${settings.controlQueue}, ${settings.workItemQueue}); ${active.length} instances to resume`);
      };
      try {
        await boot();
      } catch (e) {
        // Storage refusing a request is a configuration error; no answer is an outage, which the
        // host rides out (as Azure's does): keep trying in the background, then start the loops.
        if (typeof (e as { statusCode?: unknown }).statusCode === 'number' || e instanceof RealTaskHubError) throw e;
        log('warning', `Durable storage is not reachable yet (${e instanceof Error ? e.message : String(e)}); retrying in the background`);
        loops = [
          (async () => {
            for (let delayMs = 250; !stopping; delayMs = Math.min(delayMs * 2, settings.maxPollingIntervalMs)) {
              try {
                await boot();
                await Promise.all([controlLoop(), workLoop()]);
                return;
              } catch {
                await new Promise((resolve) => setTimeout(resolve, delayMs));
              }
            }
          })(),
        ];
        return;
      }
      loops = [controlLoop(), workLoop()];
    },
    stop: async () => {
      stopping = true;
      controlWake.poke?.();
      workWake.poke?.();
      await Promise.all(loops);
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      await Promise.all([...running.values()]);
    },
  };
};
