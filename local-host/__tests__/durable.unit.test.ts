import { randomUUID } from 'node:crypto';
import { planActions } from '../durable/actions';
import { indexHistory, retryDelayMs } from '../durable/history';
import { durableSettings, resolveAppSettings, sanitizeHubName } from '../durable/settings';
import { ConflictError, createInstanceStore, getText, type Instance, putText } from '../durable/store';
import { storageConnectionString } from '../testing/spawnHost';

describe('planActions', () => {
  it('numbers leaves depth-first through Task.all/any, skipping external events and continueAsNew', () => {
    const plan = planActions({
      isDone: false,
      actions: [
        [
          { actionType: 0, functionName: 'A', input: '"x"' },
          {
            actionType: 12,
            compoundActions: [
              { actionType: 0, functionName: 'B', input: 1 },
              { actionType: 11, compoundActions: [{ actionType: 5, fireAt: '2030-01-01T00:00:00.000Z' }, { actionType: 6 }] },
            ],
          },
          { actionType: 1, functionName: 'C', retryOptions: { firstRetryIntervalInMilliseconds: 10, maxNumberOfAttempts: 2 } },
          { actionType: 4, input: 5 },
        ],
      ],
    });
    expect(plan.leaves).toEqual([
      { kind: 'activity', name: 'A', input: '"x"' },
      { kind: 'activity', name: 'B', input: 1 },
      { kind: 'timer', fireAt: '2030-01-01T00:00:00.000Z' },
      { kind: 'activity', name: 'C', input: undefined, retry: { firstRetryIntervalInMilliseconds: 10, maxNumberOfAttempts: 2 } },
    ]);
    expect(plan.continueAsNew).toEqual({ input: 5 });
    expect(plan.unsupported).toEqual([]);
  });

  it('reports what the host does not run', () => {
    const plan = planActions({ isDone: false, actions: [[{ actionType: 2 }, { actionType: 7 }, { actionType: 8 }, { actionType: 1, retryOptions: {} }, { actionType: 99 }]] });
    expect(plan.unsupported).toEqual(['sub-orchestrations', 'entities', 'durable HTTP calls', 'callActivityWithRetry without valid retry options', 'action type 99']);
    expect(plan.leaves).toEqual([]);
  });
});

describe('retry and history helpers', () => {
  it('grows the retry delay by the backoff coefficient, capped by the maximum interval', () => {
    const options = { firstRetryIntervalInMilliseconds: 100, maxNumberOfAttempts: 5, backoffCoefficient: 2, maxRetryIntervalInMilliseconds: 300 };
    expect([1, 2, 3, 4].map((a) => retryDelayMs(options, a))).toEqual([100, 200, 300, 300]);
    expect(retryDelayMs({ firstRetryIntervalInMilliseconds: 50, maxNumberOfAttempts: 2 }, 3)).toBe(50);
  });

  it('indexes scheduled, completed and inbox-fed events', () => {
    const ts = '2024-01-01T00:00:00.000Z';
    const index = indexHistory([
      { EventType: 0, EventId: -1, Timestamp: ts, InboxKey: 'i-start' },
      { EventType: 4, EventId: 0, Timestamp: ts, Name: 'A' },
      { EventType: 10, EventId: 1, Timestamp: ts, FireAt: ts },
      { EventType: 5, EventId: -1, Timestamp: ts, TaskScheduledId: 0, InboxKey: 'i-task-0' },
    ]);
    expect(index.started).toBe(true);
    expect([...index.scheduled.keys()]).toEqual([0]);
    expect([...index.timers.keys()]).toEqual([1]);
    expect([...index.completed]).toEqual([0]);
    expect([...index.inboxKeys]).toEqual(['i-start', 'i-task-0']);
  });
});

describe('durable settings', () => {
  it('sanitizes hub names for tables and queues', () => {
    expect(sanitizeHubName('My-Hub_1')).toBe('MyHub1');
    expect(sanitizeHubName('1hub')).toBe('h1hub');
    expect(sanitizeHubName('-')).toBe('h00');
  });

  it('resolves %SETTING% references and fails clearly when one is missing', () => {
    expect(resolveAppSettings('%HUB%x', { HUB: 'abc' })).toBe('abcx');
    expect(() => resolveAppSettings('%MISSING%', {})).toThrow(/MISSING/);
  });

  it('reads tuning from the environment and rejects non-positive numbers', () => {
    const s = durableSettings({ extensions: { durableTask: { hubName: 'Hub' } } }, { LOCAL_HOST_DURABLE_LEASE_SECONDS: '5' });
    expect(s).toMatchObject({
      hubName: 'Hub',
      tableName: 'lhHubInstances',
      realHubTable: 'HubHistory',
      controlQueue: 'lhhub-control',
      workItemQueue: 'lhhub-workitems',
      leaseSeconds: 5,
      visibilityTimeoutSeconds: 30,
    });
    expect(durableSettings({}, {}).hubName).toBe('TestHubName');
    expect(() => durableSettings({}, { LOCAL_HOST_DURABLE_VISIBILITY_TIMEOUT_SECONDS: '0' })).toThrow(/LOCAL_HOST_DURABLE_VISIBILITY_TIMEOUT_SECONDS/);
  });
});

describe('chunked text properties', () => {
  it('round-trips texts longer than one property allows', () => {
    const entity: Record<string, unknown> = {};
    const text = 'é'.repeat(70_000);
    putText(entity, 'output', text);
    expect(Object.keys(entity).sort()).toEqual(['output', 'output_1', 'output_2', 'output_chunks']);
    expect(getText(entity, 'output')).toBe(text);
    delete entity.output_1;
    expect(() => getText(entity, 'output')).toThrow(/chunk 1/);
  });
});

describe('instance store (Azurite)', () => {
  const store = createInstanceStore({ connectionString: storageConnectionString(), tableName: `DurableUnit${randomUUID().replace(/-/g, '').slice(0, 8)}` });
  const now = new Date().toISOString();
  const instance = (input?: string): Instance => ({
    name: 'orch',
    runtimeStatus: 'Pending',
    createdTime: now,
    lastUpdatedTime: now,
    executionId: 'e1',
    historyCount: 0,
    nextSeq: 0,
    leafCount: 0,
    lockOwner: '',
    lockedUntil: 0,
    input,
  });
  const startEvent = { rowKey: 'i-start-e1', executionId: 'e1', event: { EventType: 0, EventId: -1, Timestamp: now } };

  beforeAll(async () => {
    await store.init();
  });

  it('stores a large input across chunks and refuses a second create of the same id', async () => {
    const id = `big-${randomUUID()}`;
    const input = JSON.stringify('x'.repeat(100_000));
    await store.start({ instanceId: id, instance: instance(input), etag: undefined, startEvent });
    expect((await store.get(id))?.instance.input).toBe(input);
    await expect(store.start({ instanceId: id, instance: instance(), etag: undefined, startEvent })).rejects.toBeInstanceOf(ConflictError);
  });

  it('lets one worker hold an instance at a time, and another take it once the lease lapses', async () => {
    const id = `lease-${randomUUID()}`;
    await store.start({ instanceId: id, instance: instance(), etag: undefined, startEvent });
    const read = (await store.get(id))!;
    const held = await store.lease(read, 'worker-a', Date.now() + 60_000);
    // A worker that read before the lease was taken loses on the ETag...
    await expect(store.lease(read, 'worker-b', Date.now() + 60_000)).rejects.toBeInstanceOf(ConflictError);
    // ...and one that reads it afterwards sees the live lease.
    await expect(store.lease((await store.get(id))!, 'worker-b', Date.now() + 60_000)).rejects.toBeInstanceOf(ConflictError);
    // The holder's commit with a stale ETag fails too.
    await expect(store.commit({ stored: read, instance: held.instance, commit: { history: [], historyExecutionId: 'e1', historyStart: 0, deleteRowKeys: [] } })).rejects.toBeInstanceOf(ConflictError);
    const committed = await store.commit({
      stored: held,
      instance: { ...held.instance, lockOwner: 'worker-a', lockedUntil: Date.now() - 1 },
      commit: { history: [startEvent.event], historyExecutionId: 'e1', historyStart: 0, deleteRowKeys: ['i-start-e1'] },
    });
    expect(await store.inbox(id)).toEqual([]);
    expect(await store.history(id, { executionId: 'e1', historyCount: 1 })).toEqual([startEvent.event]);
    const taken = await store.lease(committed, 'worker-b', Date.now() + 60_000);
    expect(taken.instance.lockOwner).toBe('worker-b');
  });

  it('commits more than one transaction worth of history rows and inbox deletions', async () => {
    const id = `many-${randomUUID()}`;
    await store.start({ instanceId: id, instance: instance(), etag: undefined, startEvent });
    const rows = Array.from({ length: 150 }, (_, i) => ({ rowKey: `i-task-e1-${i}`, executionId: 'e1', event: { EventType: 5, EventId: -1, Timestamp: now, TaskScheduledId: i, Result: String(i) } }));
    for (const row of rows) await store.deliver(id, row);
    const read = (await store.get(id))!;
    await store.commit({
      stored: read,
      instance: { ...read.instance, historyCount: 250 },
      commit: {
        history: Array.from({ length: 250 }, (_, i) => ({ EventType: 4, EventId: i, Timestamp: now })),
        historyExecutionId: 'e1',
        historyStart: 0,
        deleteRowKeys: ['i-start-e1', ...rows.map((r) => r.rowKey)],
      },
    });
    expect((await store.history(id, { executionId: 'e1', historyCount: 250 })).map((e) => e.EventId)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(await store.inbox(id)).toEqual([]);
    expect(await store.purge(id)).toBe(1);
    expect(await store.get(id)).toBeUndefined();
  });
});
