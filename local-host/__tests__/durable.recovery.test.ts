import { randomUUID } from 'node:crypto';
import type { AppRegistry } from '../core/functionsCore';
import type { Invoker } from '../core/invoke';
import type { Logger } from '../core/logger';
import type { RegisteredFunction } from '../core/types';
import { ActionType } from '../durable/actions';
import { type EpisodeDeps, type Outbox, runEpisode } from '../durable/episode';
import { EventType, type HistoryEvent } from '../durable/history';
import { ConflictError, createInstanceStore, type Instance, type InstanceStore, type StoredInstance } from '../durable/store';
import { storageConnectionString } from '../testing/spawnHost';

/*
 * Recovery from a worker that dies in the middle of a commit. A commit writes the episode's history
 * rows first and the instance row (the commit point) last, so a crash between the two leaves history
 * rows past the committed count. They must not count: they hold the result the episode was applying,
 * and taking them for applied history drops the real result from the inbox, leaving the instance
 * Running forever (the symptom of the SIGKILL fault test).
 */

const ACTIVITY = 'Echo';
const ORCHESTRATOR = 'callOnce';

/** An orchestrator in the library's replay protocol: one activity, then its result as output. */
const scriptedOrchestrator = (bindingText: string): string => {
  const binding = JSON.parse(bindingText) as { history: HistoryEvent[]; input: unknown };
  const done = binding.history.find((e) => e.EventType === EventType.TaskCompleted);
  const state =
    done === undefined
      ? { isDone: false, actions: [[{ actionType: ActionType.CallActivity, functionName: ACTIVITY, input: binding.input }]] }
      : { isDone: true, actions: [[{ actionType: ActionType.CallActivity, functionName: ACTIVITY, input: binding.input }]], output: JSON.parse(done.Result ?? 'null') as unknown };
  return JSON.stringify(state);
};

const orchestratorFunction: RegisteredFunction = {
  metadata: { name: ORCHESTRATOR, bindings: { context: { type: 'orchestrationTrigger', direction: 'in' } } },
  callback: () => undefined,
};

const invoker: Invoker = {
  registry: { functions: [orchestratorFunction], hooks: new Map(), programmingModel: undefined } satisfies AppRegistry,
  invoke: async (_fn, trigger) => ({
    kind: 'succeeded',
    invocationId: randomUUID(),
    durationMs: 0,
    response: { invocationId: '', returnValue: { json: scriptedOrchestrator(trigger.data.string ?? '') } },
  }),
  provideInput: () => undefined,
  handleOutput: () => undefined,
};

const quietLog: Logger = { log: () => undefined, invocation: () => undefined };

describe('durable recovery from a commit cut short (Azurite)', () => {
  const store = createInstanceStore({ connectionString: storageConnectionString(), tableName: `DurableRecovery${randomUUID().replace(/-/g, '').slice(0, 8)}` });
  const now = new Date().toISOString();
  const newInstance = (): Instance => ({
    name: ORCHESTRATOR,
    runtimeStatus: 'Pending',
    createdTime: now,
    lastUpdatedTime: now,
    executionId: 'e1',
    historyCount: 0,
    nextSeq: 0,
    leafCount: 0,
    lockOwner: '',
    lockedUntil: 0,
    input: '"ping"',
  });
  const startRow = { rowKey: 'i-start-e1', executionId: 'e1', event: { EventType: EventType.ExecutionStarted, EventId: -1, Timestamp: now, Name: ORCHESTRATOR, Input: '"ping"' } };

  const deps = (overrides: Partial<EpisodeDeps> & { sent?: Outbox[] }): EpisodeDeps => ({
    store,
    invoker,
    log: quietLog,
    owner: `worker-${randomUUID()}`,
    leaseMs: 60_000,
    now: () => Date.now(),
    newExecutionId: () => randomUUID().replace(/-/g, ''),
    send: async (outbox) => {
      overrides.sent?.push(outbox);
    },
    ...overrides,
  });

  /**
   * A store whose commit dies at the commit point: its history rows are written, then the instance
   * row write fails (it is made against the ETag from before the lease, as a worker that lost the
   * race would), so nothing past the history rows happens, as when the host is killed there.
   */
  const dyingAtCommitPoint = (): InstanceStore => {
    let beforeLease: StoredInstance | undefined;
    return {
      ...store,
      lease: async (stored, owner, until) => {
        beforeLease = stored;
        return store.lease(stored, owner, until);
      },
      commit: async (input) => store.commit({ ...input, stored: beforeLease ?? input.stored }),
    };
  };

  beforeAll(async () => {
    await store.init();
  });

  it('reads only the committed history rows, not those of a commit that never reached the instance row', async () => {
    const id = `partial-${randomUUID()}`;
    await store.start({ instanceId: id, instance: newInstance(), etag: undefined, startEvent: startRow });
    const read = (await store.get(id))!;
    const committed = await store.commit({
      stored: read,
      instance: { ...read.instance, historyCount: 2 },
      commit: {
        history: [startRow.event, { EventType: EventType.TaskScheduled, EventId: 0, Timestamp: now, Name: ACTIVITY }],
        historyExecutionId: 'e1',
        historyStart: 0,
        deleteRowKeys: ['i-start-e1'],
      },
    });
    // A second commit against a stale ETag: its history rows land, the instance row does not move.
    const stray: HistoryEvent = { EventType: EventType.TaskCompleted, EventId: -1, Timestamp: now, TaskScheduledId: 0, Result: '1', InboxKey: 'i-task-e1-0' };
    await expect(
      store.commit({ stored: read, instance: { ...committed.instance, historyCount: 3 }, commit: { history: [stray], historyExecutionId: 'e1', historyStart: 2, deleteRowKeys: [] } }),
    ).rejects.toBeInstanceOf(ConflictError);
    const now2 = (await store.get(id))!;
    expect(now2.instance.historyCount).toBe(2);
    expect((await store.history(id, now2.instance)).map((e) => e.EventType)).toEqual([EventType.ExecutionStarted, EventType.TaskScheduled]);
    expect(await store.history(id, { executionId: 'e1', historyCount: 0 })).toEqual([]);
  });

  it('completes an instance whose result episode died between writing history and the commit point', async () => {
    const id = `cut-${randomUUID()}`;
    await store.start({ instanceId: id, instance: newInstance(), etag: undefined, startEvent: startRow });
    const sent: Outbox[] = [];
    expect(await runEpisode(deps({ sent }), id)).toBe('idle');
    expect(sent.flatMap((o) => o.workItems.map((w) => [w.name, w.taskId]))).toEqual([[ACTIVITY, 0]]);

    // The activity's result arrives; the worker applying it dies at the commit point.
    await store.deliver(id, {
      rowKey: 'i-task-e1-0',
      executionId: 'e1',
      event: { EventType: EventType.TaskCompleted, EventId: -1, Timestamp: new Date().toISOString(), TaskScheduledId: 0, Result: '"pong"' },
    });
    // Its clock is behind so that its lease has lapsed by the time the next worker looks.
    await expect(runEpisode(deps({ store: dyingAtCommitPoint(), now: () => Date.now() - 120_000 }), id)).rejects.toBeInstanceOf(ConflictError);
    expect((await store.get(id))?.instance.runtimeStatus).toBe('Running');
    expect((await store.inbox(id)).map((r) => r.rowKey)).toEqual(['i-task-e1-0']);

    // The next episode (the redelivered wake-up) applies the result that is still in the inbox.
    expect(await runEpisode(deps({}), id)).toBe('idle');
    const after = (await store.get(id))!;
    expect(after.instance.runtimeStatus).toBe('Completed');
    expect(after.instance.output).toBe('"pong"');
    expect(await store.inbox(id)).toEqual([]);
    const history = await store.history(id, after.instance);
    expect(history.filter((e) => e.EventType === EventType.TaskCompleted).map((e) => e.Result)).toEqual(['"pong"']);
    expect(history[history.length - 1]?.EventType).toBe(EventType.ExecutionCompleted);
  });
});
