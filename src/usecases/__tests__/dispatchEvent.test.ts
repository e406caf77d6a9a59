import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { transient } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { ContinueFanOut } from '../../ports/dispatch';
import type { StoredEvent } from '../../ports/eventStore';
import { dispatchEvent } from '../dispatchEvent';

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
