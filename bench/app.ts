import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { freePort } from '../local-host/azurite';
import { deliveryIdFor } from '../src/domain/delivery';
import { hostEnvironment, hostNodeArgs } from './evidence';

/*
 * The dispatcher under test: the embedded host on the repo's own app (host.json and all), in a child
 * process, with its storage pointed at the counting proxy; and a small client for its HTTP API.
 */

export const INGEST_API_KEY = 'bench-ingest-key-0123456789-abcdefghij';
export const ADMIN_API_KEY = 'bench-admin-key-0123456789-abcdefghijk';
/** Seals webhook secrets at rest; seed.ts writes rows under it straight to storage. Not an example key. */
export const SECRETS_KEY = 'bench:YmVuY2gtc2VjcmV0cy1rZXktMzItYnl0ZXMtbG9uZyE=';
export const SUBJECT_HASH_KEY = 'bench-subject-hash-key-0123456789-abcdef';
const START_TIMEOUT_MS = 60_000;
const REPO_ROOT = path.resolve(__dirname, '..', '..');

export type RunningApp = {
  readonly baseUrl: string;
  readonly logFile: string;
  /** The host process (the soak kills it; memory is read from /proc). */
  readonly pid: number | undefined;
  /** The environment and node arguments it was started with (results record them). */
  readonly started: { readonly env: Readonly<Record<string, string>>; readonly nodeArgs: readonly string[] };
  /** SIGKILL, as a crash would; resolves once the process is gone. */
  kill(): Promise<void>;
  registerWebhook(input: { url: string; name: string }): Promise<string>;
  /** Posts one `ping` event for the webhooks named `target` (with `data`, a large payload); resolves with the HTTP status. */
  postPing(input: { id: string; target: string; data?: string }): Promise<number>;
  /** The same without an `id` (the dispatcher chooses it, as for a sender that sends none); resolves with the status and the id answered. */
  postPingWithoutId(input: { target: string }): Promise<{ status: number; id?: string }>;
  /** `ping:all`: one `ping` to every webhook with a name. */
  postPingAll(input: { id: string }): Promise<number>;
  eventStatus(id: string): Promise<unknown>;
  stop(): Promise<void>;
};

/** The `webhook-id` a delivery of ping event `eventId` to `webhookId` carries (the product's own rule). */
export const expectedDeliveryId = (eventId: string, webhookId: string): string => deliveryIdFor({ eventId, publicEventName: 'ping', webhookId });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Tries of a webhook registration that storage refused (503). */
const REGISTER_ATTEMPTS = 5;

/**
 * The app folder: the repo itself, or (to try other queue trigger settings without touching the
 * product's host.json) a temporary folder with a changed host.json, package.json and a link to dist/.
 */
const appDirWith = (queues: Record<string, unknown> | undefined): { dir: string; cleanup: () => void } => {
  if (queues === undefined) return { dir: REPO_ROOT, cleanup: () => undefined };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-app-'));
  const hostJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'host.json'), 'utf8')) as { extensions?: { queues?: Record<string, unknown> } };
  hostJson.extensions = { ...hostJson.extensions, queues: { ...hostJson.extensions?.queues, ...queues } };
  writeFileSync(path.join(dir, 'host.json'), JSON.stringify(hostJson, null, 2));
  writeFileSync(path.join(dir, 'package.json'), readFileSync(path.join(REPO_ROOT, 'package.json')));
  // The host reads binding expressions (%DELIVERIES_QUEUE%) from it when the environment lacks them.
  writeFileSync(path.join(dir, 'local.settings.json.example'), readFileSync(path.join(REPO_ROOT, 'local.settings.json.example')));
  symlinkSync(path.join(REPO_ROOT, 'dist'), path.join(dir, 'dist'), 'dir');
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
};

export const startApp = async (options: {
  storageConnectionString: string;
  env?: Record<string, string>;
  /** Overrides of host.json extensions.queues, for experiments; the product's file is left alone. */
  queues?: Record<string, unknown>;
  progress: (m: string) => void;
}): Promise<RunningApp> => {
  const port = await freePort();
  const appDir = appDirWith(options.queues);
  const logFile = path.join(os.tmpdir(), `bench-host-${process.pid}-${port}.log`);
  const out = openSync(logFile, 'w');
  const nodeArgs = hostNodeArgs();
  // An explicit environment: the shell's NODE_OPTIONS or app settings must not change what is measured.
  const env = hostEnvironment({
    AzureWebJobsStorage: options.storageConnectionString,
    INGEST_API_KEY,
    ADMIN_API_KEY,
    SECRETS_KEY,
    SUBJECT_HASH_KEY,
    ALLOW_PRIVATE_DESTINATIONS: 'true',
    LOCAL_HOST_LOG_FORMAT: 'json',
    // Per-invocation lines at "information" would cost the 2 cores more than some of what we measure.
    LOCAL_HOST_LOG_LEVEL: 'warning',
    ...options.env,
  });
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, path.join(REPO_ROOT, 'dist', 'local-host', 'cli.js'), '--app', appDir.dir, '--port', String(port)], {
    env,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const kill = (): void => {
    child.kill('SIGKILL');
    appDir.cleanup();
  };
  process.once('exit', kill);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `the host exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})`;
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  let stopped = false;
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const call = async (method: 'GET' | 'POST', route: string, key: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    const res = await request(`${baseUrl}/api/${route}`, {
      method,
      dispatcher: agent,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    let json: unknown = undefined;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.statusCode, json };
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) throw new Error(`${exited}; log:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    const ok = await call('GET', 'health', ADMIN_API_KEY).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the host did not answer /api/health within ${START_TIMEOUT_MS} ms; log in ${logFile}`);
    await sleep(200);
  }
  options.progress(`host up on ${baseUrl} (log ${logFile})`);
  return {
    baseUrl,
    logFile,
    pid: child.pid,
    started: { env, nodeArgs },
    kill: async () => {
      stopped = true;
      process.removeListener('exit', kill);
      await agent.close().catch(() => undefined);
      if (exited === undefined) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await gone;
      }
      appDir.cleanup();
    },
    registerWebhook: async ({ url, name }) => {
      // A 503 (Azurite paused past the storage deadline: its queue GC, bench/README.md) is retried as
      // a client would, after a second, a few times. A create whose write landed after its 503 would
      // leave a second webhook in the group: its deliveries would show as more than expected.
      for (let attempt = 1; ; attempt++) {
        const r = await call('POST', 'webhooks', ADMIN_API_KEY, { url, subscriptions: ['ping'], attributes: { name } });
        const id = (r.json as { id?: unknown } | undefined)?.id;
        if (r.status === 201 && typeof id === 'string') return id;
        if (r.status !== 503 || attempt >= REGISTER_ATTEMPTS) throw new Error(`registering a webhook answered ${r.status} (attempt ${attempt}): ${JSON.stringify(r.json).slice(0, 300)}`);
        await sleep(1000);
      }
    },
    postPing: async ({ id, target, data }) => (await call('POST', 'events', INGEST_API_KEY, { id, name: 'ping', payload: { name: target, ...(data === undefined ? {} : { data }) } })).status,
    postPingWithoutId: async ({ target }) => {
      const r = await call('POST', 'events', INGEST_API_KEY, { name: 'ping', payload: { name: target } });
      const id = (r.json as { id?: unknown } | undefined)?.id;
      return { status: r.status, ...(typeof id === 'string' ? { id } : {}) };
    },
    postPingAll: async ({ id }) => (await call('POST', 'events', INGEST_API_KEY, { id, name: 'ping:all' })).status,
    eventStatus: async (id) => (await call('GET', `events/${encodeURIComponent(id)}`, ADMIN_API_KEY)).json,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', kill);
      await agent.close();
      if (exited !== undefined) return appDir.cleanup();
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 15_000);
      await gone;
      clearTimeout(timer);
      appDir.cleanup();
    },
  };
};
