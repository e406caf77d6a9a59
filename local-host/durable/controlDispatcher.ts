import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import { type Clock, createQueueWorker, type QueueWorker, type WorkerLog } from '../worker';
import { asciiJson } from './asciiWire';
import { type EpisodeDeps, type Outbox, runEpisode } from './episode';
import { EventType } from './history';
import { ControlMessage, decodeJson, MAX_INLINE_MESSAGE_CHARS, MAX_TIMER_DELAY_SECONDS, WorkItem } from './messages';
import type { DurableSettings } from './settings';
import { ConflictError, type InstanceStore } from './store';

/** Episodes of one instance in a row before its runner yields to the queue again. */
const MAX_EPISODES_PER_WAKE = 50;
/** A message that conflicts with another worker's lease comes back after this. */
const CONFLICT_RETRY_SECONDS = 1;
/** The queue service's batch limit: one receive takes at most this many control messages. */
const CONTROL_BATCH_SIZE = 32;

export type ControlDispatcher = {
  worker: QueueWorker;
  /** Tells this instance's runner (here or in another process) that its inbox has new rows. */
  wake: (instanceId: string) => Promise<void>;
  /** Settles once every episode this process started has ended. */
  drained: () => Promise<void>;
};

/**
 * The control queue's consumer: wake-ups and due timers, grouped by instance, each instance's
 * episodes run one after another in this process. Also sends what episodes schedule: work items to
 * the activity queue and timers back to the control queue.
 */
export const createControlDispatcher = (deps: {
  store: InstanceStore;
  control: QueueClient;
  workItems: { send: (text: string) => Promise<unknown>; wake: () => void };
  settings: DurableSettings;
  episode: Omit<EpisodeDeps, 'send' | 'now'>;
  clock: Clock;
  log: WorkerLog;
}): ControlDispatcher => {
  const { store, control, settings, clock, log } = deps;
  const wake = async (instanceId: string): Promise<void> => {
    await control.sendMessage(asciiJson(JSON.stringify({ kind: 'wake', instanceId } satisfies ControlMessage)));
    worker.wake();
  };

  const sendTimer = async (timer: Extract<ControlMessage, { kind: 'timer' }>): Promise<void> => {
    const delaySeconds = Math.min(MAX_TIMER_DELAY_SECONDS, Math.max(0, Math.ceil((Date.parse(timer.fireAt) - clock.now()) / 1000)));
    await control.sendMessage(asciiJson(JSON.stringify(timer)), { visibilityTimeout: delaySeconds });
  };

  const sendOutbox = async (outbox: Outbox): Promise<void> => {
    await Promise.all([
      ...outbox.workItems.map(async (w) => {
        const item: WorkItem = { instanceId: w.instanceId, executionId: w.executionId, taskId: w.taskId, name: w.name };
        const inline = asciiJson(JSON.stringify({ ...item, input: w.input }));
        if (w.input === undefined || inline.length <= MAX_INLINE_MESSAGE_CHARS) return deps.workItems.send(inline);
        const inputRow = `p-${w.executionId}-${w.taskId}`;
        await store.putPayload(w.instanceId, inputRow, w.input);
        return deps.workItems.send(asciiJson(JSON.stringify({ ...item, inputRow } satisfies WorkItem)));
      }),
      ...outbox.timers.map((tm) => sendTimer({ kind: 'timer', ...tm })),
    ]);
    if (outbox.workItems.length > 0) deps.workItems.wake();
  };

  const episodeDeps: EpisodeDeps = { ...deps.episode, now: clock.now, send: sendOutbox };

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

  /** Decodes the batch (a due timer becomes an inbox row), then runs each instance once. */
  const groupByInstance = async (messages: DequeuedMessageItem[]): Promise<Map<string, DequeuedMessageItem[]>> => {
    const byInstance = new Map<string, DequeuedMessageItem[]>();
    for (const m of messages) {
      const decoded = decodeJson(ControlMessage, m.messageText);
      if (decoded === undefined) {
        log('warning', `Dropping an undecodable control message ${m.messageId}`);
        await control.deleteMessage(m.messageId, m.popReceipt);
        continue;
      }
      if (decoded.kind === 'timer') {
        if (Date.parse(decoded.fireAt) - clock.now() > 1000) {
          // Longer than the queue's visibility limit: send it again for the remaining time.
          await sendTimer(decoded);
          await control.deleteMessage(m.messageId, m.popReceipt);
          continue;
        }
        await store.deliver(decoded.instanceId, {
          rowKey: `i-timer-${decoded.executionId}-${decoded.timerId}`,
          executionId: decoded.executionId,
          event: { EventType: EventType.TimerFired, EventId: -1, Timestamp: new Date(clock.now()).toISOString(), TimerId: decoded.timerId, FireAt: decoded.fireAt },
        });
      }
      byInstance.set(decoded.instanceId, [...(byInstance.get(decoded.instanceId) ?? []), m]);
    }
    return byInstance;
  };

  const runInstance = async (instanceId: string, ms: DequeuedMessageItem[]): Promise<void> => {
    try {
      await processInstance(instanceId);
      await Promise.all(ms.map((m) => control.deleteMessage(m.messageId, m.popReceipt)));
    } catch (e) {
      if (e instanceof ConflictError) {
        log('debug', `Instance ${instanceId} is busy elsewhere: retrying`, { instanceId });
        await Promise.all(
          ms.map((m) =>
            control.updateMessage(m.messageId, m.popReceipt, undefined, CONFLICT_RETRY_SECONDS).catch((u: unknown) => {
              // The message then comes back after its visibility timeout instead: later, not lost.
              log('warning', `Could not bring control message ${m.messageId} back early: ${u instanceof Error ? u.message : String(u)}`, { instanceId });
            }),
          ),
        );
      } else {
        log('error', `Episode of ${instanceId} failed (retried after the visibility timeout): ${(e as Error).stack ?? String(e)}`, { instanceId });
      }
    }
  };

  const handleBatch = async (messages: DequeuedMessageItem[]): Promise<void> => {
    const byInstance = await groupByInstance(messages);
    await Promise.all([...byInstance].map(([instanceId, ms]) => runInstance(instanceId, ms)));
  };

  const worker: QueueWorker = createQueueWorker<DequeuedMessageItem>({
    name: `control queue ${settings.controlQueue}`,
    log,
    clock,
    receive: async (max) => (await control.receiveMessages({ numberOfMessages: max, visibilityTimeout: settings.visibilityTimeoutSeconds })).receivedMessageItems,
    handle: (messages) => [handleBatch(messages)],
    // A batch is done before the next is fetched: its instances' episodes see every message in it.
    batchSize: CONTROL_BATCH_SIZE,
    refillAt: 0,
    maxInFlight: CONTROL_BATCH_SIZE,
    maxPollingIntervalMs: settings.maxPollingIntervalMs,
  });

  return { worker, wake, drained: async () => void (await Promise.all([...running.values()])) };
};
