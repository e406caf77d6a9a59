import { lookup } from 'node:dns/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { hostname } from 'node:os';
import path from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import * as E from 'fp-ts/Either';
import { Webhook as Receiver } from 'standardwebhooks';
import { type RunningAzurite, startAzurite } from '../../../local-host/azurite';
import { type SpawnedHost, spawnHost } from '../../../local-host/testing/spawnHost';
import { startServer, type TestServer } from '../../adapters/http/__tests__/testServer';
import { ensuredTable } from '../../adapters/tables/tables';
import { tableWebhookStore } from '../../adapters/tables/tableWebhookStore';
import { aWebhook, FISCAL_CODE, TEST_SECRETS_KEY, testKeyring } from '../../domain/__tests__/fixtures';
import { isPublicAddress } from '../../domain/destination';
import type { Webhook } from '../../domain/webhook';

/*
 * Fan-out and delivery end to end: the compiled app in the embedded host, receivers on 127.0.0.1.
 * The host runs on an Azurite of its own: the durable task hub name is fixed in host.json, and a
 * host of another test file on the shared Azurite would otherwise run our orchestrations with its
 * own tables. Short retry schedules come from the settings; queue polling adds up to ~2 s per hop,
 * so every wait is for a condition, with a deadline.
 */

const appDir = path.resolve(__dirname, '..', '..', '..');
const INGEST_KEY = 'e2e-ingest-key-0123456789-abcdefghijklmnop';
const ADMIN_KEY = 'e2e-admin-key-0123456789-abcdefghijklmnop';
const suffix = `${process.pid}${Date.now() % 100000}`;

const settingsFor = (name: string, allowPrivate: boolean, pageSize: number) => ({
  INGEST_API_KEY: INGEST_KEY,
  ADMIN_API_KEY: ADMIN_KEY,
  // The test writes a row itself (tableWebhookStore below): under the key the host reads it with.
  SECRETS_KEY: TEST_SECRETS_KEY,
  WEBHOOKS_TABLE: `${name}webhooks${suffix}`,
  EVENTS_TABLE: `${name}events${suffix}`,
  ATTEMPTS_TABLE: `${name}attempts${suffix}`,
  DELIVERIES_QUEUE: `${name}-deliveries-${suffix}`,
  ALLOW_PRIVATE_DESTINATIONS: String(allowPrivate),
  RETRY_SCHEDULE_SECONDS: '1,1,1',
  RETRY_JITTER_RATIO: '0',
  DELIVERY_TIMEOUT_MS: '1000',
  FANOUT_PAGE_SIZE: String(pageSize),
  // Orchestration pages as small as ingest's, so a few dozen webhooks take it past one run.
  FANOUT_STEP_SIZE: String(pageSize),
  MAX_DELIVERIES_PER_MESSAGE: '2',
  LOCAL_HOST_DURABLE_MAX_POLLING_INTERVAL_MS: '300',
  // Not about the storage deadline: an Azurite stall on a loaded machine must not fail a call and
  // send its message back for host.json's 30 s visibilityTimeout.
  STORAGE_TIMEOUT_MS: '30000',
});

type Json = Record<string, unknown>;
type Answer = { status: number; body: Json | undefined };
type Behaviour = (n: number) => number | 'hang';
type PoisonSeen = { kind: string; eventId: string; deliveryId: string; webhookId: string; body: unknown; attempts: { at: string; result: Json }[]; reason: Json };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const eventually = async <A>(probe: () => Promise<A | undefined> | A | undefined, what: string, deadlineMs = 30_000): Promise<A> => {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(150);
  }
};

const header = (headers: IncomingHttpHeaders, name: string): string => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
};

/** What a Standard Webhooks receiver does with a request; throws when the signature is wrong. */
const verified = (request: TestServer['requests'][number], secret: string): unknown =>
  new Receiver(secret).verify(request.body, {
    'webhook-id': header(request.headers, 'webhook-id'),
    'webhook-timestamp': header(request.headers, 'webhook-timestamp'),
    'webhook-signature': header(request.headers, 'webhook-signature'),
  });

/** One host and its storage, with the helpers the tests share. */
const environment = (name: string, allowPrivate: boolean, pageSize: number) => {
  const settings = settingsFor(name, allowPrivate, pageSize);
  const state: { host?: SpawnedHost; poisonQueue?: QueueClient; deliveries?: QueueClient } = {};
  const receivers: TestServer[] = [];
  const poisoned: PoisonSeen[] = [];
  const unreadablePoison: unknown[] = [];

  const start = async (azurite: RunningAzurite): Promise<void> => {
    state.host = await spawnHost({ appDir, env: { ...settings, AzureWebJobsStorage: azurite.connectionString } });
    state.poisonQueue = new QueueClient(azurite.connectionString, `${settings.DELIVERIES_QUEUE}-poison`);
    state.deliveries = new QueueClient(azurite.connectionString, settings.DELIVERIES_QUEUE);
  };
  const stop = async (): Promise<void> => {
    await Promise.all(receivers.map((r) => r.close()));
    await state.host?.stop();
  };
  const host = (): SpawnedHost => state.host as SpawnedHost;

  const call = async (method: string, route: string, options: { key?: string; body?: unknown } = {}): Promise<Answer> => {
    const res = await fetch(`${host().baseUrl}/api/${route}`, {
      method,
      headers: { ...(options.key === undefined ? {} : { authorization: `Bearer ${options.key}` }), 'content-type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as Json) };
  };

  const receiver = async (behaviour: Behaviour = () => 200, listenOn = '127.0.0.1'): Promise<TestServer> => {
    let n = 0;
    const server = await startServer((_req, res) => {
      const answer = behaviour(++n);
      if (answer === 'hang') return;
      res.statusCode = answer;
      res.end(answer >= 300 ? `{"error":"status ${answer}"}` : 'ok');
    }, listenOn);
    receivers.push(server);
    return server;
  };

  const createWebhook = async (url: string, body: Json): Promise<{ id: string; secret: string }> => {
    const created = await call('POST', 'webhooks', { key: ADMIN_KEY, body: { url, ...body } });
    expect(created.status).toBe(201);
    return { id: created.body?.id as string, secret: created.body?.secret as string };
  };

  const postEvent = async (event: Json): Promise<string> => {
    const res = await call('POST', 'events', { key: INGEST_KEY, body: event });
    expect(res.status).toBe(202);
    return res.body?.id as string;
  };

  const eventStatus = async (id: string): Promise<Json> => {
    const res = await call('GET', `events/${id}`, { key: ADMIN_KEY });
    expect(res.status).toBe(200);
    return res.body as Json;
  };

  /** Waits until the fan-out of the event has finished and every delivery reached one of `states`. */
  const settled = async (id: string, count: number, states = ['delivered', 'poisoned', 'gone', 'skipped']): Promise<Json> =>
    eventually(async () => {
      const view = await eventStatus(id);
      const dispatch = view.dispatch as Json;
      const deliveries = view.deliveries as Json[];
      return dispatch.status === 'Completed' && dispatch.deliveries === count && deliveries.length === count && deliveries.every((d) => states.includes(d.state as string)) ? view : undefined;
    }, `event ${id} to settle with ${count} deliveries`);

  /** Reads the poison queue (this file is its only reader) and keeps what it found. */
  const drainPoison = async (): Promise<void> => {
    const queue = state.poisonQueue as QueueClient;
    if (!(await queue.exists())) return;
    for (;;) {
      const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
      if (receivedMessageItems.length === 0) return;
      for (const m of receivedMessageItems) {
        const entry = JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as PoisonSeen;
        if (entry.reason?.kind === 'UnreadableMessage') unreadablePoison.push(entry);
        else poisoned.push(entry);
        await queue.deleteMessage(m.messageId, m.popReceipt);
      }
    }
  };
  const poisonFor = (predicate: (p: PoisonSeen) => boolean, what: string): Promise<PoisonSeen> =>
    eventually(async () => {
      await drainPoison();
      return poisoned.find(predicate);
    }, what);

  return { settings, start, stop, host, call, receiver, createWebhook, postEvent, eventStatus, settled, drainPoison, poisonFor, poisoned, unreadablePoison, state };
};

/** A serviceId no other test uses: a service:subscribed event then reaches only this test's webhooks. */
let serviceCounter = 0;
const uniqueService = (): string => `svc-${suffix}-${++serviceCounter}`;
const serviceEvent = (serviceId: string, id?: string): Json => ({ ...(id ? { id } : {}), name: 'service:subscribed', payload: { serviceId, fiscalCode: FISCAL_CODE } });
const SERVICE_BODY = { name: 'service:subscribed', payload: { fiscalCode: FISCAL_CODE } };

describe('fan-out and delivery through the embedded host', () => {
  let azurite: RunningAzurite;
  beforeAll(async () => {
    azurite = await startAzurite({ inMemory: true });
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  describe('private destinations allowed (receivers on loopback)', () => {
    const env = environment('e2e', true, 2);
    beforeAll(async () => {
      await env.start(azurite);
    });
    afterAll(async () => {
      await env.stop();
    });

    it('fans out to several webhooks (over several pages and messages): each gets exactly one signed body', async () => {
      const serviceId = uniqueService();
      const targets = await Promise.all(
        [0, 1, 2, 3, 4].map(async () => {
          const server = await env.receiver();
          return { server, ...(await env.createWebhook(server.url(), { subscriptions: ['service:subscribed'], attributes: { serviceId }, headers: { Authorization: 'Bearer receiver-token' } })) };
        }),
      );
      const other = await env.receiver();
      await env.createWebhook(other.url(), { subscriptions: ['service:subscribed'], attributes: { serviceId: uniqueService() } });
      const eventId = await env.postEvent(serviceEvent(serviceId));
      const view = await env.settled(eventId, 5);
      expect(view.summary).toEqual({ delivered: 5, retrying: 0, poisoned: 0, gone: 0, skipped: 0, pending: 0 });
      // FANOUT_PAGE_SIZE 2: the orchestrator went through the pages.
      expect((view.dispatch as Json).pages).toBeGreaterThanOrEqual(3);
      const ids = new Set<string>();
      for (const t of targets) {
        expect(t.server.requests).toHaveLength(1);
        const [request] = t.server.requests;
        expect(request?.method).toBe('POST');
        expect(verified(request as TestServer['requests'][number], t.secret)).toEqual(SERVICE_BODY);
        expect(() => verified(request as TestServer['requests'][number], targets.find((o) => o !== t)?.secret as string)).toThrow();
        expect(header(request?.headers ?? {}, 'authorization')).toBe('Bearer receiver-token');
        expect(header(request?.headers ?? {}, 'content-type')).toBe('application/json');
        ids.add(header(request?.headers ?? {}, 'webhook-id'));
      }
      expect(ids.size).toBe(5);
      expect(other.requests).toEqual([]);
    });

    it('a receiver failing twice then succeeding gets the same webhook-id three times, then nothing more', async () => {
      const serviceId = uniqueService();
      const server = await env.receiver((n) => (n <= 2 ? 503 : 200));
      const webhook = await env.createWebhook(server.url(), { subscriptions: ['*'], attributes: { serviceId } });
      const eventId = await env.postEvent(serviceEvent(serviceId));
      const view = await env.settled(eventId, 1);
      expect(view.deliveries).toEqual([expect.objectContaining({ webhookId: webhook.id, state: 'delivered', attempts: 3, lastResult: { status: 200 } })]);
      expect(server.requests).toHaveLength(3);
      const ids = server.requests.map((r) => header(r.headers, 'webhook-id'));
      expect(new Set(ids).size).toBe(1);
      expect(ids[0]).toMatch(/^msg_[0-9a-f]{32}$/);
      for (const r of server.requests) expect(verified(r, webhook.secret)).toEqual(SERVICE_BODY);
    });

    it('a 400 is poisoned at once, with the reason and the attempt', async () => {
      const serviceId = uniqueService();
      const server = await env.receiver(() => 400);
      const webhook = await env.createWebhook(server.url(), { subscriptions: ['service:subscribed'], attributes: { serviceId } });
      const eventId = await env.postEvent(serviceEvent(serviceId));
      const entry = await env.poisonFor((p) => p.webhookId === webhook.id, 'the poisoned 400');
      expect(entry).toEqual({
        kind: 'undeliverable',
        v: 1,
        eventId,
        deliveryId: header(server.requests[0]?.headers ?? {}, 'webhook-id'),
        webhookId: webhook.id,
        body: SERVICE_BODY,
        attempts: [{ at: expect.any(String), result: expect.objectContaining({ kind: 'Response', status: 400, excerpt: '{"error":"status 400"}' }) }],
        reason: { kind: 'Rejected', status: 400 },
        poisonedAt: expect.any(String),
      });
      const view = await env.settled(eventId, 1);
      expect(view.deliveries).toEqual([expect.objectContaining({ state: 'poisoned', attempts: 1 })]);
      expect(server.requests).toHaveLength(1);
      // The attempt log and its API keep a typed summary, never what the receiver said.
      const attempts = await env.call('GET', `webhooks/${webhook.id}/attempts`, { key: ADMIN_KEY });
      expect(attempts.status).toBe(200);
      expect(attempts.body).toMatchObject({ items: [{ result: { kind: 'Response', status: 400, excerpt: '', bodyBytes: 22, bodyRead: 'Complete' } }] });
      expect(JSON.stringify(attempts.body)).not.toContain('status 400');
    });

    it('a 410 disables the webhook, without poison; later events skip it', async () => {
      const serviceId = uniqueService();
      const server = await env.receiver(() => 410);
      const webhook = await env.createWebhook(server.url(), { subscriptions: ['service:subscribed'], attributes: { serviceId } });
      const eventId = await env.postEvent(serviceEvent(serviceId));
      const view = await env.settled(eventId, 1);
      expect(view.deliveries).toEqual([expect.objectContaining({ webhookId: webhook.id, state: 'gone', lastResult: { status: 410 } })]);
      expect(await env.call('GET', `webhooks/${webhook.id}`, { key: ADMIN_KEY })).toMatchObject({ status: 200, body: { id: webhook.id, disabled: true } });
      await env.drainPoison();
      expect(env.poisoned.filter((p) => p.webhookId === webhook.id)).toEqual([]);
      const again = await env.postEvent(serviceEvent(serviceId));
      expect(await env.settled(again, 0)).toMatchObject({ summary: { delivered: 0, retrying: 0, poisoned: 0, gone: 0, skipped: 0, pending: 0 } });
      expect(server.requests).toHaveLength(1);
    });

    it('a receiver that never answers is retried after the timeout, with the same webhook-id', async () => {
      const serviceId = uniqueService();
      const server = await env.receiver((n) => (n === 1 ? 'hang' : 200));
      const webhook = await env.createWebhook(server.url(), { subscriptions: ['service:subscribed'], attributes: { serviceId } });
      const eventId = await env.postEvent(serviceEvent(serviceId));
      const view = await env.settled(eventId, 1);
      expect(view.deliveries).toEqual([expect.objectContaining({ state: 'delivered', attempts: 2 })]);
      expect(server.requests).toHaveLength(2);
      expect(header(server.requests[1]?.headers ?? {}, 'webhook-id')).toBe(header(server.requests[0]?.headers ?? {}, 'webhook-id'));
      for (const r of server.requests) expect(verified(r, webhook.secret)).toEqual(SERVICE_BODY);
    });

    it('ping:all reaches exactly the webhooks that have a name, each with its own ping', async () => {
      const named = await Promise.all(
        (['ping', '*'] as const).map(async (subscription, i) => {
          const server = await env.receiver();
          return { server, ...(await env.createWebhook(server.url(), { subscriptions: [subscription], attributes: { name: `wh-${suffix}-${i}` } })) };
        }),
      );
      const unnamed = await env.receiver();
      await env.createWebhook(unnamed.url(), { subscriptions: ['ping'], attributes: { serviceId: uniqueService() } });
      const notSubscribed = await env.receiver();
      await env.createWebhook(notSubscribed.url(), { subscriptions: ['service:subscribed'], attributes: { name: `other-${suffix}` } });
      const disabled = await env.receiver();
      await env.createWebhook(disabled.url(), { subscriptions: ['ping'], attributes: { name: `off-${suffix}` }, disabled: true });

      const eventId = await env.postEvent({ name: 'ping:all' });
      const view = await env.settled(eventId, 2);
      expect(view.summary).toMatchObject({ delivered: 2 });
      for (const n of named) {
        expect(n.server.requests).toHaveLength(1);
        expect(verified(n.server.requests[0] as TestServer['requests'][number], n.secret)).toEqual({ name: 'ping', payload: {} });
      }
      expect(unnamed.requests).toEqual([]);
      expect(notSubscribed.requests).toEqual([]);
      expect(disabled.requests).toEqual([]);
    });

    it('GET /api/events/{id} reports the event, its fan-out and each webhook state; 401 and 404', async () => {
      const serviceId = uniqueService();
      const servers = await Promise.all([env.receiver(() => 200), env.receiver(() => 422), env.receiver(() => 410)]);
      const hooks = await Promise.all(servers.map((s) => env.createWebhook(s.url(), { subscriptions: ['service:subscribed'], attributes: { serviceId } })));
      const eventId = await env.postEvent(serviceEvent(serviceId));
      const view = await env.settled(eventId, 3);
      expect(view).toMatchObject({
        id: eventId,
        name: 'service:subscribed',
        payload: { serviceId, fiscalCode: FISCAL_CODE },
        dispatch: { status: 'Completed', deliveries: 3 },
        summary: { delivered: 1, retrying: 0, poisoned: 1, gone: 1, skipped: 0, pending: 0 },
      });
      const stateOf = (id: string): unknown => (view.deliveries as Json[]).find((d) => d.webhookId === id);
      expect(stateOf(hooks[0]?.id as string)).toMatchObject({ state: 'delivered', attempts: 1, lastResult: { status: 200 } });
      expect(stateOf(hooks[1]?.id as string)).toMatchObject({ state: 'poisoned', attempts: 1, lastResult: { status: 422 } });
      expect(stateOf(hooks[2]?.id as string)).toMatchObject({ state: 'gone', attempts: 1, lastResult: { status: 410 } });
      expect((await env.call('GET', `events/${eventId}`)).status).toBe(401);
      expect((await env.call('GET', `events/${eventId}`, { key: INGEST_KEY })).status).toBe(401);
      expect((await env.call('GET', 'events/01J0000000000000000000NONE', { key: ADMIN_KEY })).status).toBe(404);
    });

    it('a repeated post of the same event id is not delivered twice', async () => {
      const serviceId = uniqueService();
      const server = await env.receiver();
      await env.createWebhook(server.url(), { subscriptions: ['service:subscribed'], attributes: { serviceId } });
      const id = `evt-repeat-${suffix}`;
      expect(await env.postEvent(serviceEvent(serviceId, id))).toBe(id);
      const first = await env.settled(id, 1);
      expect(await env.postEvent(serviceEvent(serviceId, id))).toBe(id);
      // A later event to the same receiver arrives after whatever the repeat would have caused.
      const marker = await env.postEvent(serviceEvent(serviceId));
      await env.settled(marker, 1);
      expect(server.requests).toHaveLength(2);
      const after = await env.eventStatus(id);
      expect(after.dispatch).toEqual(first.dispatch);
      expect(after.deliveries).toEqual(first.deliveries);
    });

    it('garbage on the deliveries queue is set aside as UnreadableMessage; the worker keeps delivering', async () => {
      const queue = env.state.deliveries as QueueClient;
      const notJson = 'this is not json {';
      const notAMessage = { hello: 'world', items: 'nope' };
      await queue.sendMessage(Buffer.from(notJson).toString('base64'));
      await queue.sendMessage(Buffer.from(JSON.stringify(notAMessage)).toString('base64'));
      const seen = await eventually(async () => {
        await env.drainPoison();
        return env.unreadablePoison.length >= 2 ? (env.unreadablePoison as PoisonSeen[]) : undefined;
      }, 'two unreadable messages in the poison queue');
      expect(seen.map((p) => p.body)).toEqual(expect.arrayContaining([notJson, notAMessage]));
      for (const p of seen) expect(p).toMatchObject({ kind: 'undeliverable', reason: { kind: 'UnreadableMessage', message: expect.any(String) }, attempts: [] });
      // Set aside by the function itself (once), not by the host after five failures.
      expect(env.host().logs.some((l) => /moved to .*-poison/.test(l.message))).toBe(false);
      const serviceId = uniqueService();
      const server = await env.receiver();
      await env.createWebhook(server.url(), { subscriptions: ['service:subscribed'], attributes: { serviceId } });
      await env.settled(await env.postEvent(serviceEvent(serviceId)), 1);
      expect(server.requests).toHaveLength(1);
    });
  });

  describe('private destinations refused (ALLOW_PRIVATE_DESTINATIONS=false), one webhook per fan-out page', () => {
    const env = environment('e2epriv', false, 1);
    beforeAll(async () => {
      await env.start(azurite);
    });
    afterAll(async () => {
      await env.stop();
    });

    it('a loopback webhook is not called, and its delivery is poisoned with DestinationNotAllowed', async () => {
      const serviceId = uniqueService();
      // On every interface, so that a request that slipped past the guard would be seen.
      const server = await env.receiver(() => 200, '0.0.0.0');
      // A DNS name passes the registry's check of the URL text; its address is checked at connect time.
      // On Linux the machine's own name resolves to a loopback or private address (/etc/hosts).
      const machine = hostname();
      const resolved = await lookup(machine);
      expect(isPublicAddress(resolved.address)).toBe(false);
      const byName = await env.createWebhook(`http://${machine}:${server.port}/hook`, { subscriptions: ['service:subscribed'], attributes: { serviceId } });
      // An IP literal the registry now refuses, stored while private destinations were allowed.
      expect((await env.call('POST', 'webhooks', { key: ADMIN_KEY, body: { url: server.url(), subscriptions: ['*'] } })).status).toBe(400);
      const stored = aWebhook({ url: `http://127.0.0.1:${server.port}/hook` as Webhook['url'], subscriptions: ['service:subscribed'], attributes: { serviceId } });
      const store = tableWebhookStore(ensuredTable({ connectionString: azurite.connectionString, tableName: env.settings.WEBHOOKS_TABLE }), { keyring: testKeyring });
      expect(E.isRight(await store.create(stored)())).toBe(true);

      const eventId = await env.postEvent(serviceEvent(serviceId));
      for (const webhookId of [byName.id, stored.id]) {
        const entry = await env.poisonFor((p) => p.webhookId === webhookId, `the refused delivery to ${webhookId}`);
        expect(entry).toMatchObject({
          eventId,
          webhookId,
          reason: { kind: 'DestinationNotAllowed', message: expect.any(String) },
          attempts: [{ result: { kind: 'NetworkError', error: 'DestinationNotAllowed' } }],
        });
      }
      expect(await env.settled(eventId, 2)).toMatchObject({ summary: { poisoned: 2 } });
      expect(server.connections()).toBe(0);
      expect(server.requests).toEqual([]);
    });

    it('a fan-out longer than one orchestration run (50 pages) continues as new and enqueues every delivery', async () => {
      const serviceId = uniqueService();
      const server = await env.receiver(() => 200, '0.0.0.0');
      const url = `http://${hostname()}:${server.port}/hook`;
      const ids = new Set<string>();
      for (let i = 0; i < 53; i++) ids.add((await env.createWebhook(url, { subscriptions: ['service:subscribed'], attributes: { serviceId } })).id);
      const eventId = await env.postEvent(serviceEvent(serviceId));
      const view = await env.settled(eventId, 53);
      expect(view.dispatch).toMatchObject({ status: 'Completed', deliveries: 53 });
      // One page per webhook, and the store may end each subscription range with an empty page.
      expect((view.dispatch as Json).pages).toBeGreaterThanOrEqual(53);
      expect(new Set((view.deliveries as Json[]).map((d) => d.webhookId))).toEqual(ids);
      expect(server.requests).toEqual([]);
    }, 120_000);
  });
});
