import path from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import { type RunningAzurite, startAzurite } from '../../../local-host/azurite';
import { type SpawnedHost, spawnHost } from '../../../local-host/testing/spawnHost';
import { encodeMessage } from '../../adapters/queues/storageDeliveryQueue';
import { startServer, type TestServer } from '../../adapters/http/__tests__/testServer';
import { FISCAL_CODE } from '../../domain/__tests__/fixtures';
import { deliveryIdFor } from '../../domain/delivery';

/*
 * The group commit end to end (docs/delivery.md, "Envelopes"): concurrent posts at fan-out 1 through
 * the compiled app in the embedded host (one queue message per invocation, as the Functions host):
 * their deliveries travel in envelopes, and each arrives once with its own stable webhook-id; a
 * single message written the way it was before envelopes is still delivered.
 */

const appDir = path.resolve(__dirname, '..', '..', '..');
const INGEST_KEY = 'e2e-ingest-key-0123456789-abcdefghijklmnop';
const ADMIN_KEY = 'e2e-admin-key-0123456789-abcdefghijklmnop';
const suffix = `${process.pid}${Date.now() % 100000}`;
const CONCURRENT_POSTS = 24;

type Json = Record<string, unknown>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const eventually = async <A>(probe: () => Promise<A | undefined> | A | undefined, what: string, deadlineMs = 60_000): Promise<A> => {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(150);
  }
};

describe('envelopes through the embedded host', () => {
  let azurite: RunningAzurite;
  let host: SpawnedHost;
  let receiver: TestServer;
  const queueName = `env-deliveries-${suffix}`;

  const call = async (method: string, route: string, options: { key: string; body?: unknown }): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${host.baseUrl}/api/${route}`, {
      method,
      headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Json };
  };
  const webhookIds = (): string[] => receiver.requests.map((r) => String(r.headers['webhook-id']));

  beforeAll(async () => {
    azurite = await startAzurite({ inMemory: true });
    receiver = await startServer((_req, res) => {
      res.statusCode = 200;
      res.end('ok');
    });
    host = await spawnHost({
      appDir,
      env: {
        AzureWebJobsStorage: azurite.connectionString,
        INGEST_API_KEY: INGEST_KEY,
        ADMIN_API_KEY: ADMIN_KEY,
        WEBHOOKS_TABLE: `envwebhooks${suffix}`,
        EVENTS_TABLE: `envevents${suffix}`,
        ATTEMPTS_TABLE: `envattempts${suffix}`,
        DELIVERIES_QUEUE: queueName,
        ALLOW_PRIVATE_DESTINATIONS: 'true',
        // An Azurite stall on a loaded machine must not fail a call and send a message back for 30 s.
        STORAGE_TIMEOUT_MS: '30000',
      },
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await host?.stop();
    await azurite?.stop();
  });

  it('concurrent posts at fan-out 1 share queue messages, and each delivery arrives exactly once with its own webhook-id', async () => {
    const serviceId = `svc-${suffix}`;
    const created = await call('POST', 'webhooks', { key: ADMIN_KEY, body: { url: receiver.url(), subscriptions: ['service:subscribed'], attributes: { serviceId } } });
    expect(created.status).toBe(201);
    const webhookId = created.body.id as string;
    const eventIds = Array.from({ length: CONCURRENT_POSTS }, (_, i) => `env-${suffix}-${i}`);
    const answers = await Promise.all(eventIds.map((id) => call('POST', 'events', { key: INGEST_KEY, body: { id, name: 'service:subscribed', payload: { serviceId, fiscalCode: FISCAL_CODE } } })));
    expect(answers.map((a) => a.status)).toEqual(eventIds.map(() => 202));

    const expected = eventIds.map((eventId) => deliveryIdFor({ eventId, publicEventName: 'service:subscribed', webhookId })).sort();
    await eventually(async () => {
      const views = await Promise.all(eventIds.map((id) => call('GET', `events/${id}`, { key: ADMIN_KEY })));
      return views.every((v) => (v.body.summary as Json | undefined)?.delivered === 1) ? views : undefined;
    }, 'every event to be delivered');
    // Each delivery once, with the webhook-id derived from its own event (no repeats, none swapped).
    expect(webhookIds().sort()).toEqual(expected);
    // And they did travel together: the worker ran at least one envelope of several messages.
    const envelopes = host.logs
      .filter((l) => l.message.startsWith('delivery.envelope'))
      .map((l) => JSON.parse(l.message.slice('delivery.envelope '.length)) as { messages: number; delivered: number });
    expect(envelopes.some((e) => e.messages >= 2)).toBe(true);
    expect(envelopes.reduce((n, e) => n + e.delivered, 0)).toBeLessThanOrEqual(CONCURRENT_POSTS);
  });

  it('an envelope the host moved to the poison queue is listed with its events, and a redrive delivers each of its messages', async () => {
    const created = await call('POST', 'webhooks', { key: ADMIN_KEY, body: { url: receiver.url(), subscriptions: ['ping'], attributes: { name: `poisoned-${suffix}` } } });
    expect(created.status).toBe(201);
    const webhookId = created.body.id as string;
    const messages = [1, 2].map((n) => {
      const eventId = `poisoned-${suffix}-${n}`;
      return { v: 1, eventId, items: [{ deliveryId: deliveryIdFor({ eventId, publicEventName: 'ping', webhookId }), webhookId, body: { name: 'ping', payload: {} }, attempts: [] }] };
    });
    // As the host copies a message it gave up on: the same base64 text, in <queue>-poison.
    const poison = new QueueClient(azurite.connectionString, `${queueName}-poison`);
    await poison.createIfNotExists();
    await poison.sendMessage(encodeMessage({ v: 1, messages }));
    const listed = await call('GET', 'poison', { key: ADMIN_KEY });
    expect(listed.status).toBe(200);
    const items = listed.body.items as { messageId: string; item: Json }[];
    expect(items.map((i) => i.item)).toEqual([{ kind: 'FailedEnvelope', messages }]);
    const before = receiver.requests.length;
    const redriven = await call('POST', 'poison/redrive', { key: ADMIN_KEY, body: { messageId: items[0]?.messageId } });
    expect(redriven.body).toEqual({ redriven: 1, leftUnreadable: 0, found: true, truncated: false });
    await eventually(() => (receiver.requests.length >= before + 2 ? true : undefined), 'both redriven deliveries');
    expect(webhookIds().slice(before).sort()).toEqual(messages.map((m) => m.items[0]?.deliveryId).sort());
  });

  it('a single message written as before envelopes (queued at the deploy, redriven) is still delivered', async () => {
    const created = await call('POST', 'webhooks', { key: ADMIN_KEY, body: { url: receiver.url(), subscriptions: ['ping'], attributes: { name: `old-${suffix}` } } });
    expect(created.status).toBe(201);
    const webhookId = created.body.id as string;
    const eventId = `old-${suffix}`;
    const deliveryId = deliveryIdFor({ eventId, publicEventName: 'ping', webhookId });
    const before = receiver.requests.length;
    // No lookup hint: the worker reads the webhook by id, as for a message from before the hint.
    await new QueueClient(azurite.connectionString, queueName).sendMessage(encodeMessage({ v: 1, eventId, items: [{ deliveryId, webhookId, body: { name: 'ping', payload: {} }, attempts: [] }] }));
    await eventually(() => (receiver.requests.length > before ? true : undefined), 'the old message to be delivered');
    expect(webhookIds().slice(before)).toEqual([deliveryId]);
  });
});
