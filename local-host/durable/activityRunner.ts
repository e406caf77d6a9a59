import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import { functionsWithTrigger, type Invoker } from '../core/invoke';
import type { Logger } from '../core/logger';
import { type Clock, createQueueWorker, errorText, holdMessage, type QueueWorker, type WorkerLog } from '../worker';
import { EventType, type HistoryEvent } from './history';
import { decodeJson, WorkItem } from './messages';
import type { DurableSettings } from './settings';
import type { InstanceStore } from './store';

/** The queue service's batch limit. */
const WORK_ITEM_BATCH_SIZE = 32;

/**
 * The work-item queue's consumer: runs each activity, stores its result in the instance's inbox
 * and wakes the instance. At most `maxConcurrentActivities` run at once.
 */
export const createActivityRunner = (deps: {
  invoker: Invoker;
  hostLog: Logger;
  store: InstanceStore;
  workItems: QueueClient;
  settings: DurableSettings;
  wake: (instanceId: string) => Promise<void>;
  clock: Clock;
  log: WorkerLog;
}): QueueWorker => {
  const { invoker, store, workItems, settings, clock, log } = deps;

  const resultOf = async (item: WorkItem): Promise<HistoryEvent> => {
    const timestamp = (): string => new Date(clock.now()).toISOString();
    const fn = functionsWithTrigger(invoker.registry, 'activityTrigger').find((f) => f.metadata.name.toLowerCase() === item.name.toLowerCase());
    if (fn === undefined) {
      return { EventType: EventType.TaskFailed, EventId: -1, Timestamp: timestamp(), TaskScheduledId: item.taskId, Reason: `The activity function '${item.name}' does not exist`, Details: '' };
    }
    const input = item.inputRow !== undefined ? await store.getPayload(item.instanceId, item.inputRow) : item.input;
    const outcome = await invoker.invoke(fn, { data: input === undefined ? {} : { string: input } });
    deps.hostLog.invocation({
      function: fn.metadata.name,
      invocationId: outcome.invocationId,
      durationMs: outcome.durationMs,
      outcome: outcome.kind,
      trigger: 'activityTrigger',
      error: outcome.kind === 'failed' ? outcome.error.message : undefined,
    });
    if (outcome.kind === 'failed') {
      return {
        EventType: EventType.TaskFailed,
        EventId: -1,
        Timestamp: timestamp(),
        TaskScheduledId: item.taskId,
        Reason: `Activity function '${fn.metadata.name}' failed: ${outcome.error.message}`,
        Details: outcome.error.name,
      };
    }
    const r = outcome.response.returnValue;
    const result = r?.json ?? (r?.string != null ? JSON.stringify(r.string) : r?.int != null ? String(r.int) : r?.double != null ? String(r.double) : 'null');
    return { EventType: EventType.TaskCompleted, EventId: -1, Timestamp: timestamp(), TaskScheduledId: item.taskId, Result: result };
  };

  const runActivity = async (m: DequeuedMessageItem): Promise<void> => {
    const item = decodeJson(WorkItem, m.messageText);
    if (item === undefined) {
      log('warning', `Dropping an undecodable work item ${m.messageId}`);
      await workItems.deleteMessage(m.messageId, m.popReceipt);
      return;
    }
    // An activity may run longer than the visibility timeout: keep its message invisible meanwhile.
    const held = holdMessage({
      clock,
      popReceipt: m.popReceipt,
      visibilitySeconds: settings.visibilityTimeoutSeconds,
      renew: async (popReceipt) => (await workItems.updateMessage(m.messageId, popReceipt, undefined, settings.visibilityTimeoutSeconds)).popReceipt,
      onRenewalError: (e) => log('warning', `Could not renew the visibility of work item ${m.messageId}: ${errorText(e)}`, { instanceId: item.instanceId }),
    });
    try {
      const event = await resultOf(item);
      await store.deliver(item.instanceId, { rowKey: `i-task-${item.executionId}-${item.taskId}`, executionId: item.executionId, event });
      await deps.wake(item.instanceId);
    } catch (e) {
      // The work item runs again after its visibility timeout; its result is keyed, so a repeat is dropped.
      await held.release();
      throw e;
    }
    await workItems.deleteMessage(m.messageId, await held.release());
  };

  return createQueueWorker<DequeuedMessageItem>({
    name: `work-item queue ${settings.workItemQueue}`,
    log,
    clock,
    receive: async (max) => (await workItems.receiveMessages({ numberOfMessages: max, visibilityTimeout: settings.visibilityTimeoutSeconds })).receivedMessageItems,
    handle: (messages) =>
      messages.map((m) => runActivity(m).catch((e: unknown) => log('error', `Activity work item failed (retried after the visibility timeout): ${(e as Error).stack ?? String(e)}`))),
    batchSize: WORK_ITEM_BATCH_SIZE,
    refillAt: settings.maxConcurrentActivities - 1,
    maxInFlight: settings.maxConcurrentActivities,
    maxPollingIntervalMs: settings.maxPollingIntervalMs,
  });
};
