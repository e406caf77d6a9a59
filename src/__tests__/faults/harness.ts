import { readFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import { type RunningAzurite, startAzurite } from '../../../local-host/azurite';
import { type SpawnedHost, spawnHost } from '../../../local-host/testing/spawnHost';

/*
 * Shared pieces of the fault tests: an Azurite of their own (the product's host.json names one
 * durable task hub, so hosts of different test files must not share storage), the compiled app in
 * the embedded host, loopback receivers that record `webhook-id`s, and small API helpers.
 */

export const APP_DIR = path.resolve(__dirname, '..', '..', '..');
export const INGEST_KEY = 'faults-ingest-key-0123456789-abcdefghijklmnop';
export const ADMIN_KEY = 'faults-admin-key-0123456789-abcdefghijklmnop';

/** Polls `check` until it holds; on timeout the error says what was awaited and, with `state`, where things stood. */
export const waitUntil = async (what: string, check: () => Promise<boolean> | boolean, options: { timeoutMs: number; intervalMs?: number; state?: () => unknown }): Promise<void> => {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${options.state ? `; state: ${JSON.stringify(options.state())}` : ''}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
};

/** Polls `probe` until it yields a value (what `waitUntil` does for a condition). */
export const until = async <A>(what: string, probe: () => Promise<A | undefined> | A | undefined, timeoutMs = 60_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

/** The whole body of a request a test receiver got, as text. */
export const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

/** Runs `work` over `items` with at most `limit` in flight. */
export const mapLimit = async <A, B>(items: readonly A[], limit: number, work: (a: A, i: number) => Promise<B>): Promise<B[]> => {
  const results: B[] = new Array<B>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i] as A, i);
      }
    }),
  );
  return results;
};

export const ownAzurite = (options: { location?: string; ports?: RunningAzurite['ports'] } = {}): Promise<RunningAzurite> =>
  startAzurite(
    options.location === undefined ? { inMemory: true, ...(options.ports ? { ports: options.ports } : {}) } : { location: options.location, ...(options.ports ? { ports: options.ports } : {}) },
  );

/** App settings for one test file: its own names, loopback receivers allowed, short retries. */
export const appSettings = (options: { storage: string; tag: string; extra?: Record<string, string> }): Record<string, string> => ({
  AzureWebJobsStorage: options.storage,
  INGEST_API_KEY: INGEST_KEY,
  ADMIN_API_KEY: ADMIN_KEY,
  WEBHOOKS_TABLE: `${options.tag}webhooks`,
  EVENTS_TABLE: `${options.tag}events`,
  ATTEMPTS_TABLE: `${options.tag}attempts`,
  DELIVERIES_QUEUE: `${options.tag}-deliveries`,
  ALLOW_PRIVATE_DESTINATIONS: 'true',
  RETRY_SCHEDULE_SECONDS: '1,1,1',
  RETRY_JITTER_RATIO: '0',
  DELIVERY_TIMEOUT_MS: '3000',
  LOCAL_HOST_LOG_LEVEL: 'information',
  // Azurite on a loaded 2-core machine (and its queue GC) can stall for seconds: these tests are not
  // about the storage deadline (storageFrozen.test.ts sets its own), so it must not fire on a stall.
  STORAGE_TIMEOUT_MS: '30000',
  // A killed host's queue messages, activities and orchestration leases come back within seconds.
  LOCAL_HOST_QUEUE_LEASE_SECONDS: '4',
  LOCAL_HOST_DURABLE_LEASE_SECONDS: '3',
  LOCAL_HOST_DURABLE_VISIBILITY_TIMEOUT_SECONDS: '3',
  LOCAL_HOST_DURABLE_MAX_POLLING_INTERVAL_MS: '200',
  ...options.extra,
});

export const startApp = (env: Record<string, string>): Promise<SpawnedHost> => spawnHost({ appDir: APP_DIR, env, startTimeoutMs: 60_000 });

/** Resident memory of a process in kB, from /proc (Linux). */
export const rssKb = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  if (line === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(/([0-9]+)/.exec(line)?.[1]);
};

export type Answer = { status: number; body: Record<string, unknown> | undefined; text: string; headers: Headers };

export const call = async (
  baseUrl: string,
  method: string,
  route: string,
  options: { key?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Answer> => {
  const res = await fetch(`${baseUrl}/api/${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(options.key === undefined ? {} : { authorization: `Bearer ${options.key}` }), ...options.headers },
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
};

export const createWebhook = async (baseUrl: string, input: { url: string; name: string; subscriptions?: string[] }): Promise<string> => {
  const res = await call(baseUrl, 'POST', 'webhooks', { key: ADMIN_KEY, body: { url: input.url, subscriptions: input.subscriptions ?? ['ping'], attributes: { name: input.name } } });
  if (res.status !== 201) throw new Error(`webhook not created: ${res.status} ${res.text}`);
  return String(res.body?.id);
};

export const ingest = async (baseUrl: string, event: { id: string; name: string; payload?: Record<string, unknown> }): Promise<Answer> =>
  call(baseUrl, 'POST', 'events', { key: INGEST_KEY, body: event });

export type EventView = {
  dispatch: { status: string; deliveries?: number; pages?: number };
  summary: Record<string, number>;
  deliveries: { deliveryId: string; webhookId: string; state: string; lastResult?: { status?: number; error?: string } }[];
};

export const eventStatus = async (baseUrl: string, id: string): Promise<EventView | undefined> => {
  const res = await call(baseUrl, 'GET', `events/${encodeURIComponent(id)}`, { key: ADMIN_KEY });
  return res.status === 200 ? (res.body as unknown as EventView) : undefined;
};

/** Every message in a queue, peeked (at most 32 per peek, so only for small queues) . */
export const peekQueue = async (connectionString: string, queueName: string): Promise<string[]> => {
  const queue = new QueueClient(connectionString, queueName);
  if (!(await queue.exists())) return [];
  return (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText);
};

export const approximateCount = async (connectionString: string, queueName: string): Promise<number> => {
  const queue = new QueueClient(connectionString, queueName);
  if (!(await queue.exists())) return 0;
  return (await queue.getProperties()).approximateMessagesCount ?? 0;
};

/**
 * How a receiver answers one request; `ok` records the webhook-id and answers 200, `slowOk` records
 * it on arrival and answers 200 after SLOW_OK_MS (so deliveries in flight outlast a short window),
 * `failFirst` answers 503 to the first request of each webhook-id and acts as `ok` after that.
 */
export type Behavior = 'ok' | 'slowOk' | 'failFirst' | 'reset' | 'resetBeforeStatus' | 'neverEnding' | 'hugeBody' | 'redirect' | 'slowHeaders' | 'error503';

export const SLOW_OK_MS = 500;

export type Receivers = {
  readonly baseUrl: string;
  url(name: string, behavior: Behavior): string;
  /** webhook-ids received by `ok`, `slowOk` and (second tries of) `failFirst` paths, by receiver name (repeats kept). */
  readonly received: Map<string, string[]>;
  /** Requests seen per receiver name, whatever the behavior. */
  readonly requests: Map<string, number>;
  close(): Promise<void>;
};

/**
 * One loopback server playing many receivers: the path says the receiver's name and behavior
 * (`/<behavior>/<name>`). Misbehaving paths hold sockets, which close() destroys.
 */
export const startReceivers = async (): Promise<Receivers> => {
  const received = new Map<string, string[]>();
  const requests = new Map<string, number>();
  const refused = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const [, behavior, name = ''] = (req.url ?? '').split('/');
    requests.set(name, (requests.get(name) ?? 0) + 1);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      switch (behavior as Behavior) {
        case 'ok': {
          const id = String(req.headers['webhook-id']);
          received.set(name, [...(received.get(name) ?? []), id]);
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        case 'failFirst': {
          const id = String(req.headers['webhook-id']);
          if (!refused.has(id)) {
            refused.add(id);
            res.writeHead(503, { 'content-type': 'text/plain' }).end('not yet');
            return;
          }
          received.set(name, [...(received.get(name) ?? []), id]);
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        case 'slowOk': {
          const id = String(req.headers['webhook-id']);
          received.set(name, [...(received.get(name) ?? []), id]);
          const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), SLOW_OK_MS);
          timers.add(timer);
          res.on('close', () => clearTimeout(timer));
          return;
        }
        case 'reset':
          // A 200 that promises a body, then the connection is torn down with a RST.
          res.writeHead(200, { 'content-length': '1000' });
          res.write('partial', () => req.socket.resetAndDestroy());
          return;
        case 'resetBeforeStatus':
          req.socket.resetAndDestroy();
          return;
        case 'neverEnding': {
          res.writeHead(200, { 'content-type': 'text/plain' });
          const timer = setInterval(() => res.write('.'), 100);
          timers.add(timer);
          res.on('close', () => clearInterval(timer));
          return;
        }
        case 'hugeBody': {
          // A 500 with a body sent as fast as the client reads, forever: only the client's cap ends it.
          res.writeHead(500, { 'content-type': 'application/octet-stream' });
          const block = Buffer.alloc(64 * 1024, 0x61);
          const pump = (): void => {
            while (!res.destroyed && res.write(block));
            if (!res.destroyed) res.once('drain', pump);
          };
          pump();
          return;
        }
        case 'redirect':
          res.writeHead(307, { location: `/ok/${name}-redirected` }).end();
          return;
        case 'slowHeaders': {
          const timer = setTimeout(() => res.writeHead(200).end('late'), 60_000);
          timers.add(timer);
          res.on('close', () => clearTimeout(timer));
          return;
        }
        case 'error503':
          res.writeHead(503, { 'content-type': 'text/plain' }).end('storm');
          return;
        default:
          res.writeHead(404).end();
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    url: (name, behavior) => `${baseUrl}/${behavior}/${name}`,
    received,
    requests,
    close: async () => {
      timers.forEach((t) => clearTimeout(t));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
