import { type TableEntity, type TableEntityResult, TableClient, type TransactionAction, RestError } from '@azure/data-tables';
import * as t from 'io-ts';
import { asciiTableBodies } from './asciiWire';
import { HistoryEvent } from './history';

export const RuntimeStatus = t.keyof({ Pending: null, Running: null, Completed: null, Failed: null, Terminated: null, ContinuedAsNew: null });
export type RuntimeStatus = t.TypeOf<typeof RuntimeStatus>;

export const isActive = (status: RuntimeStatus): boolean => status === 'Pending' || status === 'Running';

/** The state row of one instance. JSON texts (input, output, customStatus) are stored in chunks. */
export const Instance = t.intersection([
  t.type({
    name: t.string,
    runtimeStatus: RuntimeStatus,
    createdTime: t.string,
    lastUpdatedTime: t.string,
    executionId: t.string,
    /** Rows of history committed for the current execution. */
    historyCount: t.number,
    /** Next number of the library's task id sequence. */
    nextSeq: t.number,
    /** Leaves of the cumulative action list already scheduled. */
    leafCount: t.number,
    lockOwner: t.string,
    /** Epoch ms until which lockOwner holds the instance. */
    lockedUntil: t.number,
  }),
  t.partial({ input: t.string, output: t.string, customStatus: t.string }),
]);
export type Instance = t.TypeOf<typeof Instance>;

export type StoredInstance = { instanceId: string; instance: Instance; etag: string };

export const INSTANCE_ROW = 'instance';
const TEXT_FIELDS = ['input', 'output', 'customStatus'] as const;
/** A string property holds at most 64 KiB, i.e. 32 Ki UTF-16 code units. */
const CHUNK_CHARS = 30_000;
/** Entity group transactions take at most 100 operations. */
const BATCH_OPERATIONS = 100;

export class StoreError extends Error {}
/** Another worker changed or holds the instance: retry later. */
export class ConflictError extends StoreError {}

/** Splits a text into `name`, `name_1`, ... so that no property exceeds the 64 KiB limit. */
export const putText = (entity: Record<string, unknown>, name: string, text: string | undefined): void => {
  if (text === undefined) return;
  const chunks = Math.max(1, Math.ceil(text.length / CHUNK_CHARS));
  for (let i = 0; i < chunks; i++) entity[i === 0 ? name : `${name}_${i}`] = text.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS);
  if (chunks > 1) entity[`${name}_chunks`] = chunks;
};

export const getText = (entity: Record<string, unknown>, name: string): string | undefined => {
  const first = entity[name];
  if (typeof first !== 'string') return undefined;
  const chunks = typeof entity[`${name}_chunks`] === 'number' ? (entity[`${name}_chunks`] as number) : 1;
  let text = first;
  for (let i = 1; i < chunks; i++) {
    const part = entity[`${name}_${i}`];
    if (typeof part !== 'string') throw new StoreError(`Row ${String(entity.rowKey)}: chunk ${i} of ${name} is missing`);
    text += part;
  }
  return text;
};

const isStatus = (e: unknown, status: number): boolean => e instanceof RestError && e.statusCode === status;

const decodeOr = <A>(codec: t.Decoder<unknown, A>, value: unknown, what: string): A => {
  const result = codec.decode(value);
  if (result._tag === 'Left') throw new StoreError(`${what} does not have the expected shape`);
  return result.right;
};

export const historyRowKey = (executionId: string, index: number): string => `h-${executionId}-${String(index).padStart(8, '0')}`;

export type InboxRow = { rowKey: string; executionId: string; event: HistoryEvent };

/** Extra operations of a commit: rows to upsert and rows to delete, all in the instance's partition. */
export type Commit = { history: HistoryEvent[]; historyExecutionId: string; historyStart: number; deleteRowKeys: string[]; inbox?: InboxRow[] };

/**
 * Instance state, history, inbox and large payloads of a task hub in one table, one partition per
 * instance, so that a commit is a few entity group transactions guarded by the instance row's ETag.
 */
export const createInstanceStore = (options: { connectionString: string; tableName: string }) => {
  const table = TableClient.fromConnectionString(options.connectionString, options.tableName, { allowInsecureConnection: true, additionalPolicies: [asciiTableBodies] });

  const toInstanceEntity = (instanceId: string, instance: Instance): TableEntity => {
    const entity: Record<string, unknown> = { partitionKey: instanceId, rowKey: INSTANCE_ROW };
    for (const [key, value] of Object.entries(instance)) if (!(TEXT_FIELDS as readonly string[]).includes(key) && value !== undefined) entity[key] = value;
    for (const field of TEXT_FIELDS) putText(entity, field, instance[field]);
    return entity as TableEntity;
  };

  const fromInstanceEntity = (entity: Record<string, unknown>): Instance => {
    const plain: Record<string, unknown> = { ...entity };
    for (const field of TEXT_FIELDS) plain[field] = getText(entity, field);
    return decodeOr(Instance, plain, `Instance row ${String(entity.partitionKey)}`);
  };

  const eventEntity = (instanceId: string, rowKey: string, event: HistoryEvent, extra: Record<string, unknown> = {}): TableEntity => {
    const entity: Record<string, unknown> = { partitionKey: instanceId, rowKey, ...extra };
    putText(entity, 'event', JSON.stringify(event));
    return entity as TableEntity;
  };

  const parseEvent = (entity: Record<string, unknown>): HistoryEvent => {
    const text = getText(entity, 'event');
    let value: unknown;
    try {
      value = JSON.parse(text ?? '');
    } catch {
      throw new StoreError(`Row ${String(entity.rowKey)} holds no JSON event`);
    }
    return decodeOr(HistoryEvent, value, `Row ${String(entity.rowKey)}`);
  };

  const listRows = async (instanceId: string, from: string, to: string): Promise<TableEntityResult<Record<string, unknown>>[]> => {
    const rows: TableEntityResult<Record<string, unknown>>[] = [];
    const filter = `PartitionKey eq '${instanceId.replace(/'/g, "''")}' and RowKey ge '${from}' and RowKey lt '${to}'`;
    for await (const row of table.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) rows.push(row);
    return rows;
  };

  const submit = async (instanceId: string, actions: TransactionAction[]): Promise<void> => {
    for (let i = 0; i < actions.length; i += BATCH_OPERATIONS) {
      const batch = actions.slice(i, i + BATCH_OPERATIONS);
      try {
        await table.submitTransaction(batch);
      } catch (e) {
        if (isStatus(e, 412) || isStatus(e, 409)) throw new ConflictError(`Instance ${instanceId} was changed by another worker`);
        throw e;
      }
    }
  };

  return {
    tableName: options.tableName,
    init: async (): Promise<void> => {
      try {
        await table.createTable();
      } catch (e) {
        if (!isStatus(e, 409)) throw e;
      }
    },

    get: async (instanceId: string): Promise<StoredInstance | undefined> => {
      try {
        const entity = await table.getEntity<Record<string, unknown>>(instanceId, INSTANCE_ROW);
        return { instanceId, instance: fromInstanceEntity(entity), etag: entity.etag };
      } catch (e) {
        if (isStatus(e, 404)) return undefined;
        throw e;
      }
    },

    list: async (filter?: string): Promise<StoredInstance[]> => {
      const rows: StoredInstance[] = [];
      const rowFilter = `RowKey eq '${INSTANCE_ROW}'${filter ? ` and (${filter})` : ''}`;
      for await (const entity of table.listEntities<Record<string, unknown>>({ queryOptions: { filter: rowFilter } })) {
        rows.push({ instanceId: entity.partitionKey ?? '', instance: fromInstanceEntity(entity), etag: entity.etag });
      }
      return rows;
    },

    /**
     * Writes a new execution of an instance together with its start event, atomically: insert when
     * `etag` is undefined (fails if someone else created it), otherwise replace guarded by the ETag.
     */
    start: async (input: { instanceId: string; instance: Instance; etag: string | undefined; startEvent: InboxRow }): Promise<void> => {
      const entity = toInstanceEntity(input.instanceId, input.instance);
      await submit(input.instanceId, [
        input.etag === undefined ? ['create', entity] : ['update', entity, 'Replace', { etag: input.etag }],
        ['upsert', eventEntity(input.instanceId, input.startEvent.rowKey, input.startEvent.event, { executionId: input.startEvent.executionId }), 'Replace'],
      ]);
    },

    /** Takes the instance for `owner` until `until` (epoch ms); fails with ConflictError when another owner holds it. */
    lease: async (stored: StoredInstance, owner: string, until: number): Promise<StoredInstance> => {
      const now = Date.now();
      if (stored.instance.lockOwner !== '' && stored.instance.lockOwner !== owner && stored.instance.lockedUntil > now) {
        throw new ConflictError(`Instance ${stored.instanceId} is held by ${stored.instance.lockOwner}`);
      }
      const instance = { ...stored.instance, lockOwner: owner, lockedUntil: until };
      try {
        const result = await table.updateEntity(toInstanceEntity(stored.instanceId, instance), 'Replace', { etag: stored.etag });
        return { instanceId: stored.instanceId, instance, etag: result.etag ?? '' };
      } catch (e) {
        if (isStatus(e, 412)) throw new ConflictError(`Instance ${stored.instanceId} was changed by another worker`);
        throw e;
      }
    },

    /**
     * The committed history of the instance's current execution: its first `historyCount` rows. Rows
     * past them were written by a commit that never reached the instance row (a crash between its
     * transactions); counting them would take their results for applied and drop the real ones.
     */
    history: async (instanceId: string, committed: { executionId: string; historyCount: number }): Promise<HistoryEvent[]> =>
      committed.historyCount <= 0 ? [] : (await listRows(instanceId, historyRowKey(committed.executionId, 0), historyRowKey(committed.executionId, committed.historyCount))).map(parseEvent),

    inbox: async (instanceId: string): Promise<InboxRow[]> =>
      (await listRows(instanceId, 'i-', 'i.')).map((row) => ({ rowKey: row.rowKey ?? '', executionId: typeof row.executionId === 'string' ? row.executionId : '', event: parseEvent(row) })),

    /** Writes an incoming event (an activity result, a fired timer, a raised event); a repeat overwrites itself. */
    deliver: async (instanceId: string, row: InboxRow): Promise<void> => {
      await table.upsertEntity(eventEntity(instanceId, row.rowKey, row.event, { executionId: row.executionId }), 'Replace');
    },

    /**
     * Appends history rows (upserts: rows left by an episode that crashed before its commit are
     * overwritten), then replaces the instance row guarded by its ETag, in the same transaction as
     * the first inbox deletions and new inbox rows. The instance row write is the commit point.
     */
    commit: async (input: { stored: StoredInstance; instance: Instance; commit: Commit }): Promise<StoredInstance> => {
      const { stored, instance, commit } = input;
      const id = stored.instanceId;
      const rows: TransactionAction[] = commit.history.map((event, i) => ['upsert', eventEntity(id, historyRowKey(commit.historyExecutionId, commit.historyStart + i), event), 'Replace']);
      await submit(id, rows);
      const tail: TransactionAction[] = [
        ...(commit.inbox ?? []).map((row): TransactionAction => ['upsert', eventEntity(id, row.rowKey, row.event, { executionId: row.executionId }), 'Replace']),
        ...commit.deleteRowKeys.map((rowKey): TransactionAction => ['delete', { partitionKey: id, rowKey }]),
      ];
      const first = tail.slice(0, BATCH_OPERATIONS - 1);
      let etag = '';
      try {
        const response = await table.submitTransaction([['update', toInstanceEntity(id, instance), 'Replace', { etag: stored.etag }], ...first]);
        etag = response.subResponses[0]?.etag ?? '';
      } catch (e) {
        if (isStatus(e, 412) || isStatus(e, 409) || isStatus(e, 404)) throw new ConflictError(`Instance ${id} was changed by another worker`);
        throw e;
      }
      // Past the commit point: leftovers are inbox rows already recorded in history (dropped as repeats).
      await submit(id, tail.slice(BATCH_OPERATIONS - 1));
      return { instanceId: id, instance, etag };
    },

    /** Deletes rows by key, ignoring rows already gone. */
    deleteRows: async (instanceId: string, rowKeys: string[]): Promise<void> => {
      await Promise.all(
        rowKeys.map((rowKey) =>
          table.deleteEntity(instanceId, rowKey).catch((e: unknown) => {
            if (!isStatus(e, 404)) throw e;
          }),
        ),
      );
    },

    /** Every row of the instance (state, history of every execution, inbox, payloads). */
    purge: async (instanceId: string): Promise<number> => {
      const rows = await listRows(instanceId, '', '~');
      await submit(
        instanceId,
        rows.map((row): TransactionAction => ['delete', { partitionKey: instanceId, rowKey: row.rowKey ?? '' }]),
      );
      return rows.some((row) => row.rowKey === INSTANCE_ROW) ? 1 : 0;
    },

    /** History rows of executions other than `keepExecutionId` (left behind by continueAsNew or a restart). */
    deleteOtherExecutions: async (instanceId: string, keepExecutionId: string): Promise<void> => {
      const rows = await listRows(instanceId, 'h-', 'h.');
      const stale = rows.filter((row) => !(row.rowKey ?? '').startsWith(`h-${keepExecutionId}-`));
      await submit(
        instanceId,
        stale.map((row): TransactionAction => ['delete', { partitionKey: instanceId, rowKey: row.rowKey ?? '' }]),
      );
    },

    putPayload: async (instanceId: string, rowKey: string, text: string): Promise<void> => {
      const entity: Record<string, unknown> = { partitionKey: instanceId, rowKey };
      putText(entity, 'payload', text);
      await table.upsertEntity(entity as TableEntity, 'Replace');
    },

    getPayload: async (instanceId: string, rowKey: string): Promise<string | undefined> => {
      try {
        return getText(await table.getEntity<Record<string, unknown>>(instanceId, rowKey), 'payload');
      } catch (e) {
        if (isStatus(e, 404)) return undefined;
        throw e;
      }
    },
  };
};

export type InstanceStore = ReturnType<typeof createInstanceStore>;
