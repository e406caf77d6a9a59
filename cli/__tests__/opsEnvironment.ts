import path from 'node:path';
import { type SpawnedHost, spawnHost } from '../../local-host/testing/spawnHost';
import { startServer, type TestServer } from '../../src/adapters/http/__tests__/testServer';

/*
 * The compiled app in the embedded host on the test Azurite, with loopback receivers: what the
 * OpenAPI, CLI and console tests run against. Short retry schedule and polling; every wait is for a
 * condition, with a deadline.
 */

export const APP_DIR = path.resolve(__dirname, '..', '..');
export const INGEST_KEY = 'ops-ingest-key-0123456789-abcdefghijklmnop';
export const ADMIN_KEY = 'ops-admin-key-0123456789-abcdefghijklmnop';

export type Json = Record<string, unknown>;
export type Answer = { status: number; body: Json | undefined; text: string; contentType: string | null };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const eventually = async <A>(probe: () => Promise<A | undefined | false> | A | undefined | false, what: string, deadlineMs = 30_000): Promise<A> => {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(200);
  }
};

export type OpsEnvironment = Awaited<ReturnType<typeof startOpsEnvironment>>;

export const startOpsEnvironment = async (name: string) => {
  const suffix = `${process.pid}${Date.now() % 100000}`;
  const settings = {
    INGEST_API_KEY: INGEST_KEY,
    ADMIN_API_KEY: ADMIN_KEY,
    WEBHOOKS_TABLE: `${name}webhooks${suffix}`,
    EVENTS_TABLE: `${name}events${suffix}`,
    ATTEMPTS_TABLE: `${name}attempts${suffix}`,
    DELIVERIES_QUEUE: `${name}-deliveries-${suffix}`,
    ALLOW_PRIVATE_DESTINATIONS: 'true',
    RETRY_SCHEDULE_SECONDS: '1',
    RETRY_JITTER_RATIO: '0',
    DELIVERY_TIMEOUT_MS: '2000',
    LOCAL_HOST_DURABLE_MAX_POLLING_INTERVAL_MS: '300',
  };
  const host: SpawnedHost = await spawnHost({ appDir: APP_DIR, env: settings });
  const receivers: TestServer[] = [];

  const call = async (method: string, route: string, options: { key?: string; body?: unknown } = {}): Promise<Answer> => {
    const res = await fetch(`${host.baseUrl}/api/${route}`, {
      method,
      headers: { ...(options.key === undefined ? {} : { authorization: `Bearer ${options.key}` }), 'content-type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    const contentType = res.headers.get('content-type');
    return { status: res.status, text, contentType, body: text !== '' && contentType?.includes('json') ? (JSON.parse(text) as Json) : undefined };
  };

  /** A receiver answering `status` to every request. */
  const receiver = async (status = 200): Promise<TestServer> => {
    const server = await startServer((_req, res) => {
      res.statusCode = status;
      res.end(status >= 300 ? `{"error":"status ${status}"}` : 'ok');
    });
    receivers.push(server);
    return server;
  };

  const createWebhook = async (body: Json): Promise<Json> => {
    const created = await call('POST', 'webhooks', { key: ADMIN_KEY, body });
    if (created.status !== 201) throw new Error(`creating a webhook answered ${created.status}: ${created.text}`);
    return created.body as Json;
  };

  const postEvent = async (event: Json): Promise<string> => {
    const res = await call('POST', 'events', { key: INGEST_KEY, body: event });
    if (res.status !== 202) throw new Error(`posting an event answered ${res.status}: ${res.text}`);
    return res.body?.id as string;
  };

  /** Waits until the fan-out is over and `count` deliveries are in a final state. */
  const settled = (id: string, count: number): Promise<Json> =>
    eventually(async () => {
      const view = await call('GET', `events/${id}`, { key: ADMIN_KEY });
      const body = view.body as { dispatch: { status: string }; deliveries: { state: string }[] } | undefined;
      const final = body?.deliveries.filter((d) => ['delivered', 'poisoned', 'gone', 'skipped'].includes(d.state)).length ?? 0;
      return body?.dispatch.status === 'Completed' && final >= count ? (view.body as Json) : undefined;
    }, `event ${id} to settle with ${count} deliveries`);

  const stop = async (): Promise<void> => {
    await Promise.all(receivers.map((r) => r.close()));
    await host.stop();
  };

  return { host, settings, call, receiver, createWebhook, postEvent, settled, stop };
};
