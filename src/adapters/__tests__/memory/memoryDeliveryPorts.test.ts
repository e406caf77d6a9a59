import * as E from 'fp-ts/Either';
import { aWebhook } from '../../../domain/__tests__/fixtures';
import type { DeliveryMessage } from '../../../domain/delivery';
import { transient } from '../../../domain/errors';
import type { EventId } from '../../../domain/events';
import type { AttemptLogEntry } from '../../../ports/attemptLog';
import { memoryAttemptLog } from './memoryAttemptLog';
import { MAX_ENCODED_MESSAGE_BYTES, memoryDeliveryQueue } from './memoryDeliveryQueue';
import { memoryWebhookLookup } from './memoryWebhookLookup';
import { memoryWebhookStore } from './memoryWebhookStore';

/* The memory ports keep the promises of the real ones that unit tests rely on. */

const EVENT_ID = '01J0000000000000000000EVNT' as EventId;
const entry = (deliveryId: string, attempt: number, decision: AttemptLogEntry['decision'], atSecond: number): AttemptLogEntry => ({
  eventId: EVENT_ID,
  deliveryId,
  webhookId: 'wh',
  attempt,
  at: new Date(Date.UTC(2024, 0, 1, 0, 0, atSecond)).toISOString(),
  decision,
});

describe('memory delivery ports', () => {
  it('the queue records messages with their delay, and refuses one over 64 KB encoded, like storage', async () => {
    const queue = memoryDeliveryQueue();
    const small: DeliveryMessage = { v: 1, eventId: EVENT_ID, items: [] };
    expect(await queue.enqueue([small], { delaySeconds: 7 })()).toEqual(E.right(undefined));
    expect(queue.sent).toEqual([{ message: small, delaySeconds: 7 }]);
    const big = { ...small, eventId: 'x'.repeat((MAX_ENCODED_MESSAGE_BYTES * 3) / 4) as EventId };
    expect(await queue.enqueue([big])()).toEqual(E.left(expect.objectContaining({ kind: 'Permanent' })));
    expect(queue.sent).toHaveLength(1);
    queue.failPoisonWith = transient('down');
    expect(await queue.poison([])()).toEqual(E.left(transient('down')));
    expect(await queue.enqueue([small])()).toEqual(E.right(undefined));
  });

  it('the attempt log replaces a repeated attempt, lists an event oldest first and troubles newest first', async () => {
    const log = memoryAttemptLog();
    await log.record([entry('a', 1, 'RetryLater', 1), entry('a', 2, 'Delivered', 5), entry('b', 1, 'Delivered', 2)])();
    await log.record([{ ...entry('a', 1, 'RetryLater', 1), nextAttemptAt: 'later' }])();
    expect(await log.forEvent(EVENT_ID)()).toEqual(E.right([{ ...entry('a', 1, 'RetryLater', 1), nextAttemptAt: 'later' }, entry('b', 1, 'Delivered', 2), entry('a', 2, 'Delivered', 5)]));
    expect(await log.problemsForWebhook({ webhookId: 'wh', limit: 5 })()).toEqual(E.right([entry('a', 2, 'Delivered', 5), { ...entry('a', 1, 'RetryLater', 1), nextAttemptAt: 'later' }]));
    log.failWith = transient('down');
    expect(await log.record([])()).toEqual(E.left(transient('down')));
  });

  it('the lookup finds the stored webhooks, leaves out the others, and fails with its store', async () => {
    const store = memoryWebhookStore();
    const stored = aWebhook();
    store.rows.set(stored.id, stored);
    const found = await memoryWebhookLookup(store)([stored.id, aWebhook().id])();
    expect(E.isRight(found) && [...found.right.entries()]).toEqual([[stored.id, stored]]);
    store.failWith = transient('down');
    expect(await memoryWebhookLookup(store)([stored.id])()).toEqual(E.left(transient('down')));
  });
});
