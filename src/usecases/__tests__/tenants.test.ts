import * as E from 'fp-ts/Either';
import * as T from 'fp-ts/Task';
import * as TE from 'fp-ts/TaskEither';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import type { OutgoingRequest } from '../../ports/httpSender';
import { memoryAttemptLog } from '../../adapters/__tests__/memory/memoryAttemptLog';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryTenantStore } from '../../adapters/__tests__/memory/memoryTenantStore';
import { memoryWebhookLookup } from '../../adapters/__tests__/memory/memoryWebhookLookup';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { FISCAL_CODE } from '../../domain/__tests__/fixtures';
import type { EventId } from '../../domain/events';
import type { AttemptResult } from '../../domain/outcome';
import { hashKey, type Principal } from '../../domain/tenant';
import type { Webhook, WebhookId } from '../../domain/webhook';
import { revokeTenantKey, rotateTenantKey } from '../changeTenantKey';
import { createTenant } from '../createTenant';
import { createWebhook } from '../createWebhook';
import { deleteWebhook } from '../deleteWebhook';
import { deliverMessage } from '../deliverMessage';
import { enqueueFanOutPage } from '../enqueueFanOutPage';
import { getWebhook } from '../getWebhook';
import { ingestEvent } from '../ingestEvent';
import { listWebhooks } from '../listWebhooks';
import { patchWebhook } from '../patchWebhook';
import { replaceWebhook } from '../replaceWebhook';
import { rotateWebhookSecret } from '../rotateWebhookSecret';
import { verifyWebhook, verifyWebhookEndpoint } from '../verifyEndpoint';
import { expectRight as right, expectLeft as left } from '../../__tests__/taskEither';

/** A fixed clock; signatures checked by standardwebhooks need one near the real time (startMs: Date.now()). */
const setup = (startMs = Date.parse('2024-05-01T10:00:00.000Z')) => {
  const webhooks = memoryWebhookStore();
  const tenants = memoryTenantStore();
  let time = startMs;
  let seed = 0;
  const clock = { now: () => new Date(time), advance: (ms: number) => void (time += ms) };
  const randomBytes = (size: number) => new Uint8Array(size).fill(++seed % 256);
  // Every tenant here holds the values the tests route on (grants are tested in tenantGrants.test.ts).
  const grantsOf = () => TE.right({ name: ['wh1'], serviceId: ['svc'] });
  return { webhooks, tenants, clock, deps: { webhooks, tenants, clock, randomBytes, grantsOf } };
};

const body = { url: 'https://receiver.example/hook', subscriptions: ['ping'], attributes: { name: 'wh1' } };

describe('tenants and their keys', () => {
  it('create stores only the hash; rotate replaces it; revoke removes it', async () => {
    const s = setup();
    const { tenant, apiKey } = await right(createTenant(s.deps)({ name: 'project A' }));
    expect(tenant.keyHash).toBe(hashKey(apiKey));
    expect(JSON.stringify([...s.tenants.rows.values()])).not.toContain(apiKey);
    expect(await right(s.tenants.findByKeyHash(hashKey(apiKey)))).toBe(tenant.id);

    const rotated = await right(rotateTenantKey(s.deps)(tenant.id));
    expect(rotated.apiKey).not.toBe(apiKey);
    expect(await right(s.tenants.findByKeyHash(hashKey(apiKey)))).toBeUndefined();
    expect(await right(s.tenants.findByKeyHash(hashKey(rotated.apiKey)))).toBe(tenant.id);

    await right(revokeTenantKey(s.deps)(tenant.id));
    expect(await right(s.tenants.findByKeyHash(hashKey(rotated.apiKey)))).toBeUndefined();
    expect(await left(rotateTenantKey(s.deps)('not-a-tenant'))).toMatchObject({ kind: 'NotFound' });
  });

  it('refuses a bad tenant body naming the field', async () => {
    const s = setup();
    expect(await left(createTenant(s.deps)({ name: '', extra: 1 }))).toMatchObject({
      kind: 'Invalid',
      details: [expect.stringMatching(/^extra: is not a known field/), expect.stringMatching(/^name: must be a name/)],
    });
  });
});

describe('registry use cases with tenants', () => {
  const A: Principal = { kind: 'Tenant', tenantId: 'AAAAAAAAAAAAAAAAAAAAAAAAAA' as never };
  const B: Principal = { kind: 'Tenant', tenantId: 'BBBBBBBBBBBBBBBBBBBBBBBBBB' as never };

  it("a tenant's webhook is its own: other tenants get NotFound on every verb, the admin sees it", async () => {
    const s = setup();
    const mine = await right(createWebhook(s.deps)(body, A));
    expect(mine.tenantId).toBe(A.kind === 'Tenant' && A.tenantId);
    const adminOwned = await right(createWebhook(s.deps)(body));
    expect(adminOwned.tenantId).toBeUndefined();
    const unknown = await left(getWebhook(s.webhooks)('01HZZZZZZZZZZZZZZZZZZZZZZZ', B));

    const other = await left(getWebhook(s.webhooks)(mine.id, B));
    expect(other).toEqual({ kind: 'NotFound', message: `No webhook with id "${mine.id}"` });
    expect((unknown as { kind: string }).kind).toBe('NotFound');
    expect(await left(replaceWebhook(s.deps)({ id: mine.id, body, principal: B }))).toEqual(other);
    expect(await left(patchWebhook(s.deps)({ id: mine.id, body: { disabled: true }, principal: B }))).toEqual(other);
    expect(await left(rotateWebhookSecret(s.deps)({ id: mine.id, body: {}, principal: B }))).toEqual(other);
    expect(await left(deleteWebhook(s.webhooks)(mine.id, B))).toEqual(other);
    expect(await left(getWebhook(s.webhooks)(adminOwned.id, A))).toMatchObject({ kind: 'NotFound' });
    expect(s.webhooks.rows.get(mine.id)).toEqual(mine);

    expect((await right(listWebhooks(s.webhooks)({ limit: 50 }, A))).items.map((w) => w.id)).toEqual([mine.id]);
    expect((await right(listWebhooks(s.webhooks)({ limit: 50 }, B))).items).toEqual([]);
    expect((await right(listWebhooks(s.webhooks)({ limit: 50 }))).items).toHaveLength(2);
    expect(await right(getWebhook(s.webhooks)(mine.id))).toEqual(mine);
    await right(deleteWebhook(s.webhooks)(mine.id, A));
    expect(s.webhooks.rows.has(mine.id)).toBe(false);
  });

  it('leases: leaseSeconds sets an expiry from now, PATCH renews it, null removes it; PUT resets it', async () => {
    const s = setup();
    const w = await right(createWebhook(s.deps)({ ...body, leaseSeconds: 3600, fields: ['name'] }));
    expect(w.expiresAt).toBe('2024-05-01T11:00:00.000Z');
    expect(w.fields).toEqual(['name']);
    s.clock.advance(60_000);
    expect((await right(patchWebhook(s.deps)({ id: w.id, body: { leaseSeconds: 7200 } }))).expiresAt).toBe('2024-05-01T12:01:00.000Z');
    expect((await right(patchWebhook(s.deps)({ id: w.id, body: { disabled: false } }))).expiresAt).toBe('2024-05-01T12:01:00.000Z');
    const unleased = await right(patchWebhook(s.deps)({ id: w.id, body: { expiresAt: null, fields: null } }));
    expect(unleased.expiresAt).toBeUndefined();
    expect(unleased.fields).toBeUndefined();
    await right(patchWebhook(s.deps)({ id: w.id, body: { expiresAt: '2030-01-01T00:00:00.000Z' } }));
    expect((await right(replaceWebhook(s.deps)({ id: w.id, body }))).expiresAt).toBeUndefined();
    expect(await left(patchWebhook(s.deps)({ id: w.id, body: { leaseSeconds: 5 } }))).toMatchObject({ kind: 'Invalid', details: [expect.stringMatching(/^leaseSeconds: must be a lease/)] });
  });

  it('secret rotation: the old secret signs beside the new one during the overlap, expired ones are dropped', async () => {
    const s = setup();
    const w = await right(createWebhook(s.deps)(body));
    const rotated = await right(rotateWebhookSecret(s.deps)({ id: w.id, body: { overlapSeconds: 600 } }));
    expect(rotated.secret).not.toBe(w.secret);
    expect(rotated.previousSecrets).toEqual([{ secret: w.secret, expiresAt: '2024-05-01T10:10:00.000Z' }]);
    s.clock.advance(601_000);
    const again = await right(rotateWebhookSecret(s.deps)({ id: w.id, body: { overlapSeconds: 0 } }));
    expect(again.previousSecrets).toBeUndefined();
    expect(await left(rotateWebhookSecret(s.deps)({ id: w.id, body: { overlapSeconds: -1 } }))).toMatchObject({ kind: 'Invalid' });
  });
});

const response = (status: number, excerpt = ''): AttemptResult => ({ kind: 'Response', status, latencyMs: 1, excerpt, bodyRead: 'Complete' });

describe('endpoint verification', () => {
  const echoing = (reply: (challenge: string) => AttemptResult) => {
    const sent: OutgoingRequest[] = [];
    return {
      sent,
      sender: {
        send: (request: OutgoingRequest) => {
          sent.push(request);
          const challenge = (JSON.parse(request.body) as { payload: { challenge: string } }).payload.challenge;
          return T.of(reply(challenge));
        },
      },
    };
  };

  it('verify: true stores the webhook unverified; an echo of the signed challenge verifies it', async () => {
    const s = setup(Date.now());
    const w = await right(createWebhook({ ...s.deps, verifyEndpointsDefault: false })({ ...body, verify: true }));
    expect(w.verified).toBe(false);
    const r = echoing((c) => response(200, JSON.stringify({ challenge: c })));
    const outcome = await right(verifyWebhookEndpoint({ ...s.deps, sender: r.sender })(w));
    expect(outcome).toMatchObject({ verified: true, webhook: { verified: true } });
    const request = r.sent[0] as OutgoingRequest;
    expect(JSON.parse(request.body)).toMatchObject({ name: 'webhook:verification', payload: { challenge: expect.stringMatching(/^[0-9a-f]{32}$/) } });
    // The receiver can check it is really us, with its secret.
    expect(() => new StandardWebhook(w.secret).verify(request.body, request.headers as Record<string, string>)).not.toThrow();
  });

  it('the setting decides when the body does not; no echo, a wrong echo or an error leave it unverified', async () => {
    const s = setup();
    const w = await right(createWebhook({ ...s.deps, verifyEndpointsDefault: true })(body));
    expect(w.verified).toBe(false);
    for (const [reply, detail] of [
      [() => response(200, 'ok'), 'the endpoint answered without echoing the challenge'],
      [(c: string) => response(500, c), 'the endpoint answered 500'],
      [() => ({ kind: 'NetworkError', error: 'ConnectionRefused', message: 'x', latencyMs: 1 }) as AttemptResult, 'the endpoint could not be reached (ConnectionRefused)'],
    ] as const) {
      const r = echoing(reply);
      expect(await right(verifyWebhook({ ...s.deps, sender: r.sender })({ id: w.id }))).toMatchObject({ verified: false, detail });
    }
    expect(s.webhooks.rows.get(w.id)?.verified).toBe(false);
    const plainText = echoing((c) => response(200, c));
    expect(await right(verifyWebhook({ ...s.deps, sender: plainText.sender })({ id: w.id }))).toMatchObject({ verified: true });
    // A new URL must be verified again; the same URL stays verified.
    expect((await right(patchWebhook(s.deps)({ id: w.id, body: { headers: { 'X-A': '1' } } }))).verified).toBe(true);
    expect((await right(patchWebhook(s.deps)({ id: w.id, body: { url: 'https://elsewhere.example/' } }))).verified).toBe(false);
    expect((await right(patchWebhook(s.deps)({ id: w.id, body: { verify: false } }))).verified).toBeUndefined();
  });
});

describe('delivery with tenants, leases, rotation and toggles', () => {
  const EVENT = '01J0000000000000000000EVNT' as EventId;
  const fanOutAll = async (deps: Parameters<typeof enqueueFanOutPage>[0]) => {
    let cursor: Parameters<ReturnType<typeof enqueueFanOutPage>>[0] | undefined = { eventId: EVENT, planIndex: 0 };
    let deliveries = 0;
    while (cursor !== undefined) {
      const step: Awaited<ReturnType<ReturnType<ReturnType<typeof enqueueFanOutPage>>>> extends E.Either<unknown, infer R> ? R : never = await right(enqueueFanOutPage(deps)(cursor));
      deliveries += step.deliveries;
      cursor = step.next;
    }
    return deliveries;
  };

  it('the fan-out skips expired and unverified webhooks and disabled public events, and items carry the tenant', async () => {
    const s = setup();
    const events = memoryEventStore();
    const queue = memoryDeliveryQueue();
    const add = (w: Partial<Webhook>): Webhook => {
      const full = {
        id: `01HZZZZZZZZZZZZZZZZZZZ${String(s.webhooks.rows.size).padStart(4, '0')}` as WebhookId,
        url: 'https://r.example/',
        subscriptions: ['*'],
        attributes: { serviceId: 'svc' },
        headers: {},
        disabled: false,
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        createdAt: 'x',
        updatedAt: 'x',
        ...w,
      } as Webhook;
      s.webhooks.rows.set(full.id, full);
      return full;
    };
    const live = add({ tenantId: 'AAAAAAAAAAAAAAAAAAAAAAAAAA' as never, expiresAt: '2024-05-01T10:00:01.000Z' });
    add({ expiresAt: '2024-05-01T10:00:00.000Z' });
    add({ verified: false });
    const pattern = add({ subscriptions: ['service:*' as never] });
    events.rows.set(EVENT, { id: EVENT, name: 'profile:completed', payload: { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'AUTO' }, receivedAt: 'x', status: 'accepted' });
    const deps = { events, webhooks: s.webhooks, queue, pageSize: 10, maxDeliveriesPerMessage: 50, clock: s.clock, grantsOf: s.deps.grantsOf };
    expect(await fanOutAll(deps)).toBe(2);
    const items = queue.sent.flatMap((m) => m.message.items);
    expect(items.map((i) => i.webhookId).sort()).toEqual([live.id, pattern.id].sort());
    expect(items.find((i) => i.webhookId === live.id)?.tenantId).toBe('AAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(await fanOutAll({ ...deps, disabledEvents: new Set(['service:subscribed']) })).toBe(0);
  });

  it('deliveries are signed with both secrets during an overlap, and the attempt log and poison entries carry the tenant', async () => {
    const s = setup(Date.now());
    const tenant: Principal = { kind: 'Tenant', tenantId: 'AAAAAAAAAAAAAAAAAAAAAAAAAA' as never };
    const w = await right(createWebhook(s.deps)(body, tenant));
    const rotated = await right(rotateWebhookSecret(s.deps)({ id: w.id, body: { overlapSeconds: 3600 }, principal: tenant }));
    const sent: OutgoingRequest[] = [];
    const attemptLog = memoryAttemptLog();
    const queue = memoryDeliveryQueue();
    let status = 200;
    const deps = {
      lookup: memoryWebhookLookup(s.webhooks),
      webhooks: s.webhooks,
      sender: { send: (r: OutgoingRequest) => (sent.push(r), T.of(response(status))) },
      queue,
      attemptLog,
      clock: s.clock,
      policy: { scheduleSeconds: [5], jitterRatio: 0 },
      warn: () => undefined,
    };
    const item = { deliveryId: 'msg_0123456789abcdef0123456789abcdef', webhookId: w.id, body: { name: 'ping' as const, payload: {} }, attempts: [], tenantId: 'AAAAAAAAAAAAAAAAAAAAAAAAAA' };
    await right(deliverMessage(deps as never)({ v: 1, eventId: 'e1' as EventId, items: [item as never] }));
    const request = sent[0] as OutgoingRequest;
    expect(request.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    // A receiver still on the old secret and one already on the new one both accept it.
    for (const secret of [w.secret, rotated.secret]) expect(() => new StandardWebhook(secret).verify(request.body, request.headers as Record<string, string>)).not.toThrow();
    expect(attemptLog.entries[0]?.tenantId).toBe('AAAAAAAAAAAAAAAAAAAAAAAAAA');
    status = 400;
    await right(deliverMessage(deps as never)({ v: 1, eventId: 'e1' as EventId, items: [item as never] }));
    expect(queue.poisoned[0]?.tenantId).toBe('AAAAAAAAAAAAAAAAAAAAAAAAAA');
  });
});

describe('per-event emit toggles at ingest', () => {
  it('a disabled event is stored and answered, but not dispatched', async () => {
    const events = memoryEventStore();
    const started: string[] = [];
    const deps = {
      events,
      clock: { now: () => new Date() },
      newEventId: () => 'generated' as EventId,
      startDispatch: (id: EventId) => (started.push(id), T.of(E.right(undefined))),
      disabledEvents: new Set(['ping:all']),
    };
    expect(await right(ingestEvent(deps as never)({ name: 'ping:all', id: 'off-1' }))).toMatchObject({ id: 'off-1', disabled: true });
    expect(events.rows.has('off-1')).toBe(true);
    expect(await right(ingestEvent(deps as never)({ name: 'ping', id: 'on-1', payload: { name: 'x' } }))).not.toHaveProperty('disabled');
    expect(started).toEqual(['on-1']);
  });
});
