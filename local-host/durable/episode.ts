import { functionsWithTrigger, type Invoker } from '../core/invoke';
import type { Logger } from '../core/logger';
import type { TypedData } from '../core/types';
import { activityInputText, OrchestratorState, planActions } from './actions';
import { EventType, type HistoryEvent, type HistoryIndex, indexHistory, retryDelayMs } from './history';
import { ConflictError, type Instance, type InboxRow, type InstanceStore, isActive, type StoredInstance } from './store';

/** Replay schema V4: one cumulative action list. */
const UPPER_SCHEMA_VERSION = 3;
/**
 * Timers of any length are one timer here (the runner re-sends queue messages for long delays),
 * so the library never needs to split them into the Azure Storage provider's 6-day pieces.
 */
const MAXIMUM_SHORT_TIMER_DURATION = '36500.00:00:00';
const LONG_RUNNING_TIMER_INTERVAL = '3.00:00:00';
/** A timer message may arrive a little early (clock steps, rounding of the visibility delay). */
const TIMER_TOLERANCE_MS = 1000;
const OUT_OF_PROC_LABEL = '$OutOfProcData$:';

export type Outbox = {
  workItems: { instanceId: string; executionId: string; taskId: number; name: string; input: string | undefined }[];
  timers: { instanceId: string; executionId: string; timerId: number; fireAt: string }[];
};

export type EpisodeDeps = {
  store: InstanceStore;
  invoker: Invoker;
  log: Logger;
  /** Identifies this worker in instance leases. */
  owner: string;
  leaseMs: number;
  now: () => number;
  newExecutionId: () => string;
  /** Sends work items and timers before the commit: a crash after sending only repeats work. */
  send: (outbox: Outbox) => Promise<void>;
};

export type EpisodeResult = 'idle' | 'again';

type Classified = { accepted: InboxRow[]; drop: string[]; deferred: boolean };

/**
 * Decides which inbox rows this episode applies. A result counts only when the committed history
 * scheduled its task and has no result for it yet (repeats and strays from a crashed episode are
 * dropped; results that arrive before their scheduling episode commits wait). At most one retry
 * event is applied, last, because the library numbers the retry's next task while replaying it.
 */
const classify = (inbox: InboxRow[], index: HistoryIndex, instance: Instance, now: number): Classified => {
  const result: Classified = { accepted: [], drop: [], deferred: false };
  let retryEvent: InboxRow | undefined;
  const ordered = [...inbox].sort((a, b) =>
    a.event.EventType === EventType.ExecutionStarted ? -1 : b.event.EventType === EventType.ExecutionStarted ? 1 : a.event.Timestamp.localeCompare(b.event.Timestamp),
  );
  const startAccepted = (): boolean => index.started || result.accepted.some((r) => r.event.EventType === EventType.ExecutionStarted);
  for (const row of ordered) {
    const e = row.event;
    if ((row.executionId !== '' && row.executionId !== instance.executionId) || index.inboxKeys.has(row.rowKey)) {
      result.drop.push(row.rowKey);
      continue;
    }
    const taskId = e.EventType === EventType.TimerFired ? e.TimerId : e.TaskScheduledId;
    switch (e.EventType) {
      case EventType.ExecutionStarted:
        if (index.started) result.drop.push(row.rowKey);
        else result.accepted.push(row);
        break;
      case EventType.EventRaised:
      case EventType.ExecutionTerminated:
        if (startAccepted() || e.EventType === EventType.ExecutionTerminated) result.accepted.push(row);
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.TimerFired: {
        const origin = taskId === undefined ? undefined : e.EventType === EventType.TimerFired ? index.timers.get(taskId) : index.scheduled.get(taskId);
        if (taskId === undefined || (origin === undefined && taskId < instance.nextSeq) || index.completed.has(taskId)) {
          result.drop.push(row.rowKey);
        } else if (origin === undefined) {
          // Scheduled by an episode that has not committed yet: keep the row for the next one.
        } else if (e.EventType === EventType.TimerFired && now + TIMER_TOLERANCE_MS < Date.parse(origin.FireAt ?? '')) {
          result.drop.push(row.rowKey); // a stray timer from an episode that never committed
        } else {
          const accepted = { ...row, event: e.EventType === EventType.TimerFired ? { ...e, FireAt: origin.FireAt } : e };
          const isRetry = (e.EventType === EventType.TaskFailed && origin.Retry !== undefined) || (e.EventType === EventType.TimerFired && origin.RetryOf !== undefined);
          if (!isRetry) result.accepted.push(accepted);
          else if (retryEvent === undefined) retryEvent = accepted;
          else result.deferred = true;
        }
        break;
      }
      default:
        result.drop.push(row.rowKey);
    }
  }
  if (retryEvent !== undefined) result.accepted.push(retryEvent);
  return result;
};

type Outcome = { kind: 'state'; state: OrchestratorState } | { kind: 'failed'; message: string; customStatus?: unknown };

const parseState = (text: string): OrchestratorState | undefined => {
  try {
    const decoded = OrchestratorState.decode(JSON.parse(text));
    return decoded._tag === 'Right' ? decoded.right : undefined;
  } catch {
    return undefined;
  }
};

const typedText = (data: TypedData | null | undefined): string | undefined => data?.json ?? data?.string ?? undefined;

const runOrchestrator = async (deps: EpisodeDeps, input: { instanceId: string; instance: Instance; history: HistoryEvent[]; replaying: boolean }): Promise<Outcome> => {
  const fn = functionsWithTrigger(deps.invoker.registry, 'orchestrationTrigger').find((f) => f.metadata.name.toLowerCase() === input.instance.name.toLowerCase());
  if (fn === undefined) return { kind: 'failed', message: `The orchestrator function '${input.instance.name}' does not exist` };
  const binding = {
    history: input.history,
    input: input.instance.input === undefined ? null : (JSON.parse(input.instance.input) as unknown),
    instanceId: input.instanceId,
    isReplaying: input.replaying,
    upperSchemaVersion: UPPER_SCHEMA_VERSION,
    maximumShortTimerDuration: MAXIMUM_SHORT_TIMER_DURATION,
    longRunningTimerIntervalDuration: LONG_RUNNING_TIMER_INTERVAL,
    defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
  };
  const outcome = await deps.invoker.invoke(fn, { data: { string: JSON.stringify(binding) } });
  if (outcome.kind === 'failed') {
    // The library's failure carries its state after a label; the text before it is not the cause.
    const [cause, stateText] = outcome.error.message.split(OUT_OF_PROC_LABEL);
    const state = stateText === undefined ? undefined : parseState(stateText);
    const message = state?.error ?? (cause ?? outcome.error.message).trim();
    deps.log.invocation({ function: fn.metadata.name, invocationId: outcome.invocationId, durationMs: outcome.durationMs, outcome: 'failed', trigger: 'orchestrationTrigger', error: message });
    return { kind: 'failed', message, customStatus: state?.customStatus };
  }
  deps.log.invocation({ function: fn.metadata.name, invocationId: outcome.invocationId, durationMs: outcome.durationMs, outcome: 'succeeded', trigger: 'orchestrationTrigger' });
  const text = typedText(outcome.response.returnValue);
  const state = text === undefined ? undefined : parseState(text);
  return state === undefined ? { kind: 'failed', message: 'The orchestrator returned no orchestration state (is it registered with df.app.orchestration?)' } : { kind: 'state', state };
};

const event = (type: number, timestamp: string, fields: Partial<HistoryEvent> = {}): HistoryEvent => ({ EventType: type, EventId: -1, Timestamp: timestamp, IsPlayed: false, ...fields });

const json = (value: unknown): string | undefined => (value === undefined ? undefined : JSON.stringify(value));

/**
 * One episode of one instance: apply what arrived in its inbox, replay the orchestrator over the
 * whole history, schedule the tasks it added, commit history and state under the instance lease.
 */
export const runEpisode = async (deps: EpisodeDeps, instanceId: string): Promise<EpisodeResult> => {
  const { store } = deps;
  const stored = await store.get(instanceId);
  const inbox = await store.inbox(instanceId);
  if (inbox.length === 0) return 'idle';
  if (stored === undefined || !isActive(stored.instance.runtimeStatus)) {
    // Results for an instance that finished, was terminated or purged: nothing will read them.
    await store.deleteRows(
      instanceId,
      inbox.map((r) => r.rowKey),
    );
    return 'idle';
  }
  const now = deps.now();
  const history = await store.history(instanceId, stored.instance);
  const index = indexHistory(history);
  const { accepted, drop, deferred } = classify(inbox, index, stored.instance, now);
  if (accepted.length === 0) {
    await store.deleteRows(instanceId, drop);
    return 'idle';
  }
  const leased = await store.lease(stored, deps.owner, now + deps.leaseMs);
  const timestamp = new Date(now).toISOString();
  const newEvents: HistoryEvent[] = [event(EventType.OrchestratorStarted, timestamp), ...accepted.map((r) => ({ ...r.event, IsPlayed: false, InboxKey: r.rowKey }))];
  const base: Instance = { ...leased.instance, lockOwner: '', lockedUntil: 0, lastUpdatedTime: timestamp };
  const deleteRowKeys = [...drop, ...accepted.map((r) => r.rowKey)];
  const commit = (instance: Instance, events: HistoryEvent[], extra: { inbox?: InboxRow[] } = {}): Promise<StoredInstance> =>
    store.commit({
      stored: leased,
      instance: { ...instance, historyCount: instance.executionId === base.executionId ? base.historyCount + events.length : 0 },
      commit: { history: events, historyExecutionId: base.executionId, historyStart: base.historyCount, deleteRowKeys, ...extra },
    });

  const terminate = accepted.find((r) => r.event.EventType === EventType.ExecutionTerminated);
  if (terminate !== undefined) {
    await commit({ ...base, runtimeStatus: 'Terminated', output: JSON.stringify(terminate.event.Input ?? '') }, newEvents);
    deps.log.log('information', 'durable', `Instance ${instanceId} terminated`, { instanceId });
    return 'idle';
  }

  const outcome = await runOrchestrator(deps, { instanceId, instance: base, history: [...history.map((e) => ({ ...e, IsPlayed: true })), ...newEvents], replaying: history.length > 0 });
  const fail = async (message: string, customStatus: unknown): Promise<EpisodeResult> => {
    const output = `Orchestrator function '${base.name}' failed: ${message}`;
    await commit({ ...base, runtimeStatus: 'Failed', output: JSON.stringify(output), customStatus: json(customStatus) ?? base.customStatus }, [
      ...newEvents,
      event(EventType.OrchestratorCompleted, timestamp),
      event(EventType.ExecutionCompleted, timestamp, { Result: JSON.stringify(output) }),
    ]);
    deps.log.log('warning', 'durable', `Instance ${instanceId} failed: ${message}`, { instanceId });
    return 'idle';
  };
  if (outcome.kind === 'failed') return fail(outcome.message, outcome.customStatus);
  const { state } = outcome;
  const customStatus = json(state.customStatus) ?? base.customStatus;
  const plan = planActions(state);
  if (plan.unsupported.length > 0) return fail(`the local host does not support ${[...new Set(plan.unsupported)].join(', ')}`, state.customStatus);
  if (plan.leaves.length < base.leafCount) return fail(`non-deterministic orchestrator: ${plan.leaves.length} tasks on replay, ${base.leafCount} scheduled before`, state.customStatus);

  if (state.isDone && plan.continueAsNew !== undefined) {
    const executionId = deps.newExecutionId();
    const input = activityInputText(plan.continueAsNew.input);
    const startRow: InboxRow = { rowKey: `i-start-${executionId}`, executionId, event: event(EventType.ExecutionStarted, timestamp, { Name: base.name, Input: input ?? null }) };
    await commit(
      { ...base, runtimeStatus: 'Running', executionId, input, output: undefined, customStatus, historyCount: 0, nextSeq: 0, leafCount: 0 },
      [...newEvents, event(EventType.OrchestratorCompleted, timestamp), event(EventType.ExecutionCompleted, timestamp, { Result: null })],
      { inbox: [startRow] },
    );
    store.deleteOtherExecutions(instanceId, executionId).catch((e: unknown) => deps.log.log('warning', 'durable', `Cleaning old history of ${instanceId} failed: ${String(e)}`));
    return 'again';
  }
  if (state.isDone) {
    const output = JSON.stringify(state.output ?? null);
    await commit({ ...base, runtimeStatus: 'Completed', output, customStatus }, [
      ...newEvents,
      event(EventType.OrchestratorCompleted, timestamp),
      event(EventType.ExecutionCompleted, timestamp, { Result: output }),
    ]);
    deps.log.log('information', 'durable', `Instance ${instanceId} completed`, { instanceId });
    return deferred ? 'again' : 'idle';
  }

  // Number new tasks the way the library does: new leaves first, then the retry event's task.
  let seq = base.nextSeq;
  const scheduled: HistoryEvent[] = [];
  const outbox: Outbox = { workItems: [], timers: [] };
  const schedule = (name: string, input: string | undefined, retry: HistoryEvent['Retry']): void => {
    const taskId = seq++;
    scheduled.push(event(EventType.TaskScheduled, timestamp, { EventId: taskId, Name: name, Input: input ?? null, ...(retry ? { Retry: retry } : {}) }));
    outbox.workItems.push({ instanceId, executionId: base.executionId, taskId, name, input });
  };
  const timer = (fireAt: string, retryOf?: number): void => {
    const timerId = seq++;
    scheduled.push(event(EventType.TimerCreated, timestamp, { EventId: timerId, FireAt: fireAt, ...(retryOf !== undefined ? { RetryOf: retryOf } : {}) }));
    outbox.timers.push({ instanceId, executionId: base.executionId, timerId, fireAt });
  };
  for (const leaf of plan.leaves.slice(base.leafCount)) {
    if (leaf.kind === 'timer') timer(leaf.fireAt);
    else schedule(leaf.name, activityInputText(leaf.input), leaf.retry ? { options: leaf.retry, attempt: 1 } : undefined);
  }
  const last = accepted[accepted.length - 1]?.event;
  if (last?.EventType === EventType.TaskFailed && last.TaskScheduledId !== undefined) {
    const failed = index.scheduled.get(last.TaskScheduledId);
    if (failed?.Retry !== undefined) timer(new Date(now + retryDelayMs(failed.Retry.options, failed.Retry.attempt)).toISOString(), last.TaskScheduledId);
  } else if (last?.EventType === EventType.TimerFired && last.TimerId !== undefined) {
    const retryOf = index.timers.get(last.TimerId)?.RetryOf;
    const failed = retryOf === undefined ? undefined : index.scheduled.get(retryOf);
    if (failed?.Retry !== undefined && failed.Retry.attempt < failed.Retry.options.maxNumberOfAttempts) {
      schedule(failed.Name ?? '', failed.Input ?? undefined, { options: failed.Retry.options, attempt: failed.Retry.attempt + 1 });
    }
  }
  await deps.send(outbox);
  await commit({ ...base, runtimeStatus: 'Running', customStatus, nextSeq: seq, leafCount: plan.leaves.length }, [...newEvents, ...scheduled, event(EventType.OrchestratorCompleted, timestamp)]);
  return deferred ? 'again' : 'idle';
};

export { ConflictError };
