import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as t from 'io-ts';
import type { RawHttpAuthorize, RawHttpHandler } from '../core/component';
import { EventType, type HistoryEvent } from './history';
import { ConflictError, type Instance, type InstanceStore, isActive, RuntimeStatus, type StoredInstance } from './store';

export const DURABLE_PREFIX = '/runtime/webhooks/durabletask/';

const isControl = (ch: string): boolean => {
  const code = ch.charCodeAt(0);
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
};

/** Instance ids as Azure accepts them (and as table keys allow them). */
export const InstanceId = new t.Type<string, string, unknown>(
  'InstanceId',
  (u): u is string => typeof u === 'string',
  (u, c) =>
    typeof u === 'string' && u.length > 0 && u.length <= 100 && !/[/\\#?]/.test(u) && ![...u].some(isControl)
      ? t.success(u)
      : t.failure(u, c, 'an instance id has 1 to 100 characters, none of / \\ # ? or control characters'),
  t.identity,
);

/**
 * The client's rpcBaseUrl: `rpc/{system key}/` under the API. The client builds its calls from that
 * base with relative URLs, which drop a query string, so the key travels in the path there.
 */
const RPC_PREFIX = `${DURABLE_PREFIX}rpc/`;
export const rpcBasePath = (systemKey: string): string => `${RPC_PREFIX}${encodeURIComponent(systemKey)}/`;

const decodeSegment = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
};

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * The Azure host serves this API only to a caller with the `durabletask_extension` system key, in
 * the `code` query parameter (the URLs the client binding hands out carry it) or the
 * `x-functions-key` header. Compared in constant time; the key is never logged.
 */
export const requireSystemKey =
  (systemKey: string): RawHttpAuthorize =>
  (req, url) => {
    const header = req.headers['x-functions-key'];
    const inPath = url.pathname.startsWith(RPC_PREFIX) ? decodeSegment(url.pathname.slice(RPC_PREFIX.length).split('/')[0] ?? '') : undefined;
    const given = inPath ?? url.searchParams.get('code') ?? (typeof header === 'string' ? header : undefined);
    return given !== undefined && timingSafeEqual(digest(given), digest(systemKey)) ? undefined : "The durable HTTP API requires the host's durabletask_extension system key (?code=)";
  };

export type ApiDeps = {
  store: InstanceStore;
  /** Names of the app's orchestrator functions, for case-insensitive lookup. */
  orchestrators: () => string[];
  /** Wakes the instance's runner (a control message). */
  wake: (instanceId: string) => Promise<void>;
  newExecutionId: () => string;
  now: () => number;
  /** The management URLs of the HTTP payload (`createCheckStatusResponse`) for an instance. */
  managementUrls: (instanceId: string) => Record<string, string>;
};

const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
};

const error = (res: ServerResponse, status: number, kind: string, message: string): void => send(res, status, { error: kind, message });

const parseJsonText = (text: string | undefined): unknown => (text === undefined ? null : (JSON.parse(text) as unknown));

/** The status document of the Durable HTTP API (what DurableOrchestrationStatus is built from). */
export const statusBody = (stored: StoredInstance, history?: HistoryEvent[]): Record<string, unknown> => ({
  name: stored.instance.name,
  instanceId: stored.instanceId,
  runtimeStatus: stored.instance.runtimeStatus,
  input: parseJsonText(stored.instance.input),
  customStatus: parseJsonText(stored.instance.customStatus),
  output: parseJsonText(stored.instance.output),
  createdTime: stored.instance.createdTime,
  lastUpdatedTime: stored.instance.lastUpdatedTime,
  // Azure's API names it historyEvents; durable-functions' status reads `history`.
  ...(history ? { historyEvents: history, history } : {}),
});

/** Azure's HTTP API: 202 while it runs, 200 once completed, 400 when it failed or was terminated. */
const statusCode = (status: RuntimeStatus): number => (isActive(status) ? 202 : status === 'Completed' ? 200 : 400);

const HISTORY_NAMES: Record<number, string> = {
  0: 'ExecutionStarted',
  1: 'ExecutionCompleted',
  2: 'ExecutionTerminated',
  4: 'TaskScheduled',
  5: 'TaskCompleted',
  6: 'TaskFailed',
  10: 'TimerCreated',
  11: 'TimerFired',
  12: 'OrchestratorStarted',
  13: 'OrchestratorCompleted',
  15: 'EventRaised',
};

const readableHistory = (events: HistoryEvent[]): HistoryEvent[] =>
  events
    .filter((e) => e.EventType !== EventType.OrchestratorStarted && e.EventType !== EventType.OrchestratorCompleted)
    .map((e) => ({ ...e, EventType: e.EventType, EventTypeName: HISTORY_NAMES[e.EventType] ?? String(e.EventType) }) as HistoryEvent);

/** OData filter for the instance list: runtime status and creation time, as the client sends them. */
const listFilter = (query: URLSearchParams): string | { error: string } => {
  const parts: string[] = [];
  const statuses = (query.get('runtimeStatus') ?? '').split(',').filter((s) => s !== '');
  for (const s of statuses) if (!RuntimeStatus.is(s)) return { error: `unknown runtimeStatus "${s}"` };
  if (statuses.length > 0) parts.push(`(${statuses.map((s) => `runtimeStatus eq '${s}'`).join(' or ')})`);
  for (const [key, op] of [
    ['createdTimeFrom', 'ge'],
    ['createdTimeTo', 'le'],
  ] as const) {
    const value = query.get(key);
    if (value === null) continue;
    const time = Date.parse(value);
    if (Number.isNaN(time)) return { error: `${key} is not a date` };
    parts.push(`createdTime ${op} '${new Date(time).toISOString()}'`);
  }
  return parts.join(' and ');
};

/**
 * The Durable Functions HTTP API under `/runtime/webhooks/durabletask/`, as far as the
 * `durable-functions` client calls it: start, status, list, terminate, raise event, purge.
 */
export const createDurableApi = (deps: ApiDeps): RawHttpHandler => {
  const { store } = deps;

  const start = async (res: ServerResponse, name: string, requestedId: string | undefined, body: Buffer): Promise<void> => {
    const orchestrator = deps.orchestrators().find((n) => n.toLowerCase() === name.toLowerCase());
    if (orchestrator === undefined) return error(res, 404, 'NotFound', `The orchestrator function '${name}' does not exist`);
    const instanceId = requestedId ?? randomUUID().replace(/-/g, '');
    const decodedId = InstanceId.decode(instanceId);
    if (decodedId._tag === 'Left') return error(res, 400, 'Invalid', `Invalid instance id: an instance id has 1 to 100 characters, none of / \\ # ? or control characters`);
    const text = body.toString('utf8');
    let input: string | undefined;
    if (text.trim() !== '') {
      try {
        input = JSON.stringify(JSON.parse(text));
      } catch {
        return error(res, 400, 'Invalid', 'The request body is not JSON');
      }
    }
    const existing = await store.get(instanceId);
    if (existing !== undefined && isActive(existing.instance.runtimeStatus)) {
      // Azure refuses to start an instance id that is still pending or running.
      return error(res, 409, 'Conflict', `An orchestration instance with the ID '${instanceId}' is already ${existing.instance.runtimeStatus}`);
    }
    const executionId = deps.newExecutionId();
    const timestamp = new Date(deps.now()).toISOString();
    const instance: Instance = {
      name: orchestrator,
      runtimeStatus: 'Pending',
      createdTime: timestamp,
      lastUpdatedTime: timestamp,
      executionId,
      historyCount: 0,
      nextSeq: 0,
      leafCount: 0,
      lockOwner: '',
      lockedUntil: 0,
      input,
    };
    const startEvent: HistoryEvent = { EventType: EventType.ExecutionStarted, EventId: -1, Timestamp: timestamp, Name: orchestrator, Input: input ?? null };
    try {
      await store.start({ instanceId, instance, etag: existing?.etag, startEvent: { rowKey: `i-start-${executionId}`, executionId, event: startEvent } });
    } catch (e) {
      if (e instanceof ConflictError) return error(res, 409, 'Conflict', `An orchestration instance with the ID '${instanceId}' was started concurrently`);
      throw e;
    }
    await deps.wake(instanceId);
    if (existing !== undefined) {
      store.deleteOtherExecutions(instanceId, executionId).catch(() => undefined);
    }
    const urls = deps.managementUrls(instanceId);
    send(res, 202, { id: instanceId, ...urls }, { location: urls.statusQueryGetUri ?? '' });
  };

  const deliverControl = async (res: ServerResponse, instanceId: string, event: HistoryEvent, rowKey: string): Promise<void> => {
    const existing = await store.get(instanceId);
    if (existing === undefined) return error(res, 404, 'NotFound', `No instance with ID '${instanceId}' found.`);
    if (!isActive(existing.instance.runtimeStatus)) return error(res, 410, 'Gone', `The instance '${instanceId}' is ${existing.instance.runtimeStatus}`);
    await store.deliver(instanceId, { rowKey, executionId: '', event });
    await deps.wake(instanceId);
    send(res, 202, undefined);
  };

  return async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path: string[];
    try {
      path = url.pathname
        .slice(DURABLE_PREFIX.length)
        .split('/')
        .filter((s) => s !== '')
        .map(decodeURIComponent);
      // Under rpc/{key}/ (already checked by requireSystemKey) the API is the same.
      if (path[0] === 'rpc') path = path.slice(2);
    } catch {
      return error(res, 400, 'BadRequest', 'The path is not valid percent-encoded UTF-8');
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const [head, id, action, eventName] = path;
    const timestamp = new Date(deps.now()).toISOString();

    if (head === 'orchestrators' && id !== undefined && method === 'POST' && path.length <= 3) return start(res, id, action, body);
    if (head !== 'instances') return error(res, 404, 'NotFound', `No durable API route for ${method} ${url.pathname}`);

    if (id === undefined) {
      const filter = listFilter(url.searchParams);
      if (typeof filter !== 'string') return error(res, 400, 'Invalid', filter.error);
      if (method === 'GET') {
        const showInput = url.searchParams.get('showInput') !== 'false';
        const rows = await store.list(filter);
        return send(
          res,
          200,
          rows.map((r) => ({ ...statusBody(r), ...(showInput ? {} : { input: null }) })),
        );
      }
      if (method === 'DELETE') {
        const rows = await store.list(filter);
        let deleted = 0;
        for (const r of rows) deleted += await store.purge(r.instanceId);
        return send(res, 200, { instancesDeleted: deleted });
      }
      return error(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}`);
    }

    if (InstanceId.decode(id)._tag === 'Left') return error(res, 400, 'Invalid', 'Invalid instance id');
    if (action === undefined) {
      if (method === 'GET') {
        const stored = await store.get(id);
        if (stored === undefined) return error(res, 404, 'NotFound', `No instance with ID '${id}' found.`);
        const history = url.searchParams.get('showHistory') === 'true' ? readableHistory(await store.history(id, stored.instance)) : undefined;
        return send(res, statusCode(stored.instance.runtimeStatus), statusBody(stored, history));
      }
      if (method === 'DELETE') {
        const deleted = await store.purge(id);
        return deleted === 0 ? error(res, 404, 'NotFound', `No instance with ID '${id}' found.`) : send(res, 200, { instancesDeleted: deleted });
      }
      return error(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}`);
    }
    if (method !== 'POST') return error(res, 405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}`);
    if (action === 'terminate' && path.length === 3) {
      const reason = url.searchParams.get('reason') ?? '';
      return deliverControl(res, id, { EventType: EventType.ExecutionTerminated, EventId: -1, Timestamp: timestamp, Input: reason }, `i-terminate-${randomUUID()}`);
    }
    if (action === 'raiseEvent' && eventName !== undefined && path.length === 4) {
      const text = body.toString('utf8');
      if (text.trim() !== '') {
        try {
          JSON.parse(text);
        } catch {
          return error(res, 400, 'Invalid', 'The event data is not JSON');
        }
      }
      return deliverControl(
        res,
        id,
        { EventType: EventType.EventRaised, EventId: -1, Timestamp: timestamp, Name: eventName, Input: text.trim() === '' ? null : text },
        `i-event-${Date.now().toString().padStart(15, '0')}-${randomUUID()}`,
      );
    }
    if (['suspend', 'resume', 'rewind', 'restart'].includes(action)) return error(res, 501, 'NotImplemented', `The local host does not support ${action}`);
    return error(res, 404, 'NotFound', `No durable API route for ${method} ${url.pathname}`);
  };
};
