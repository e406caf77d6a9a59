import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook, FISCAL_CODE } from '../../domain/__tests__/fixtures';
import type { EventName } from '../../domain/catalogue';
import { DeliveryMessage, deliveryIdFor, type LookupHint } from '../../domain/delivery';
import { transient } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { Webhook } from '../../domain/webhook';
import type { WebhookStore } from '../../ports/webhookStore';
import { enqueueFanOutPage, type FanOutCursor, type FanOutPageResult } from '../enqueueFanOutPage';

const EVENT_ID = '01J0000000000000000000EVNT' as EventId;

const setup = (options: { pageSize?: number; maxDeliveriesPerMessage?: number } = {}) => {
  const events = memoryEventStore();
  const webhooks = memoryWebhookStore();
  const queue = memoryDeliveryQueue();
  // Admin webhooks only here: routing grants are tested in tenantGrants.test.ts.
  const deps = { events, webhooks, queue, pageSize: options.pageSize ?? 2, maxDeliveriesPerMessage: options.maxDeliveriesPerMessage ?? 50, grantsOf: () => TE.right(undefined) };
  const store = (name: EventName, payload: Record<string, unknown> = {}): void =>
    void events.rows.set(EVENT_ID, { id: EVENT_ID, name, payload, receivedAt: '2024-01-01T00:00:00.000Z', status: 'accepted' });
  const add = (overrides: Partial<Webhook> = {}): Webhook => {
    const webhook = aWebhook(overrides);
    webhooks.rows.set(webhook.id, webhook);
    return webhook;
  };
  /** What the orchestrator does: one step per page until no cursor is left. */
  const fanOut = async (): Promise<FanOutPageResult[]> => {
    const steps: FanOutPageResult[] = [];
    let cursor: FanOutCursor | undefined = { eventId: EVENT_ID, planIndex: 0 };
    while (cursor !== undefined) {
      if (steps.length > 100) throw new Error('the fan-out does not end');
      const step = await enqueueFanOutPage(deps)(cursor)();
      if (E.isLeft(step)) throw new Error(JSON.stringify(step.left));
      steps.push(step.right);
      cursor = step.right.next;
    }
    return steps;
  };
  const delivered = () => queue.sent.flatMap((m) => m.message.items);
  return { events, webhooks, queue, deps, store, add, fanOut, delivered };
};

describe('enqueueFanOutPage', () => {
  it('ping:all: pages through the subscribers, one ping per webhook that has a name, without its own name in the payload', async () => {
    const s = setup({ pageSize: 2 });
    const named = [s.add({ attributes: { name: 'wh1' } }), s.add({ subscriptions: ['ping'], attributes: { name: 'wh2', serviceId: 'svc' } }), s.add({ attributes: { name: 'wh3' } })];
    s.add({ attributes: {} }); // no name
    s.add({ attributes: { name: 'off' }, disabled: true });
    s.add({ subscriptions: ['service:subscribed'], attributes: { name: 'other' } });
    s.add({ attributes: { name: 'wh7' } });
    named.push([...s.webhooks.rows.values()].at(-1) as Webhook);
    s.store('ping:all');

    const steps = await s.fanOut();
    // The store reads the 4 enabled webhooks that have a name and subscribe to ping or *, 2 per page.
    expect(steps.map((st) => st.deliveries)).toEqual([2, 2]);
    expect(steps.slice(0, -1).every((st) => st.next?.continuationToken !== undefined && st.next.planIndex === 0)).toBe(true);
    expect(steps.at(-1)?.next).toBeUndefined();
    expect(s.delivered()).toEqual(
      named.map((w) => ({ deliveryId: deliveryIdFor({ eventId: EVENT_ID, publicEventName: 'ping', webhookId: w.id }), webhookId: w.id, body: { name: 'ping', payload: {} }, attempts: [] })),
    );
    for (const { message, delaySeconds } of s.queue.sent) {
      expect(DeliveryMessage.decode(message)).toEqual(E.right(message));
      expect(delaySeconds).toBe(0);
    }
  });

  it('packs the deliveries of a page into messages of at most maxDeliveriesPerMessage', async () => {
    const s = setup({ pageSize: 10, maxDeliveriesPerMessage: 3 });
    for (let i = 0; i < 7; i++) s.add({ attributes: { name: `wh${i}` } });
    s.store('ping:all');
    const steps = await s.fanOut();
    expect(steps).toEqual([{ deliveries: 7, messages: 3 }]);
    expect(s.queue.sent.map((m) => m.message.items.length)).toEqual([3, 3, 1]);
  });

  it('a public event goes to the webhooks it matches, with the matching attributes left out', async () => {
    const s = setup({ pageSize: 100 });
    const match = s.add({ subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-1' } });
    s.add({ subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-2' } });
    s.add({ subscriptions: ['ping'], attributes: { serviceId: 'svc-1' } });
    s.store('service:subscribed', { serviceId: 'svc-1', fiscalCode: FISCAL_CODE });
    await s.fanOut();
    expect(s.delivered()).toEqual([expect.objectContaining({ webhookId: match.id, body: { name: 'service:subscribed', payload: { fiscalCode: FISCAL_CODE } } })]);
  });

  it('profile:completed AUTO becomes service:subscribed for every webhook with a serviceId; MANUAL reaches nobody', async () => {
    const s = setup({ pageSize: 1 });
    const a = s.add({ attributes: { serviceId: 'svc-a' } });
    s.add({ attributes: { name: 'no-service' } });
    const b = s.add({ subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-b' } });
    s.store('profile:completed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'AUTO' });
    const steps = await s.fanOut();
    // The webhook without a serviceId is not even read: the index holds only webhooks with the routing attribute.
    expect(steps).toHaveLength(2);
    expect(s.delivered().map((i) => [i.webhookId, i.body])).toEqual([
      [a.id, { name: 'service:subscribed', payload: { fiscalCode: FISCAL_CODE } }],
      [b.id, { name: 'service:subscribed', payload: { fiscalCode: FISCAL_CODE } }],
    ]);

    const manual = setup();
    manual.add({ attributes: { serviceId: 'svc-a' } });
    manual.store('profile:completed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'MANUAL' });
    expect(await manual.fanOut()).toEqual([{ deliveries: 0, messages: 0 }]);
    expect(manual.queue.sent).toEqual([]);
  });

  it('a page without matches enqueues nothing and still moves on', async () => {
    const s = setup({ pageSize: 1 });
    // Read (a lease ends by the clock, so the index keeps it), but over: no delivery.
    s.add({ attributes: { name: 'over' }, expiresAt: '2000-01-01T00:00:00.000Z' });
    const named = s.add({ attributes: { name: 'wh' } });
    s.store('ping:all');
    const steps = await s.fanOut();
    expect(steps.map((st) => [st.deliveries, st.messages])).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(s.delivered().map((i) => i.webhookId)).toEqual([named.id]);
  });

  it('an event that names its routing value reads only the webhooks with that value', async () => {
    const s = setup({ pageSize: 1 });
    const queries: unknown[] = [];
    const page = s.webhooks.pageSubscribedTo;
    s.deps.webhooks = { pageSubscribedTo: (q) => (queries.push(q), page(q)) } as typeof s.webhooks;
    s.add({ attributes: { name: 'a' } });
    const b = s.add({ attributes: { name: 'b' } });
    s.add({ attributes: { name: 'c' } });
    s.store('ping', { name: 'b' });
    expect(await s.fanOut()).toEqual([{ deliveries: 1, messages: 1 }]);
    expect(s.delivered().map((i) => i.webhookId)).toEqual([b.id]);
    expect(queries).toEqual([expect.objectContaining({ eventName: 'ping', routingValue: 'b' })]);

    // ping:all names no value: every webhook with a name, one page each.
    s.queue.sent.length = 0;
    queries.length = 0;
    s.store('ping:all');
    expect(await s.fanOut()).toHaveLength(3);
    expect(queries.every((q) => (q as { routingValue?: string }).routingValue === undefined)).toBe(true);
  });

  it("a message of several deliveries carries the store's lookup hint for its webhooks; a single delivery none", async () => {
    const s = setup({ pageSize: 10, maxDeliveriesPerMessage: 2 });
    const webhooks = Array.from({ length: 5 }, (_, i) => s.add({ attributes: { name: `wh${i}` } }));
    // The hint is the store's business: here it names the ids it was asked for.
    const page = s.webhooks.pageSubscribedTo;
    const hinting: Pick<WebhookStore, 'pageSubscribedTo'> = {
      pageSubscribedTo: (q) =>
        pipe(
          page(q),
          TE.map((p) => ({ ...p, lookupHint: (ids) => `hint:${ids.join(',')}` as LookupHint })),
        ),
    };
    s.deps.webhooks = hinting as typeof s.webhooks;
    s.store('ping:all');
    await s.fanOut();
    const ids = webhooks.map((w) => w.id).sort();
    expect(s.queue.sent.map((m) => m.message.lookupHint)).toEqual([`hint:${ids[0]},${ids[1]}`, `hint:${ids[2]},${ids[3]}`, undefined]);
    for (const { message } of s.queue.sent) expect(DeliveryMessage.decode(JSON.parse(JSON.stringify(message)))).toEqual(E.right(message));
  });

  it('a plan index past the last plan ends the fan-out', async () => {
    const s = setup();
    s.add({ attributes: { name: 'wh' } });
    s.store('ping:all');
    expect(await enqueueFanOutPage(s.deps)({ eventId: EVENT_ID, planIndex: 1 })()).toEqual(E.right({ deliveries: 0, messages: 0 }));
    expect(s.queue.sent).toEqual([]);
  });

  it('a step run twice enqueues the same delivery ids (receivers drop the repeats)', async () => {
    const s = setup({ pageSize: 10 });
    s.add({ attributes: { name: 'a' } });
    s.add({ attributes: { name: 'b' } });
    s.store('ping:all');
    await s.fanOut();
    await s.fanOut();
    const ids = s.delivered().map((i) => i.deliveryId);
    expect(ids).toHaveLength(4);
    expect(ids.slice(0, 2)).toEqual(ids.slice(2));
  });

  it('fails with NotFound for an unknown event, Permanent for a stored payload that no longer decodes', async () => {
    const s = setup();
    expect(await enqueueFanOutPage(s.deps)({ eventId: EVENT_ID, planIndex: 0 })()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
    s.store('ping', { name: '' });
    expect(await enqueueFanOutPage(s.deps)({ eventId: EVENT_ID, planIndex: 0 })()).toEqual(E.left(expect.objectContaining({ kind: 'Permanent' })));
  });

  it('passes the failures of the webhook store and the queue through (the orchestrator retries the step)', async () => {
    const s = setup();
    s.add({ attributes: { name: 'wh' } });
    s.store('ping:all');
    s.webhooks.failWith = transient('tables down');
    expect(await enqueueFanOutPage(s.deps)({ eventId: EVENT_ID, planIndex: 0 })()).toEqual(E.left(transient('tables down')));
    s.webhooks.failWith = undefined;
    s.queue.failWith = transient('queues down');
    expect(await enqueueFanOutPage(s.deps)({ eventId: EVENT_ID, planIndex: 0 })()).toEqual(E.left(transient('queues down')));
  });
});
