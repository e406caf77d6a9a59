import { randomUUID } from 'node:crypto';
import { TableServiceClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { AppLoadError } from '../core/loadApp';
import type { HostComponent, HostContext } from '../core/component';
import type { RegisteredFunction } from '../core/types';
import { isRefusal, openThenRun, systemClock, type WorkerLog } from '../worker';
import { createActivityRunner } from './activityRunner';
import { bindDurableClient } from './clientBinding';
import { createControlDispatcher } from './controlDispatcher';
import { durableSettings } from './settings';
import { createInstanceStore } from './store';

const usesDurable = (fns: RegisteredFunction[]): boolean =>
  fns.some((fn) => Object.values(fn.metadata.bindings).some((b) => ['orchestrationtrigger', 'activitytrigger', 'durableclient', 'orchestrationclient'].includes((b.type ?? '').toLowerCase())));

/** Start refused: the storage account holds a real Durable host's task hub of the same name. */
export class RealTaskHubError extends AppLoadError {}

/**
 * Runs `durable-functions` orchestrations and activities with Table Storage and queues, the way the
 * Durable extension's Azure Storage provider does: state and history in a table, orchestration
 * work on a control queue (the control dispatcher), activities on a work-item queue (the activity
 * runner). Also serves the durable client binding and its HTTP API.
 */
export const createDurableComponent = (ctx: HostContext): HostComponent => {
  const registry = ctx.invoker.registry;
  if (!usesDurable(registry.functions)) return { name: 'durable', start: async () => undefined, stop: async () => undefined };
  const settings = durableSettings(ctx.hostJson, process.env);
  const clock = systemClock;
  const store = createInstanceStore({ connectionString: ctx.storageConnectionString, tableName: settings.tableName });
  const control = new QueueClient(ctx.storageConnectionString, settings.controlQueue);
  const workItems = new QueueClient(ctx.storageConnectionString, settings.workItemQueue);
  const log: WorkerLog = (level, message, fields) => ctx.log.log(level, 'durable', message, fields);
  const newExecutionId = (): string => randomUUID().replace(/-/g, '');

  /** A real host's hub in this storage: its work is not ours to run (or to delete), so the start is refused. */
  const refuseRealHub = async (): Promise<void> => {
    const tables = TableServiceClient.fromConnectionString(ctx.storageConnectionString, { allowInsecureConnection: true });
    for await (const table of tables.listTables({ queryOptions: { filter: `TableName eq '${settings.realHubTable}'` } })) {
      throw new RealTaskHubError(
        `storage already holds task hub '${settings.hubName}' of a real Functions host (table ${table.name ?? settings.realHubTable}): the local Durable runner does not share a hub with it; set another DURABLE_TASK_HUB or use other storage`,
      );
    }
  };

  // The activity runner wakes instances through the dispatcher, which wakes the runner when it schedules work.
  let wakeActivities = (): void => undefined;
  const dispatcher = createControlDispatcher({
    store,
    control,
    workItems: { send: (text) => workItems.sendMessage(text), wake: () => wakeActivities() },
    settings,
    episode: { store, invoker: ctx.invoker, log: ctx.log, owner: `${process.pid}-${randomUUID()}`, leaseMs: settings.leaseSeconds * 1000, newExecutionId },
    clock,
    log,
  });
  const activities = createActivityRunner({ invoker: ctx.invoker, hostLog: ctx.log, store, workItems, settings, wake: dispatcher.wake, clock, log });
  wakeActivities = activities.wake;
  bindDurableClient({ ctx, settings, store, wake: dispatcher.wake, newExecutionId, now: clock.now });

  const boot = async (): Promise<void> => {
    await refuseRealHub();
    await Promise.all([store.init(), control.createIfNotExists(), workItems.createIfNotExists()]);
    // Instances whose wake-up was lost (a crash between a write and its message) resume here.
    const active = await store.list(`runtimeStatus eq 'Pending' or runtimeStatus eq 'Running'`);
    await Promise.all(active.map((r) => dispatcher.wake(r.instanceId)));
    log('information', `Durable task hub '${settings.hubName}' (table ${settings.tableName}, queues ${settings.controlQueue}, ${settings.workItemQueue}); ${active.length} instances to resume`);
  };

  let stopping = false;
  let running: { done: Promise<void>; wake: () => void } | undefined;
  return {
    name: 'durable',
    start: async () => {
      running = await openThenRun({
        open: boot,
        run: async () => void (await Promise.all([dispatcher.worker.run(), activities.run()])),
        isFatal: (e) => isRefusal(e) || e instanceof RealTaskHubError,
        stopped: () => stopping,
        log,
        what: 'Durable storage',
        maxPollingIntervalMs: settings.maxPollingIntervalMs,
        clock,
      });
    },
    stop: async () => {
      stopping = true;
      dispatcher.worker.stop();
      activities.stop();
      running?.wake();
      await running?.done;
      await dispatcher.drained();
    },
  };
};
