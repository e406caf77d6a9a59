import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import { memoryAttemptLog } from '../../adapters/__tests__/memory/memoryAttemptLog';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryPrivacyIndex } from '../../adapters/__tests__/memory/memoryPrivacyIndex';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { deliveryIdFor } from '../../domain/delivery';
import type { EventId } from '../../domain/events';
import type { RoutingGrants } from '../../domain/routingGrants';
import { replayIdFor, replayWindow, type ReplayId } from '../../domain/replay';
import { ADMIN, type Principal, type TenantId } from '../../domain/tenant';
import type { AttemptDecision } from '../../ports/attemptLog';
import type { ReplayCursor } from '../../ports/replay';
import { replayPage, resendDelivery } from '../replayDeliveries';

const NOW = new Date('2026-12-05T12:00:00.000Z');
const TENANT = '01HZZZZZZZZZZZZZZZZZZZTEN1' as TenantId;
const OWNER: Principal = { kind: 'Tenant', tenantId: TENANT };
const OTHER: Principal = { kind: 'Tenant', tenantId: '01HZZZZZZZZZZZZZZZZZZZTEN2' as TenantId };

const setup = () => {
  const events = memoryEventStore();
  const webhooks = memoryWebhookStore();
  const attemptLog = memoryAttemptLog();
  const queue = memoryDeliveryQueue();
  const buckets = memoryPrivacyIndex();
  const state: { grants: RoutingGrants | undefined } = { grants: { name: ['a1'] } };
  const deps = { webhooks, events, buckets, attemptLog, queue, grantsOf: () => TE.right(state.grants), clock: { now: () => NOW }, maxDeliveriesPerMessage: 50 };
  const webhook = aWebhook({ subscriptions: ['ping'], attributes: { name: 'a1' }, tenantId: TENANT } as never);
  webhooks.rows.set(webhook.id, webhook);
  /** An event received at `at` and what became of its delivery to the webhook. */
  const event = (id: string, at: string, decisions: [AttemptDecision, string][], name = 'a1'): string => {
    events.rows.set(id as EventId, { id: id as EventId, name: 'ping', payload: { name }, receivedAt: at, status: 'dispatched' });
    void buckets.record({ eventId: id as EventId, receivedAt: at, subjectHashes: [] })();
    const deliveryId = deliveryIdFor({ eventId: id, publicEventName: 'ping', webhookId: webhook.id });
    decisions.forEach(([decision, when], i) => attemptLog.entries.push({ eventId: id, deliveryId, webhookId: webhook.id, attempt: i + 1, at: when, decision }));
    return deliveryId;
  };
  const cursor = (only: 'failed' | 'all', since = '2026-12-05T08:00:00.000Z', until = '2026-12-05T11:00:00.000Z'): ReplayCursor => ({
    replayId: 'rpl_00000000000000000000000000000000' as ReplayId,
    webhookId: webhook.id,
    since,
    until,
    only,
    scanUntil: NOW.toISOString(),
    deliveries: 0,
  });
  const replayed = () => queue.sent.flatMap((m) => m.message.items.map((i) => i.deliveryId));
  return { deps, webhook, event, cursor, replayed, state, queue, webhooks };
};

describe('replay window', () => {
  const window = (body: Record<string, string>) => replayWindow(body as never, { now: NOW, retentionDays: 30 });
  it('defaults: until now, only failed; times come back normalised', () => {
    expect(window({ since: '2026-12-05T10:00:00Z' })).toEqual(E.right({ since: '2026-12-05T10:00:00.000Z', until: NOW.toISOString(), only: 'failed' }));
  });
  it.each([
    [{ since: '2026-12-05T13:00:00Z' }, 'since: is in the future'],
    [{ since: '2026-12-05T10:00:00Z', until: '2026-12-05T12:00:01Z' }, 'until: is in the future'],
    [{ since: '2026-12-05T10:00:00Z', until: '2026-12-05T10:00:00Z' }, 'until: must be after since'],
    [{ since: '2026-11-04T11:59:59Z' }, 'since: is more than RETENTION_DAYS (30) days ago; older events are no longer kept'],
  ])('%j is refused: %s', (body, detail) => {
    expect(window(body)).toEqual(E.left({ kind: 'Invalid', message: 'The replay window is invalid', details: [detail] }));
  });
  it('the replay id names the request: the same window again is the same replay, another is not', () => {
    const a = replayIdFor({ webhookId: 'W', since: '2026-12-05T10:00:00Z', only: 'failed' });
    expect(replayIdFor({ webhookId: 'W', since: '2026-12-05T10:00:00.000Z', only: 'failed' })).toBe(a);
    expect(replayIdFor({ webhookId: 'W', since: '2026-12-05T10:00:00Z', only: 'all' })).not.toBe(a);
    expect(replayIdFor({ webhookId: 'W', since: '2026-12-05T10:00:00Z', until: '2026-12-05T11:00:00Z', only: 'failed' })).not.toBe(a);
    expect(replayIdFor({ webhookId: 'V', since: '2026-12-05T10:00:00Z', only: 'failed' })).not.toBe(a);
  });
});

describe('replayPage', () => {
  it('failed: re-enqueues what ended poisoned or gone in the window, with the original delivery id, once', async () => {
    const s = setup();
    const poisoned = s.event('e1', '2026-12-05T09:00:00.000Z', [
      ['RetryLater', '2026-12-05T09:00:01.000Z'],
      ['Poisoned', '2026-12-05T09:10:00.000Z'],
    ]);
    const gone = s.event('e2', '2026-12-05T09:30:00.000Z', [['WebhookDisabledByGone', '2026-12-05T09:30:01.000Z']]);
    s.event('e3', '2026-12-05T09:40:00.000Z', [
      ['Poisoned', '2026-12-05T09:41:00.000Z'],
      ['Delivered', '2026-12-05T10:00:00.000Z'],
    ]); // redriven and delivered
    s.event('e4', '2026-12-05T07:00:00.000Z', [['Poisoned', '2026-12-05T08:30:00.000Z']]); // received before the window
    s.event('e5', '2026-12-05T11:30:00.000Z', [['Poisoned', '2026-12-05T11:31:00.000Z']]); // received after it
    s.event('e6', '2026-12-05T10:00:00.000Z', [['RetryLater', '2026-12-05T10:00:01.000Z']]); // still retrying
    const page = await replayPage(s.deps)(s.cursor('failed'))();
    expect(page).toEqual(E.right({ deliveries: 2 }));
    expect(s.replayed().sort()).toEqual([poisoned, gone].sort());
    expect(s.queue.sent.flatMap((m) => m.message.items.map((i) => i.body))).toEqual([
      { name: 'ping', payload: {} },
      { name: 'ping', payload: {} },
    ]);
    // A second replay finds them requeued: nothing twice.
    expect(await replayPage(s.deps)(s.cursor('failed'))()).toEqual(E.right({ deliveries: 0 }));
  });

  it('all: every event of the window the webhook matches, from the hour buckets', async () => {
    const s = setup();
    const ok = s.event('e1', '2026-12-05T08:30:00.000Z', [['Delivered', '2026-12-05T08:30:01.000Z']]);
    const failed = s.event('e2', '2026-12-05T10:59:00.000Z', [['Poisoned', '2026-12-05T10:59:01.000Z']]);
    s.event('e3', '2026-12-05T11:00:00.000Z', []); // same hour bucket, after `until`
    s.event('e4', '2026-12-05T09:00:00.000Z', [], 'b1'); // another routing value: not this webhook's
    expect(await replayPage(s.deps)(s.cursor('all'))()).toEqual(E.right({ deliveries: 2 }));
    expect(s.replayed().sort()).toEqual([ok, failed].sort());
  });

  it("a tenant's webhook gets nothing outside its grants, and nothing once disabled", async () => {
    const s = setup();
    s.state.grants = undefined;
    s.event('e1', '2026-12-05T09:00:00.000Z', [['Poisoned', '2026-12-05T09:10:00.000Z']]);
    expect(await replayPage(s.deps)(s.cursor('failed'))()).toEqual(E.right({ deliveries: 0 }));
    expect(await replayPage(s.deps)(s.cursor('all'))()).toEqual(E.right({ deliveries: 0 }));
    s.state.grants = { name: ['a1'] };
    s.webhooks.rows.set(s.webhook.id, { ...s.webhook, disabled: true });
    expect(await replayPage(s.deps)(s.cursor('all'))()).toEqual(E.right({ deliveries: 0 }));
    expect(s.queue.sent).toEqual([]);
  });
});

describe('resendDelivery', () => {
  it('the owner and the admin resend with the original id; another tenant gets a 404; bad input a 400', async () => {
    const s = setup();
    const id = s.event('e1', '2026-12-05T09:00:00.000Z', [['Delivered', '2026-12-05T09:00:01.000Z']]);
    for (const principal of [OWNER, ADMIN]) expect(await resendDelivery(s.deps)({ webhookId: s.webhook.id, body: { eventId: 'e1' }, principal })()).toEqual(E.right({ deliveryIds: [id] }));
    expect(await resendDelivery(s.deps)({ webhookId: s.webhook.id, body: { eventId: 'e1' }, principal: OTHER })()).toMatchObject(E.left({ kind: 'NotFound' }));
    expect(await resendDelivery(s.deps)({ webhookId: s.webhook.id, body: { eventId: 'nope' }, principal: OWNER })()).toMatchObject(E.left({ kind: 'NotFound' }));
    expect(await resendDelivery(s.deps)({ webhookId: s.webhook.id, body: { event: 'e1' }, principal: OWNER })()).toMatchObject(E.left({ kind: 'Invalid' }));
    s.webhooks.rows.set(s.webhook.id, { ...s.webhook, disabled: true });
    expect(await resendDelivery(s.deps)({ webhookId: s.webhook.id, body: { eventId: 'e1' }, principal: OWNER })()).toMatchObject(E.left({ kind: 'Conflict' }));
    expect(s.replayed()).toEqual([id, id]);
  });
});
