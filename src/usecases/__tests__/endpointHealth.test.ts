import * as E from 'fp-ts/Either';
import { Webhook as Receiver } from 'standardwebhooks';
import { httpOpsEvents } from '../../adapters/http/httpOpsEvents';
import type { HttpSender, OutgoingRequest } from '../../ports/httpSender';
import { memoryAttemptLog } from '../../adapters/__tests__/memory/memoryAttemptLog';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryDeliveryStats } from '../../adapters/__tests__/memory/memoryDeliveryStats';
import { memoryWebhookLookup } from '../../adapters/__tests__/memory/memoryWebhookLookup';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { type DeliveryItem, type DeliveryMessage, deliveryIdFor } from '../../domain/delivery';
import type { EventId } from '../../domain/events';
import { OpsEvent } from '../../domain/opsEvents';
import type { AttemptResult } from '../../domain/outcome';
import type { Webhook, WebhookSecret } from '../../domain/webhook';
import type { WebhookStore } from '../../ports/webhookStore';
import { type DeliverDeps, deliverMessage } from '../deliverMessage';
import { getWebhookStats } from '../getWebhookStats';
import { ownerAlerts, publishToAll } from '../ownerAlerts';

/*
 * Endpoint health through deliverMessage with memory ports: a receiver that fails every attempt is
 * disabled once the streak is old enough and long enough, with few webhook writes; the ops receiver
 * gets webhook.disabled and delivery.exhausted signed so that the standardwebhooks package verifies
 * them, without the event's payload; stats count what the receiver saw.
 */

const OPS_URL = 'https://ops.example/events';
const OPS_SECRET = 'whsec_b3BzLXNlY3JldC1mb3ItaGVhbHRoLXRlc3RzLTAx' as WebhookSecret;
const HOUR_MS = 3_600_000;

const response = (status: number, latencyMs = 12): AttemptResult => ({ kind: 'Response', status, latencyMs, excerpt: '', bodyRead: 'Complete' });

const setup = (answer: (request: OutgoingRequest) => AttemptResult, startMs = Date.now()) => {
  const store = memoryWebhookStore();
  let writes = 0;
  const counted: Pick<WebhookStore, 'update'> = {
    update: (id, change) => {
      writes++;
      return store.update(id, change);
    },
  };
  const requests: OutgoingRequest[] = [];
  const opsRequests: OutgoingRequest[] = [];
  const sender: HttpSender = { send: (request) => async () => (requests.push(request), answer(request)) };
  const opsSender: HttpSender = { send: (request) => async () => (opsRequests.push(request), response(204)) };
  const stats = memoryDeliveryStats();
  // Signatures are checked against the real clock (5 minutes of tolerance): the test's time ends near now.
  const time = { now: startMs };
  const clock = { now: () => new Date(time.now) };
  const warnings: string[] = [];
  const deps: DeliverDeps = {
    lookup: memoryWebhookLookup(store),
    webhooks: counted,
    sender,
    queue: memoryDeliveryQueue(),
    attemptLog: memoryAttemptLog(),
    clock,
    policy: { scheduleSeconds: [5, 5, 5], jitterRatio: 0 },
    random: () => 0.5,
    warn: (m) => warnings.push(m),
    autoDisable: { afterSeconds: 2 * 3600, minFailures: 3 },
    unwrittenFailures: new Map(),
    stats,
    publishOpsEvent: publishToAll([httpOpsEvents({ url: OPS_URL, secret: OPS_SECRET, sender: opsSender, clock }), ownerAlerts({ webhooks: store, sender: opsSender, clock, userAgent: 'test' })]),
  };
  let n = 0;
  const messageFor = (webhook: Webhook, attempts = 0): DeliveryMessage => {
    const eventId = `01J00000000000000000EV${String(++n).padStart(4, '0')}` as EventId;
    const item: DeliveryItem = {
      deliveryId: deliveryIdFor({ eventId, publicEventName: 'service:subscribed', webhookId: webhook.id }),
      webhookId: webhook.id,
      body: { name: 'service:subscribed', payload: { fiscalCode: 'AAABBB00A00A000B' } },
      attempts: Array.from({ length: attempts }, () => ({ at: new Date(time.now).toISOString(), result: response(503) })),
    };
    return { v: 1, eventId, items: [item] };
  };
  const add = (overrides: Partial<Webhook> = {}): Webhook => {
    const webhook = aWebhook(overrides);
    store.rows.set(webhook.id, webhook);
    return webhook;
  };
  const run = async (message: DeliveryMessage): Promise<void> => {
    const result = await deliverMessage(deps)(message)();
    if (E.isLeft(result)) throw new Error(result.left.message);
  };
  return { store, deps, requests, opsRequests, stats, time, add, messageFor, run, warnings, writes: () => writes };
};

/** What an ops receiver does: verify with the standardwebhooks package, then decode. */
const received = (request: OutgoingRequest): OpsEvent => {
  const h = (name: string): string => request.headers[name] ?? '';
  const verified = new Receiver(OPS_SECRET).verify(request.body, { 'webhook-id': h('webhook-id'), 'webhook-timestamp': h('webhook-timestamp'), 'webhook-signature': h('webhook-signature') });
  const decoded = OpsEvent.decode(verified);
  if (E.isLeft(decoded)) throw new Error(`not an operational event: ${request.body}`);
  return decoded.right;
};

describe('endpoint health through deliverMessage', () => {
  it('a receiver failing every attempt is disabled after AUTO_DISABLE_AFTER_SECONDS and enough failures; the ops receiver is told', async () => {
    const s = setup(() => response(503), Date.now() - 2 * HOUR_MS);
    const webhook = s.add({ tenantId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C9' as Webhook['tenantId'] });
    const start = s.time.now;
    for (let i = 0; i < 12; i++) {
      await s.run(s.messageFor(webhook));
      s.time.now += 10 * 60_000;
    }
    // 12 failures over 1h50: enough failures, not long enough yet.
    expect(s.store.rows.get(webhook.id)?.disabled).toBe(false);
    // Counted exactly up to the minimum, then written once an hour: failures 4-8 waited in memory until message 9.
    expect(s.store.rows.get(webhook.id)?.failing).toEqual({ since: new Date(start).toISOString(), failures: 9, countedAt: new Date(start + 80 * 60_000).toISOString() });
    expect(s.opsRequests).toEqual([]);
    s.time.now = start + 2 * HOUR_MS;
    await s.run(s.messageFor(webhook));
    const row = s.store.rows.get(webhook.id);
    expect(row?.disabled).toBe(true);
    expect(row?.disabledReason).toEqual({ kind: 'FailingSince', since: new Date(start).toISOString(), failures: 13 });
    expect(row).not.toHaveProperty('failing');
    // Cheap: 3 writes to count up to the minimum, 1 to refresh the count after an hour, 1 to disable; not one per failure.
    expect(s.writes()).toBe(5);
    expect(s.opsRequests.map(received)).toEqual([
      { name: 'webhook.disabled', payload: { webhookId: webhook.id, tenantId: webhook.tenantId, reason: row?.disabledReason, at: new Date(s.time.now).toISOString() } },
    ]);
    expect(s.opsRequests[0]?.url).toBe(OPS_URL);
    // Disabled: the next delivery is not attempted and nothing more is written or sent.
    const sentBefore = s.requests.length;
    await s.run(s.messageFor(webhook));
    expect(s.requests.length).toBe(sentBefore);
    expect(s.writes()).toBe(5);
    expect(s.opsRequests).toHaveLength(1);
  });

  it('a success ends the streak: the next failures start a new one', async () => {
    let ok = false;
    const s = setup(() => response(ok ? 200 : 500));
    const webhook = s.add();
    await s.run(s.messageFor(webhook));
    expect(s.store.rows.get(webhook.id)?.failing?.failures).toBe(1);
    ok = true;
    await s.run(s.messageFor(webhook));
    expect(s.store.rows.get(webhook.id)).not.toHaveProperty('failing');
    await s.run(s.messageFor(webhook));
    // A success while healthy writes nothing.
    expect(s.writes()).toBe(2);
  });

  it('410 disables with {"kind": "Gone"} and sends webhook.disabled', async () => {
    const s = setup(() => response(410));
    const webhook = s.add();
    await s.run(s.messageFor(webhook));
    expect(s.store.rows.get(webhook.id)).toMatchObject({ disabled: true, disabledReason: { kind: 'Gone' } });
    expect(s.opsRequests.map(received)).toEqual([{ name: 'webhook.disabled', payload: { webhookId: webhook.id, reason: { kind: 'Gone' }, at: expect.any(String) } }]);
  });

  it('a delivery that goes to poison sends delivery.exhausted with its reason and never the payload', async () => {
    const s = setup(() => response(503));
    const webhook = s.add();
    const message = s.messageFor(webhook, 3);
    await s.run(message);
    const item = message.items[0] as DeliveryItem;
    expect(s.opsRequests.map(received)).toEqual([
      {
        name: 'delivery.exhausted',
        payload: { webhookId: webhook.id, eventId: message.eventId, deliveryId: item.deliveryId, attempts: 4, reason: { kind: 'AttemptsExhausted', attempts: 4 }, at: expect.any(String) },
      },
    ]);
    expect(s.opsRequests[0]?.body).not.toContain('AAABBB00A00A000B');
    // The same occurrence keeps its webhook-id: a message run twice is dropped by the ops receiver.
    await s.run(message);
    expect(s.opsRequests[1]?.headers['webhook-id']).toBe(s.opsRequests[0]?.headers['webhook-id']);
  });

  it('stats count what the receiver saw, and the stats route reads them for the owner only', async () => {
    const answers = [200, 200, 500, 200, 400];
    let i = 0;
    const s = setup(() => response(answers[i++] ?? 200, 30 * i));
    const webhook = s.add({ tenantId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C9' as Webhook['tenantId'] });
    for (let k = 0; k < answers.length; k++) await s.run(s.messageFor(webhook));
    const stats = getWebhookStats({ webhooks: s.store, stats: s.stats, clock: s.deps.clock });
    const seen = await stats({ id: webhook.id, query: {}, principal: { kind: 'Tenant', tenantId: webhook.tenantId as NonNullable<Webhook['tenantId']> } })();
    expect(seen).toEqual(
      E.right({
        since: expect.any(String),
        delivered: 3,
        failed: 2,
        retrying: 1,
        poisoned: 1,
        successRate: 3 / 5,
        lastSuccessAt: expect.any(String),
        lastFailureAt: expect.any(String),
        p50Ms: 100,
        p99Ms: 250,
      }),
    );
    expect(await stats({ id: webhook.id, query: {}, principal: { kind: 'Tenant', tenantId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C8' as NonNullable<Webhook['tenantId']> } })()).toEqual(
      E.left(expect.objectContaining({ kind: 'NotFound' })),
    );
    expect(await stats({ id: webhook.id, query: { since: 'yesterday' } })()).toEqual(
      E.left(expect.objectContaining({ kind: 'Invalid', details: [expect.stringMatching(/^since: must be an ISO 8601 date-time/)] })),
    );
    expect(await stats({ id: webhook.id, query: { since: '2099-01-01T00:00:00Z' } })()).toEqual(E.left(expect.objectContaining({ kind: 'Invalid', details: ['since: is in the future'] })));
    expect(await stats({ id: webhook.id, query: { from: '2026-01-01T00:00:00Z' } })()).toEqual(E.left(expect.objectContaining({ kind: 'Invalid' })));
  });

  it("per-tenant alerts: the tenant's webhooks subscribed to webhook.disabled hear about its other webhook, signed with their own secret; nobody else does", async () => {
    const s = setup(() => response(410));
    const tenant = '01J0Z7X3V1F6Q8R2T4W6Y8A0C9' as Webhook['tenantId'];
    const dead = s.add({ tenantId: tenant, subscriptions: ['webhook.disabled', 'ping'] });
    const alerts = s.add({
      tenantId: tenant,
      url: 'https://tenant.example/alerts' as Webhook['url'],
      subscriptions: ['webhook.disabled'],
      secret: 'whsec_dGVuYW50LWFsZXJ0LXNlY3JldC1mb3ItdGVzdHM=' as WebhookSecret,
    });
    s.add({ tenantId: tenant, url: 'https://tenant.example/other' as Webhook['url'], subscriptions: ['delivery.exhausted'] });
    s.add({ tenantId: tenant, url: 'https://tenant.example/off' as Webhook['url'], subscriptions: ['webhook.disabled'], disabled: true });
    s.add({ tenantId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C8' as Webhook['tenantId'], url: 'https://other-tenant.example/alerts' as Webhook['url'], subscriptions: ['webhook.disabled'] });
    s.add({ url: 'https://admin.example/everything' as Webhook['url'], subscriptions: ['*'] });
    await s.run(s.messageFor(dead));
    expect(s.opsRequests.map((r) => r.url).sort()).toEqual([OPS_URL, alerts.url]);
    const toTenant = s.opsRequests.find((r) => r.url === alerts.url) as OutgoingRequest;
    const h = (name: string): string => toTenant.headers[name] ?? '';
    const body = new Receiver(alerts.secret).verify(toTenant.body, { 'webhook-id': h('webhook-id'), 'webhook-timestamp': h('webhook-timestamp'), 'webhook-signature': h('webhook-signature') });
    expect(body).toEqual({ name: 'webhook.disabled', payload: { webhookId: dead.id, tenantId: tenant, reason: { kind: 'Gone' }, at: expect.any(String) } });
    expect(() => new Receiver(OPS_SECRET).verify(toTenant.body, { 'webhook-id': h('webhook-id'), 'webhook-timestamp': h('webhook-timestamp'), 'webhook-signature': h('webhook-signature') })).toThrow();
  });
});
