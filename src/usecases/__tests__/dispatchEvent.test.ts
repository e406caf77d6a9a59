import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook, FISCAL_CODE } from '../../domain/__tests__/fixtures';
import { INLINE_PAYLOAD_MAX_BYTES } from '../../domain/claimCheck';
import { transient } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { ContinueFanOut } from '../../ports/dispatch';
import type { StoredEvent } from '../../ports/eventStore';
import { dispatchEvent, dispatchFreshEvent } from '../dispatchEvent';

const EVENT_ID = '01J0000000000000000000EVNT' as EventId;

const setup = (webhookCount: number) => {
  const events = memoryEventStore();
  const webhooks = memoryWebhookStore();
  const queue = memoryDeliveryQueue();
  for (let i = 0; i < webhookCount; i++) {
    const webhook = aWebhook({ attributes: { name: `wh${i}` } });
    webhooks.rows.set(webhook.id, webhook);
  }
  events.rows.set(EVENT_ID, { id: EVENT_ID, name: 'ping:all', payload: {}, receivedAt: '2024-01-01T00:00:00.000Z', status: 'accepted' });
  const continued: Parameters<ContinueFanOut>[0][] = [];
  let continueFails = false;
  const dispatch = dispatchEvent({
    events,
    fanOut: { events, webhooks, queue, pageSize: 3, maxDeliveriesPerMessage: 50, grantsOf: () => TE.right(undefined) },
    continueFanOut: (input) => {
      if (continueFails) return TE.left(transient('durable store down'));
      continued.push(input);
      return TE.right(undefined);
    },
  });
  const enqueued = (): number => queue.sent.flatMap((m) => m.message.items).length;
  // What ingest hands over on a first post: the event it has just stored.
  const firstPost = () => ({ repeated: false as const, event: events.rows.get(EVENT_ID) as StoredEvent });
  const reads = { count: 0 };
  const get = events.get;
  events.get = (id) => {
    reads.count++;
    return get(id);
  };
  return { events, queue, dispatch, continued, enqueued, firstPost, reads, failContinue: () => (continueFails = true) };
};

describe('dispatchEvent (ingest enqueues the first page itself)', () => {
  it('an event whose webhooks fit in one page is enqueued and marked dispatched, with no orchestration', async () => {
    const s = setup(2);
    expect(E.isRight(await s.dispatch(EVENT_ID, s.firstPost())())).toBe(true);
    expect(s.enqueued()).toBe(2);
    expect(s.continued).toEqual([]);
    expect(s.events.rows.get(EVENT_ID)).toMatchObject({ status: 'dispatched', firstPage: { deliveries: 2, orchestrated: false } });
    expect(s.reads.count).toBe(0); // the event ingest just stored is not read back
  });

  it('more pages are handed to the orchestration, starting after the first with its counts', async () => {
    const s = setup(7);
    expect(E.isRight(await s.dispatch(EVENT_ID, s.firstPost())())).toBe(true);
    expect(s.enqueued()).toBe(3);
    expect(s.continued).toEqual([
      expect.objectContaining({ cursor: expect.objectContaining({ eventId: EVENT_ID, planIndex: 0, continuationToken: expect.any(String) }), deliveries: 3, pages: 1, repeated: false }),
    ]);
    expect(s.events.rows.get(EVENT_ID)).toMatchObject({ status: 'dispatched', firstPage: { deliveries: 3, orchestrated: true } });
  });

  it('a repeat of a dispatched event does nothing; a repeat of one never marked enqueues its page again', async () => {
    const s = setup(2);
    await s.dispatch(EVENT_ID, s.firstPost())();
    await s.dispatch(EVENT_ID, { repeated: true })();
    expect(s.enqueued()).toBe(2);

    const crashed = setup(2);
    await crashed.dispatch(EVENT_ID, { repeated: true })();
    expect(crashed.enqueued()).toBe(2);
    expect(crashed.events.rows.get(EVENT_ID)?.status).toBe('dispatched');
  });

  it('is not marked dispatched when the page or the orchestration cannot be started (the post answers 503)', async () => {
    const s = setup(2);
    s.queue.failWith = transient('queue down');
    expect(await s.dispatch(EVENT_ID, s.firstPost())()).toEqual(E.left(transient('queue down')));
    expect(s.events.rows.get(EVENT_ID)?.status).toBe('accepted');

    const t = setup(7);
    t.failContinue();
    expect(E.isLeft(await t.dispatch(EVENT_ID, t.firstPost())())).toBe(true);
    expect(t.events.rows.get(EVENT_ID)?.status).toBe('accepted');
  });
});

describe('dispatchFreshEvent (a post without id: the dispatcher chose the id)', () => {
  const fresh = (id: string, name: StoredEvent['name'], payload: Record<string, unknown>): StoredEvent => ({
    id: id as EventId,
    name,
    payload,
    receivedAt: '2024-01-01T00:00:00.000Z',
    status: 'accepted',
  });

  /** Every write the dispatch makes, in order: enqueue, add (with the status stored), mark. */
  const setup = (webhooks: readonly Parameters<typeof aWebhook>[0][], pageSize = 3) => {
    const events = memoryEventStore();
    const registry = memoryWebhookStore();
    const queue = memoryDeliveryQueue();
    for (const w of webhooks) {
      const webhook = aWebhook(w);
      registry.rows.set(webhook.id, webhook);
    }
    const writes: string[] = [];
    const { add, markDispatched } = events;
    events.add = (event) => {
      writes.push(`add:${event.status}`);
      return add(event);
    };
    events.markDispatched = (id, firstPage) => {
      writes.push('mark');
      return markDispatched(id, firstPage);
    };
    const enqueue = queue.enqueue;
    queue.enqueue = (messages, options) => {
      writes.push(`enqueue:${messages.flatMap((m) => m.items).length}`);
      return enqueue(messages, options);
    };
    const continued: Parameters<ContinueFanOut>[0][] = [];
    const dispatch = dispatchFreshEvent({
      events,
      fanOut: { events, webhooks: registry, queue, pageSize, maxDeliveriesPerMessage: 50, grantsOf: () => TE.right(undefined) },
      continueFanOut: (input) => {
        continued.push(input);
        return TE.right(undefined);
      },
    });
    return { events, queue, dispatch, writes, continued };
  };

  it('a one-page event without personal data is enqueued first, then stored already dispatched: one event write, no mark', async () => {
    const s = setup([{ attributes: { name: 'a' } }]);
    expect(await s.dispatch(fresh('F1', 'ping', { name: 'a' }))()).toEqual(E.right(undefined));
    expect(s.writes).toEqual(['enqueue:1', 'add:dispatched']);
    expect(s.events.rows.get('F1' as EventId)).toMatchObject({ status: 'dispatched', firstPage: { deliveries: 1, orchestrated: false } });
    // No webhook matches: nothing to send, one write.
    const none = setup([]);
    expect(await none.dispatch(fresh('F2', 'ping', { name: 'a' }))()).toEqual(E.right(undefined));
    expect(none.writes).toEqual(['add:dispatched']);
    expect(none.events.rows.get('F2' as EventId)).toMatchObject({ status: 'dispatched', firstPage: { deliveries: 0, orchestrated: false } });
  });

  it('a queue that refuses leaves nothing stored; a row that cannot be written after the enqueue fails the post', async () => {
    const s = setup([{ attributes: { name: 'a' } }]);
    s.queue.failWith = transient('queue down');
    expect(await s.dispatch(fresh('F1', 'ping', { name: 'a' }))()).toEqual(E.left(transient('queue down')));
    expect(s.events.rows.size).toBe(0);

    // Storage fails after the send: the post is refused (503) with its deliveries under way, as when a mark fails in the other order.
    const t = setup([{ attributes: { name: 'a' } }]);
    t.events.failWith = transient('table down');
    expect(await t.dispatch(fresh('F1', 'ping', { name: 'a' }))()).toEqual(E.left(transient('table down')));
    expect(t.queue.sent).toHaveLength(1);
    expect(t.events.rows.size).toBe(0);
  });

  it('an event with personal data is stored before its deliveries are sent (the worker and erasure need its row), then marked', async () => {
    const s = setup([{ subscriptions: ['service:subscribed'], attributes: { serviceId: 's1' } }]);
    const event = fresh('F1', 'service:subscribed', { serviceId: 's1', fiscalCode: FISCAL_CODE });
    expect(await s.dispatch(event)()).toEqual(E.right(undefined));
    expect(s.writes).toEqual(['add:accepted', 'enqueue:1', 'mark']);
    expect(s.events.rows.get('F1' as EventId)).toMatchObject({ status: 'dispatched', firstPage: { deliveries: 1, orchestrated: false } });
  });

  it('an event of more than one page is stored before the orchestration that reads it starts', async () => {
    const s = setup(
      Array.from({ length: 4 }, () => ({ attributes: { name: 'x' } })),
      3,
    );
    expect(await s.dispatch(fresh('F1', 'ping:all', {}))()).toEqual(E.right(undefined));
    expect(s.writes).toEqual(['add:accepted', 'enqueue:3', 'mark']);
    expect(s.continued).toEqual([expect.objectContaining({ deliveries: 3, pages: 1, repeated: false })]);
    expect(s.events.rows.get('F1' as EventId)).toMatchObject({ status: 'dispatched', firstPage: { deliveries: 3, orchestrated: true } });
  });

  it('a claim-checked payload is stored (with its blob) before messages that name the blob are sent', async () => {
    const s = setup([{ attributes: { name: 'a' } }]);
    const event = fresh('F1', 'ping', { name: 'a', data: 'x'.repeat(INLINE_PAYLOAD_MAX_BYTES + 1) });
    expect(await s.dispatch(event)()).toEqual(E.right(undefined));
    expect(s.queue.sent[0]?.message.payloadRef).toEqual(expect.any(String));
    expect(s.writes).toEqual(['add:accepted', 'enqueue:1', 'mark']);
  });
});
