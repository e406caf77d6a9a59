import { InvocationContext } from '@azure/functions';
import * as TE from 'fp-ts/TaskEither';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { transient } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { DeliveryQueue } from '../../ports/deliveryQueue';
import { enqueuePageActivity, PAGES_PER_ACTIVITY } from '../handlers/fanOutHandlers';
import type { FanOutPageResult } from '../lib/orchestrations';

/*
 * The fan-out activity enqueues several pages per orchestration round trip (a `ping:all` to 10 000
 * webhooks was 11 round trips), and a later page that fails ends it with what was done, so the
 * orchestration's retry repeats that page only, never the ones already enqueued.
 */

const EVENT_ID = '01J0000000000000000000EVNT' as EventId;

const setup = (webhookCount: number) => {
  const events = memoryEventStore();
  const webhooks = memoryWebhookStore();
  const sent = memoryDeliveryQueue();
  let failFromCall: number | undefined;
  let calls = 0;
  const queue: DeliveryQueue = {
    ...sent,
    enqueue: (messages, options) => {
      calls++;
      return failFromCall !== undefined && calls >= failFromCall ? TE.left(transient('queue down')) : sent.enqueue(messages, options);
    },
  };
  events.rows.set(EVENT_ID, { id: EVENT_ID, name: 'ping:all', payload: {}, receivedAt: '2024-01-01T00:00:00.000Z', status: 'accepted' });
  for (let i = 0; i < webhookCount; i++) {
    const w = aWebhook({ attributes: { name: `wh${i}` } });
    webhooks.rows.set(w.id, w);
  }
  const activity = enqueuePageActivity({ events, webhooks, queue, pageSize: 2, maxDeliveriesPerMessage: 50, grantsOf: () => TE.right(undefined) });
  const run = (input: unknown): Promise<FanOutPageResult> => activity(input, new InvocationContext({ logHandler: () => undefined }));
  const deliveredIds = (): string[] => sent.sent.flatMap((m) => m.message.items.map((i) => i.webhookId));
  return { run, deliveredIds, failFrom: (call: number | undefined) => void ((failFromCall = call), (calls = 0)) };
};

describe('the fan-out activity', () => {
  it(`enqueues up to ${PAGES_PER_ACTIVITY} pages per call, then hands the orchestration the cursor`, async () => {
    const s = setup(2 * PAGES_PER_ACTIVITY + 3);
    const first = await s.run({ eventId: EVENT_ID, planIndex: 0 });
    expect(first).toMatchObject({ deliveries: 2 * PAGES_PER_ACTIVITY, pages: PAGES_PER_ACTIVITY, next: expect.objectContaining({ continuationToken: expect.any(String) }) });
    const second = await s.run(first.next);
    expect(second).toMatchObject({ deliveries: 3, pages: 2 });
    expect(second.next).toBeUndefined();
    expect(new Set(s.deliveredIds()).size).toBe(2 * PAGES_PER_ACTIVITY + 3);
    expect(s.deliveredIds()).toHaveLength(2 * PAGES_PER_ACTIVITY + 3);
  });

  it('a later page that fails ends the call with what was done; the first page failing fails the call', async () => {
    const s = setup(8);
    s.failFrom(3);
    const partial = await s.run({ eventId: EVENT_ID, planIndex: 0 });
    expect(partial).toMatchObject({ deliveries: 4, pages: 2, next: expect.objectContaining({ continuationToken: expect.any(String) }) });
    await expect(s.run(partial.next)).rejects.toThrow(/queue down/);
    s.failFrom(undefined);
    const rest = await s.run(partial.next);
    expect(rest).toMatchObject({ deliveries: 4, pages: 2 });
    // Every webhook once: nothing enqueued before the failure was enqueued again.
    expect(s.deliveredIds()).toHaveLength(8);
    expect(new Set(s.deliveredIds()).size).toBe(8);
  });
});
