import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { call as callApi, readBody, until } from '../../__tests__/faults/harness';
import { type SpawnedHost, spawnHost } from '../../../local-host/testing/spawnHost';

/*
 * Replay, resend and test send through the embedded host (the compiled app, the test Azurite,
 * receivers on loopback): a receiver down for a window of events, brought back and replayed, every
 * missed delivery arriving once with its original `webhook-id`; auth on every route (admin, owning
 * tenant, another tenant = 404); bad input on every route; a webhook's own timeoutMs.
 */

const appDir = path.resolve(__dirname, '..', '..', '..');
const INGEST_KEY = 'replay-ingest-key-0123456789-abcdefghijklmnop';
const ADMIN_KEY = 'replay-admin-key-0123456789-abcdefghijklmnop';
const suffix = `${process.pid}${Date.now() % 100000}`;
const settings = {
  INGEST_API_KEY: INGEST_KEY,
  ADMIN_API_KEY: ADMIN_KEY,
  WEBHOOKS_TABLE: `rpwebhooks${suffix}`,
  EVENTS_TABLE: `rpevents${suffix}`,
  ATTEMPTS_TABLE: `rpattempts${suffix}`,
  DELIVERIES_QUEUE: `rp-deliveries-${suffix}`,
  ALLOW_PRIVATE_DESTINATIONS: 'true',
  VERIFY_ENDPOINTS_DEFAULT: 'false',
  RETRY_SCHEDULE_SECONDS: '1,1',
  RETRY_JITTER_RATIO: '0',
  // Longer than any wait below: the webhook's own timeoutMs must be what ends the hanging test send.
  DELIVERY_TIMEOUT_MS: '60000',
  LOCAL_HOST_DURABLE_MAX_POLLING_INTERVAL_MS: '300',
};

type Json = Record<string, unknown>;
type Answer = { status: number; body: Json | undefined };
type Received = { path: string; headers: IncomingMessage['headers']; body: string };

const header = (r: Received, name: string): string => String(r.headers[name] ?? '');

describe('replay, resend and test send through the embedded host', () => {
  let host: SpawnedHost;
  let receiver: Server;
  let base: string;
  const received: Received[] = [];
  /** Paths answering 503 (a receiver that is down), and paths that never answer. */
  const down = new Set<string>();
  const hanging = new Set<string>();

  beforeAll(async () => {
    receiver = createServer(async (req, res) => {
      const body = await readBody(req);
      const p = req.url ?? '/';
      received.push({ path: p, headers: req.headers, body });
      if (hanging.has(p)) return;
      if (down.has(p)) {
        res.writeHead(503).end('{"error":"down for maintenance"}');
        return;
      }
      res.writeHead(200).end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    host = await spawnHost({ appDir, env: settings });
  });
  afterAll(async () => {
    await host?.stop();
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
  });

  const call = async (method: string, route: string, options: { key?: string; body?: unknown; raw?: string } = {}): Promise<Answer> => {
    const { status, body } = await callApi(host.baseUrl, method, route, options);
    return { status, body };
  };
  const newTenant = async (name: string, names: string[]): Promise<{ id: string; key: string }> => {
    const created = await call('POST', 'tenants', { key: ADMIN_KEY, body: { name, routing: { name: names } } });
    expect(created.status).toBe(201);
    return { id: created.body?.id as string, key: created.body?.apiKey as string };
  };
  const newWebhook = async (key: string, body: Json): Promise<{ id: string; secret: string }> => {
    const created = await call('POST', 'webhooks', { key, body });
    expect(created.status).toBe(201);
    return { id: created.body?.id as string, secret: created.body?.secret as string };
  };
  const ping = async (name: string): Promise<string> => {
    const res = await call('POST', 'events', { key: INGEST_KEY, body: { name: 'ping', payload: { name } } });
    expect(res.status).toBe(202);
    return res.body?.id as string;
  };
  /** The delivery of the event to the webhook, once it reached `state`. */
  const deliveryIn = (eventId: string, webhookId: string, state: string): Promise<Json> =>
    until(`event ${eventId} to reach ${state}`, async () => {
      const view = await call('GET', `events/${eventId}`, { key: ADMIN_KEY });
      return ((view.body?.deliveries as Json[] | undefined) ?? []).find((d) => d.webhookId === webhookId && d.state === state);
    });
  const at = (p: string): Received[] => received.filter((r) => r.path === p);
  const verified = (r: Received, secret: string): unknown =>
    new StandardWebhook(secret).verify(r.body, { 'webhook-id': header(r, 'webhook-id'), 'webhook-timestamp': header(r, 'webhook-timestamp'), 'webhook-signature': header(r, 'webhook-signature') });

  let tenantA: { id: string; key: string };
  let tenantB: { id: string; key: string };
  let hookA: { id: string; secret: string };
  let hookB: { id: string; secret: string };
  let beforeWindow: string;
  let since: string;
  const missed: string[] = [];

  it('a receiver down for a window of events, brought back and replayed: every missed delivery arrives once, with its original webhook-id, signed afresh', async () => {
    tenantA = await newTenant('replay A', ['a1']);
    tenantB = await newTenant('replay B', ['b1']);
    hookA = await newWebhook(tenantA.key, { url: `${base}/a`, subscriptions: ['ping'], attributes: { name: 'a1' } });
    hookB = await newWebhook(tenantB.key, { url: `${base}/b`, subscriptions: ['ping'], attributes: { name: 'b1' } });

    beforeWindow = await ping('a1');
    await deliveryIn(beforeWindow, hookA.id, 'delivered');
    since = new Date().toISOString();
    down.add('/a');
    for (let i = 0; i < 3; i++) missed.push(await ping('a1'));
    // Tenant B's events in the same window: never replayed to A's webhook.
    const other = await ping('b1');
    for (const id of missed) await deliveryIn(id, hookA.id, 'poisoned');
    await deliveryIn(other, hookB.id, 'delivered');
    const failedIds = new Set(
      at('/a')
        .filter((r) => header(r, 'webhook-id') !== '')
        .map((r) => header(r, 'webhook-id')),
    );
    expect(failedIds.size).toBe(4); // the delivered one before the window, and the three missed

    down.delete('/a');
    const seenBefore = at('/a').length;
    const started = await call('POST', `webhooks/${hookA.id}/replay`, { key: tenantA.key, body: { since } });
    expect(started.status).toBe(202);
    const replayId = started.body?.id as string;
    expect(replayId).toMatch(/^rpl_[0-9a-f]{32}$/);
    // The same request again while it runs (or after) names the same replay.
    expect(await call('POST', `webhooks/${hookA.id}/replay`, { key: tenantA.key, body: { since } })).toMatchObject({ status: 202, body: { id: replayId } });

    const done = await until('the replay to complete', async () => {
      const status = await call('GET', `webhooks/${hookA.id}/replays/${replayId}`, { key: tenantA.key });
      expect(status.status).toBe(200);
      return status.body?.status === 'Completed' ? status.body : undefined;
    });
    expect(done).toMatchObject({ status: 'Completed', deliveries: 3, since, only: 'failed' });
    for (const id of missed) await deliveryIn(id, hookA.id, 'delivered');

    const replayed = at('/a').slice(seenBefore);
    // Each missed delivery exactly once, none of the delivered one before the window, nothing of B's.
    const replayedIds = replayed.map((r) => header(r, 'webhook-id'));
    expect(new Set(replayedIds).size).toBe(replayedIds.length);
    expect(replayedIds).toHaveLength(3);
    for (const r of replayed) {
      expect(verified(r, hookA.secret)).toEqual({ name: 'ping', payload: {} });
      expect(failedIds.has(header(r, 'webhook-id'))).toBe(true);
    }
    const firstDeliveryId = header(at('/a')[0] as Received, 'webhook-id');
    expect(replayedIds).not.toContain(firstDeliveryId);
    expect(at('/b')).toHaveLength(1);

    // Replaying the same window again sends nothing: those deliveries are no longer failed.
    const again = await call('POST', `webhooks/${hookA.id}/replay`, { key: ADMIN_KEY, body: { since } });
    expect(again.status).toBe(202);
    const second = await until('the second replay to complete', async () => {
      const status = await call('GET', `webhooks/${hookA.id}/replays/${again.body?.id as string}`, { key: ADMIN_KEY });
      return status.body?.status === 'Completed' ? status.body : undefined;
    });
    expect(second).toMatchObject({ deliveries: 0 });
  });

  it('only "all" re-sends every delivery of the window, with the same webhook-ids', async () => {
    const before = at('/a').length;
    const started = await call('POST', `webhooks/${hookA.id}/replay`, { key: tenantA.key, body: { since, only: 'all' } });
    expect(started.status).toBe(202);
    await until('the "all" replay to complete', async () => {
      const status = await call('GET', `webhooks/${hookA.id}/replays/${started.body?.id as string}`, { key: tenantA.key });
      return status.body?.status === 'Completed' && status.body.deliveries === 3 ? status.body : undefined;
    });
    const arrived = await until('three more deliveries', () => (at('/a').length >= before + 3 ? at('/a').slice(before) : undefined));
    const ids = arrived.map((r) => header(r, 'webhook-id'));
    expect(new Set(ids).size).toBe(3);
    const firstIds = new Set(
      at('/a')
        .slice(0, before)
        .map((r) => header(r, 'webhook-id')),
    );
    for (const id of ids) expect(firstIds.has(id)).toBe(true);
    expect(at('/b')).toHaveLength(1);
  });

  it('resend: that one delivery again, whatever its state, same webhook-id', async () => {
    const before = at('/a').length;
    const original = header(at('/a')[0] as Received, 'webhook-id');
    const resent = await call('POST', `webhooks/${hookA.id}/resend`, { key: tenantA.key, body: { eventId: beforeWindow } });
    expect(resent).toMatchObject({ status: 202, body: { deliveryIds: [original] } });
    const arrived = await until('the resent delivery', () =>
      at('/a')
        .slice(before)
        .find((r) => header(r, 'webhook-id') === original),
    );
    expect(verified(arrived, hookA.secret)).toEqual({ name: 'ping', payload: {} });
    // An event of another tenant's routing value has no delivery to this webhook.
    const bEvent = await ping('b1');
    expect((await call('POST', `webhooks/${hookA.id}/resend`, { key: ADMIN_KEY, body: { eventId: bEvent } })).status).toBe(404);
    await deliveryIn(bEvent, hookB.id, 'delivered');
  });

  it('test send: one signed webhook.test to that webhook only, the attempt result in the answer, never retried', async () => {
    const before = received.length;
    const ok = await call('POST', `webhooks/${hookA.id}/test`, { key: tenantA.key });
    expect(ok).toMatchObject({ status: 200, body: { ok: true, status: 200, body: 'ok', durationMs: expect.any(Number) } });
    const sent = received.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.path).toBe('/a');
    expect(verified(sent[0] as Received, hookA.secret)).toEqual({ name: 'webhook.test', payload: {} });
    expect(header(sent[0] as Received, 'webhook-id')).toBe(ok.body?.deliveryId);

    down.add('/a');
    const failing = await call('POST', `webhooks/${hookA.id}/test`, { key: ADMIN_KEY });
    expect(failing).toMatchObject({ status: 200, body: { ok: false, status: 503, body: '{"error":"down for maintenance"}' } });
    down.delete('/a');
    // One attempt each, nothing queued for later.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(received.slice(before).filter((r) => r.path === '/a')).toHaveLength(2);
  });

  it("timeoutMs: 1-30 s on create, PUT and PATCH; a webhook's own timeout ends its attempts", async () => {
    for (const timeoutMs of [999, 30_001, 1.5, '2000']) {
      const bad = await call('POST', 'webhooks', { key: ADMIN_KEY, body: { url: `${base}/t`, subscriptions: ['ping'], timeoutMs } });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toMatch(/timeoutMs/);
    }
    const hook = await newWebhook(ADMIN_KEY, { url: `${base}/hang`, subscriptions: ['ping'], attributes: { name: 'h' }, timeoutMs: 1000 });
    expect((await call('GET', `webhooks/${hook.id}`, { key: ADMIN_KEY })).body).toMatchObject({ timeoutMs: 1000 });
    hanging.add('/hang');
    // DELIVERY_TIMEOUT_MS is a minute: only the webhook's own second can end this attempt in time.
    const hung = await call('POST', `webhooks/${hook.id}/test`, { key: ADMIN_KEY });
    expect(hung).toMatchObject({ status: 200, body: { ok: false, status: null, error: expect.stringMatching(/^Timeout/) } });
    expect((await call('PATCH', `webhooks/${hook.id}`, { key: ADMIN_KEY, body: { timeoutMs: 30_000 } })).body).toMatchObject({ timeoutMs: 30_000 });
    expect((await call('PATCH', `webhooks/${hook.id}`, { key: ADMIN_KEY, body: { timeoutMs: 0 } })).status).toBe(400);
    expect((await call('PATCH', `webhooks/${hook.id}`, { key: ADMIN_KEY, body: { timeoutMs: null } })).body).not.toHaveProperty('timeoutMs');
    const put = await call('PUT', `webhooks/${hook.id}`, { key: ADMIN_KEY, body: { url: `${base}/hang`, subscriptions: ['ping'], timeoutMs: 5000 } });
    expect(put.body).toMatchObject({ timeoutMs: 5000 });
    expect((await call('DELETE', `webhooks/${hook.id}`, { key: ADMIN_KEY })).status).toBe(204);
  });

  it("auth: the admin and the owning tenant; another tenant's key is a 404, no key a 401", async () => {
    const replay = await call('POST', `webhooks/${hookA.id}/replay`, { key: ADMIN_KEY, body: { since } });
    const routes: [string, string, unknown][] = [
      ['POST', `webhooks/${hookA.id}/replay`, { since }],
      ['GET', `webhooks/${hookA.id}/replays/${replay.body?.id as string}`, undefined],
      ['POST', `webhooks/${hookA.id}/resend`, { eventId: beforeWindow }],
      ['POST', `webhooks/${hookA.id}/test`, undefined],
    ];
    const before = received.length;
    for (const [method, route, body] of routes) {
      expect((await call(method, route, { key: tenantB.key, body })).status).toBe(404);
      expect((await call(method, route, { body })).status).toBe(401);
      expect((await call(method, route, { key: INGEST_KEY, body })).status).toBe(401);
    }
    // B's own webhook is B's: the admin reaches it, A does not.
    expect((await call('POST', `webhooks/${hookB.id}/resend`, { key: tenantA.key, body: { eventId: beforeWindow } })).status).toBe(404);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(received.slice(before).filter((r) => r.path === '/a' || r.path === '/b')).toHaveLength(0);
  });

  it('bad input on every route is a 4xx that says why and changes nothing', async () => {
    const route = `webhooks/${hookA.id}/replay`;
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /since/],
      [{ since: 'yesterday' }, 400, /since/],
      [{ since: future }, 400, /future/],
      [{ since, until: future }, 400, /future/],
      [{ since, until: new Date(Date.parse(since) - 1000).toISOString() }, 400, /after since/],
      [{ since: new Date(Date.now() - 40 * 86_400_000).toISOString() }, 400, /RETENTION_DAYS/],
      [{ since, only: 'some' }, 400, /only/],
      [{ since, extra: 1 }, 400, /extra/],
      [[since], 400, /body|request/],
    ];
    for (const [body, status, why] of cases) {
      const answer = await call('POST', route, { key: ADMIN_KEY, body });
      expect(answer.status).toBe(status);
      expect(JSON.stringify(answer.body)).toMatch(why);
    }
    expect((await call('POST', route, { key: ADMIN_KEY, raw: '{"since":' })).status).toBe(400);
    expect((await call('POST', 'webhooks/NOTAWEBHOOK/replay', { key: ADMIN_KEY, body: { since } })).status).toBe(404);
    expect((await call('GET', `webhooks/${hookA.id}/replays/rpl_0123456789abcdef0123456789abcdef`, { key: ADMIN_KEY })).status).toBe(404);
    expect((await call('GET', `webhooks/${hookA.id}/replays/rpl_not-an-id`, { key: ADMIN_KEY })).status).toBe(404);
    // Another webhook's replay id is not this webhook's.
    const ofA = await call('POST', route, { key: ADMIN_KEY, body: { since } });
    expect((await call('GET', `webhooks/${hookB.id}/replays/${ofA.body?.id as string}`, { key: ADMIN_KEY })).status).toBe(404);

    for (const body of [{}, { eventId: '' }, { eventId: 'a/b' }, { eventId: 1 }]) expect((await call('POST', `webhooks/${hookA.id}/resend`, { key: ADMIN_KEY, body })).status).toBe(400);
    expect((await call('POST', `webhooks/${hookA.id}/resend`, { key: ADMIN_KEY, body: { eventId: 'no-such-event' } })).status).toBe(404);

    // A disabled webhook: replay and resend are a 409 saying so; nothing is sent.
    expect((await call('PATCH', `webhooks/${hookA.id}`, { key: ADMIN_KEY, body: { disabled: true } })).status).toBe(200);
    const before = received.length;
    const refused = await call('POST', route, { key: ADMIN_KEY, body: { since } });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toMatch(/disabled/);
    expect((await call('POST', `webhooks/${hookA.id}/resend`, { key: ADMIN_KEY, body: { eventId: beforeWindow } })).status).toBe(409);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(received.length).toBe(before);
  });
});
