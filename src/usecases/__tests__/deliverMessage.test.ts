import * as E from 'fp-ts/Either';
import { Webhook as Receiver } from 'standardwebhooks';
import type { HttpSender, OutgoingRequest } from '../../ports/httpSender';
import { memoryAttemptLog } from '../../adapters/__tests__/memory/memoryAttemptLog';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryWebhookLookup } from '../../adapters/__tests__/memory/memoryWebhookLookup';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { type AttemptRecord, type DeliveryItem, type DeliveryMessage, deliveryIdFor, DeliveryMessage as DeliveryMessageCodec, PoisonEntry } from '../../domain/delivery';
import { transient } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { AttemptResult, NetworkErrorKind } from '../../domain/outcome';
import type { Webhook } from '../../domain/webhook';
import { type DeliverDeps, deliverMessage, USER_AGENT } from '../deliverMessage';

/*
 * deliverMessage with memory ports and a fake sender: every row of what it does with an attempt's
 * result, the request it sends (signed as a Standard Webhooks receiver verifies it), and what it
 * does when a store fails.
 */

const EVENT_ID = '01J0000000000000000000EVNT' as EventId;
const START = Date.now();

const response = (status: number, extra: Partial<Extract<AttemptResult, { kind: 'Response' }>> = {}): AttemptResult => ({
  kind: 'Response',
  status,
  latencyMs: 12,
  excerpt: '',
  bodyRead: 'Complete',
  ...extra,
});
const networkError = (error: NetworkErrorKind, message = `${error} happened`): AttemptResult => ({ kind: 'NetworkError', error, message, latencyMs: 7 });

const itemFor = (webhook: Webhook, attempts: AttemptRecord[] = []): DeliveryItem => ({
  deliveryId: deliveryIdFor({ eventId: EVENT_ID, publicEventName: 'ping', webhookId: webhook.id }),
  webhookId: webhook.id,
  body: { name: 'ping', payload: {} },
  attempts,
});
const messageOf = (...items: DeliveryItem[]): DeliveryMessage => ({ v: 1, eventId: EVENT_ID, items });
const pastAttempt = (n: number): AttemptRecord => ({ at: new Date(START - (10 - n) * 1000).toISOString(), result: response(503) });

type Setup = ReturnType<typeof setup>;

const setup = (respond: (request: OutgoingRequest) => AttemptResult | Promise<AttemptResult> = () => response(200)) => {
  const store = memoryWebhookStore();
  const queue = memoryDeliveryQueue();
  const attemptLog = memoryAttemptLog();
  const requests: OutgoingRequest[] = [];
  const sender: HttpSender = {
    send: (request) => async () => {
      requests.push(request);
      return respond(request);
    },
  };
  let time = START;
  const warnings: string[] = [];
  const deps: DeliverDeps = {
    lookup: memoryWebhookLookup(store),
    webhooks: store,
    sender,
    queue,
    attemptLog,
    clock: { now: () => new Date((time += 10)) },
    policy: { scheduleSeconds: [5, 300, 1800], jitterRatio: 0 },
    random: () => 0.5,
    warn: (m) => warnings.push(m),
  };
  const add = (overrides: Partial<Webhook> = {}): Webhook => {
    const webhook = aWebhook(overrides);
    store.rows.set(webhook.id, webhook);
    return webhook;
  };
  return { store, queue, attemptLog, requests, warnings, deps, add, run: (message: DeliveryMessage) => deliverMessage(deps)(message)() };
};

const right = <A>(result: E.Either<unknown, A>): A => {
  if (E.isLeft(result)) throw new Error(`expected success, got ${JSON.stringify(result.left)}`);
  return result.right;
};

/** Every value sent under a header name, whatever its case (what a receiver would see). */
const headerValues = (request: OutgoingRequest, name: string): string[] =>
  Object.entries(request.headers)
    .filter(([key]) => key.toLowerCase() === name)
    .map(([, value]) => value);

const noEffects = (s: Setup): void => {
  expect(s.queue.sent).toEqual([]);
  expect(s.queue.poisoned).toEqual([]);
};

describe('deliverMessage', () => {
  it('2xx: delivered, nothing enqueued or poisoned, the attempt logged', async () => {
    const s = setup(() => response(204));
    const webhook = s.add();
    const item = itemFor(webhook);
    expect(right(await s.run(messageOf(item)))).toEqual({ delivered: 1, retried: 0, poisoned: 0, gone: 0, skipped: 0, held: 0 });
    noEffects(s);
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]?.url).toBe(webhook.url);
    expect(s.attemptLog.entries).toEqual([{ eventId: EVENT_ID, deliveryId: item.deliveryId, webhookId: webhook.id, attempt: 1, at: expect.any(String), result: response(204), decision: 'Delivered' }]);
  });

  it('signs the exact body so that the standardwebhooks package verifies it with the webhook secret', async () => {
    const s = setup();
    const webhook = s.add({ secret: 'whsec_dGVzdC1zZWNyZXQtZm9yLWRlbGl2ZXJ5LXRlc3Rz' as Webhook['secret'] });
    const item = { ...itemFor(webhook), body: { name: 'service:subscribed' as const, payload: { fiscalCode: 'AAABBB00A00A000B', note: 'è €' } } };
    right(await s.run(messageOf(item)));
    const sent = s.requests[0] as OutgoingRequest;
    expect(JSON.parse(sent.body)).toEqual(item.body);
    const headers = {
      'webhook-id': headerValues(sent, 'webhook-id')[0] ?? '',
      'webhook-timestamp': headerValues(sent, 'webhook-timestamp')[0] ?? '',
      'webhook-signature': headerValues(sent, 'webhook-signature')[0] ?? '',
    };
    expect(headers['webhook-id']).toBe(item.deliveryId);
    expect(Number(headers['webhook-timestamp'])).toBeGreaterThanOrEqual(Math.floor(START / 1000));
    expect(new Receiver(webhook.secret).verify(sent.body, headers)).toEqual(item.body);
    // Another secret, or another body, fails: the check above can fail.
    expect(() => new Receiver('whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC1vdGhlcg==').verify(sent.body, headers)).toThrow();
    expect(() => new Receiver(webhook.secret).verify(sent.body.replace('AAABBB', 'ZZZBBB'), headers)).toThrow();
    expect(headerValues(sent, 'content-type')).toEqual(['application/json']);
    expect(headerValues(sent, 'user-agent')).toEqual([USER_AGENT]);
  });

  it("sends the webhook's own headers, which cannot override the signature or the content type", async () => {
    const s = setup();
    // The registry refuses such names; a webhook stored before a rule changed must still not forge them.
    const webhook = s.add({
      headers: { Authorization: 'Bearer receiver-token', 'X-Tenant': 't1', 'Content-Type': 'text/plain', 'Webhook-Signature': 'v1,forged', 'WEBHOOK-ID': 'msg_forged', 'webhook-timestamp': '1' },
    });
    const item = itemFor(webhook);
    right(await s.run(messageOf(item)));
    const sent = s.requests[0] as OutgoingRequest;
    expect(headerValues(sent, 'authorization')).toEqual(['Bearer receiver-token']);
    expect(headerValues(sent, 'x-tenant')).toEqual(['t1']);
    expect(headerValues(sent, 'content-type')).toEqual(['application/json']);
    expect(headerValues(sent, 'webhook-id')).toEqual([item.deliveryId]);
    expect(headerValues(sent, 'webhook-timestamp')).toHaveLength(1);
    expect(headerValues(sent, 'webhook-signature')).toHaveLength(1);
    const headers = Object.fromEntries(['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((h) => [h, headerValues(sent, h)[0] ?? '']));
    expect(new Receiver(webhook.secret).verify(sent.body, headers)).toEqual(item.body);
  });

  it('sends the deliveries of one message concurrently', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const s = setup(async () => {
      started += 1;
      if (started === 3) release();
      await gate;
      return response(200);
    });
    const items = [s.add(), s.add(), s.add()].map((w) => itemFor(w));
    // With sequential sends the first would wait forever for the third: the test would time out.
    expect(right(await s.run(messageOf(...items)))).toMatchObject({ delivered: 3 });
  });

  it('retry: each failed delivery is re-enqueued alone, with its delay and the attempt appended', async () => {
    const results: Record<string, AttemptResult> = {};
    const s = setup((request) => results[request.url] as AttemptResult);
    const ok = s.add({ url: 'https://ok.example/' as Webhook['url'] });
    const busy = s.add({ url: 'https://busy.example/' as Webhook['url'] });
    const slow = s.add({ url: 'https://slow.example/' as Webhook['url'] });
    const limited = s.add({ url: 'https://limited.example/' as Webhook['url'] });
    results['https://ok.example/'] = response(200);
    results['https://busy.example/'] = response(503, { excerpt: 'down for maintenance' });
    results['https://slow.example/'] = networkError('Timeout');
    results['https://limited.example/'] = response(429, { retryAfter: '120' });
    const items = [itemFor(ok), itemFor(busy), itemFor(slow), itemFor(limited, [pastAttempt(1)])];
    expect(right(await s.run(messageOf(...items)))).toEqual({ delivered: 1, retried: 3, poisoned: 0, gone: 0, skipped: 0, held: 0 });
    expect(s.queue.poisoned).toEqual([]);
    expect(s.queue.sent).toHaveLength(3);
    const byWebhook = new Map(s.queue.sent.map((m) => [m.message.items[0]?.webhookId, m]));
    for (const sent of s.queue.sent) {
      expect(E.isRight(DeliveryMessageCodec.decode(sent.message))).toBe(true);
      expect(sent.message.eventId).toBe(EVENT_ID);
      expect(sent.message.items).toHaveLength(1);
    }
    expect(byWebhook.get(busy.id)).toEqual({
      delaySeconds: 5,
      message: { v: 1, eventId: EVENT_ID, items: [{ ...itemFor(busy), attempts: [{ at: expect.any(String), result: response(503, { excerpt: 'down for maintenance' }) }] }] },
    });
    expect(byWebhook.get(slow.id)).toMatchObject({ delaySeconds: 5, message: { items: [{ attempts: [{ result: networkError('Timeout') }] }] } });
    // The second attempt: schedule step 2 is 300 s; Retry-After 120 does not shorten it.
    expect(byWebhook.get(limited.id)?.delaySeconds).toBe(300);
    expect(byWebhook.get(limited.id)?.message.items[0]?.attempts).toEqual([pastAttempt(1), { at: expect.any(String), result: response(429, { retryAfter: '120' }) }]);
    const retryLog = s.attemptLog.entries.find((e) => e.webhookId === busy.id);
    expect(retryLog).toMatchObject({ attempt: 1, decision: 'RetryLater' });
    expect(Date.parse(retryLog?.nextAttemptAt ?? '') - Date.parse(retryLog?.at ?? '')).toBeGreaterThanOrEqual(5000);
    expect(s.attemptLog.entries.find((e) => e.webhookId === limited.id)).toMatchObject({ attempt: 2, decision: 'RetryLater' });
  });

  it('retry: Retry-After longer than the step is honoured (in seconds or as a date), clamped to the largest step', async () => {
    const s = setup((request) =>
      request.url.includes('seconds')
        ? response(503, { retryAfter: '900' })
        : request.url.includes('date')
          ? response(503, { retryAfter: new Date(START + 600_000).toUTCString() })
          : response(503, { retryAfter: '999999' }),
    );
    const items = ['seconds', 'date', 'huge'].map((k) => itemFor(s.add({ url: `https://${k}.example/` as Webhook['url'] })));
    right(await s.run(messageOf(...items)));
    const delayOf = (k: string): number | undefined => s.queue.sent.find((m) => m.message.items[0]?.webhookId === items[['seconds', 'date', 'huge'].indexOf(k)]?.webhookId)?.delaySeconds;
    expect(delayOf('seconds')).toBe(900);
    expect(delayOf('date')).toBeGreaterThanOrEqual(599);
    expect(delayOf('date')).toBeLessThanOrEqual(600);
    expect(delayOf('huge')).toBe(1800);
  });

  it('exhausted: the last scheduled attempt fails -> poisoned with every attempt and the reason, not re-enqueued', async () => {
    const s = setup(() => response(500, { excerpt: 'still broken' }));
    const webhook = s.add();
    const item = itemFor(webhook, [pastAttempt(1), pastAttempt(2), pastAttempt(3)]);
    expect(right(await s.run(messageOf(item)))).toEqual({ delivered: 0, retried: 0, poisoned: 1, gone: 0, skipped: 0, held: 0 });
    expect(s.queue.sent).toEqual([]);
    expect(s.queue.poisoned).toEqual([
      {
        kind: 'undeliverable',
        v: 1,
        eventId: EVENT_ID,
        deliveryId: item.deliveryId,
        webhookId: webhook.id,
        body: item.body,
        attempts: [pastAttempt(1), pastAttempt(2), pastAttempt(3), { at: expect.any(String), result: response(500, { excerpt: 'still broken' }) }],
        reason: { kind: 'AttemptsExhausted', attempts: 4 },
        poisonedAt: expect.any(String),
      },
    ]);
    expect(E.isRight(PoisonEntry.decode(s.queue.poisoned[0]))).toBe(true);
    expect(s.attemptLog.entries).toEqual([expect.objectContaining({ attempt: 4, decision: 'Poisoned' })]);
  });

  it.each([
    ['400', response(400), { kind: 'Rejected', status: 400 }],
    ['404', response(404), { kind: 'Rejected', status: 404 }],
    ['a redirect', response(301, { location: 'https://elsewhere.example/' }), { kind: 'Redirected', status: 301, location: 'https://elsewhere.example/' }],
    ['a private destination', networkError('DestinationNotAllowed', '127.0.0.1 is loopback'), { kind: 'DestinationNotAllowed', message: '127.0.0.1 is loopback' }],
    ['an invalid URL', networkError('InvalidUrl', 'not an absolute URL'), { kind: 'InvalidUrl', message: 'not an absolute URL' }],
  ])('permanent failure (%s): poisoned at the first attempt, never retried', async (_name, result, reason) => {
    const s = setup(() => result);
    const webhook = s.add();
    const item = itemFor(webhook);
    expect(right(await s.run(messageOf(item)))).toMatchObject({ poisoned: 1, retried: 0 });
    expect(s.queue.sent).toEqual([]);
    expect(s.queue.poisoned).toEqual([expect.objectContaining({ deliveryId: item.deliveryId, webhookId: webhook.id, reason, attempts: [{ at: expect.any(String), result }] })]);
    expect(s.store.rows.get(webhook.id)?.disabled).toBe(false);
  });

  it('410: the webhook is disabled, the delivery ends without poison or retry', async () => {
    const s = setup(() => response(410));
    const webhook = s.add();
    const other = s.add();
    expect(right(await s.run(messageOf(itemFor(webhook))))).toEqual({ delivered: 0, retried: 0, poisoned: 0, gone: 1, skipped: 0, held: 0 });
    noEffects(s);
    expect(s.store.rows.get(webhook.id)).toEqual({ ...webhook, disabled: true, disabledReason: { kind: 'Gone' }, updatedAt: expect.any(String) });
    expect(Date.parse(s.store.rows.get(webhook.id)?.updatedAt ?? '')).toBeGreaterThanOrEqual(START);
    expect(s.store.rows.get(other.id)).toEqual(other);
    expect(s.attemptLog.entries).toEqual([expect.objectContaining({ attempt: 1, decision: 'WebhookDisabledByGone', result: response(410) })]);
  });

  it('410 from a webhook deleted while its POST was in flight: nothing left to disable, the message still completes', async () => {
    const s = setup((request) => {
      for (const [id, w] of s.store.rows) if (w.url === request.url) s.store.rows.delete(id);
      return response(410);
    });
    const webhook = s.add();
    // Left here would make the host run the whole message again, re-sending its other deliveries.
    expect(right(await s.run(messageOf(itemFor(webhook))))).toMatchObject({ gone: 1 });
    noEffects(s);
  });

  it('a receiver answering big binary errors: every retry and the poison entry still fit in a queue message', async () => {
    // 4 KB of bytes that are not UTF-8 decode to U+FFFD (3 bytes each); a long Retry-After rides along.
    const hostile = response(500, { excerpt: '\uFFFD'.repeat(4096), retryAfter: 'x'.repeat(2048), location: '\uFFFD'.repeat(2048), bodyRead: 'Capped' });
    const s = setup(() => hostile);
    s.deps = { ...s.deps, policy: { scheduleSeconds: Array.from({ length: 50 }, () => 1), jitterRatio: 0 } };
    const webhook = s.add();
    let message = messageOf(itemFor(webhook));
    for (let attempt = 1; attempt <= 50; attempt++) {
      expect(right(await deliverMessage(s.deps)(message)())).toMatchObject({ retried: 1 });
      message = (s.queue.sent.pop() as { message: DeliveryMessage }).message;
      expect(message.items[0]?.attempts).toHaveLength(attempt);
      expect(message.items[0]?.attempts[0]?.result).toMatchObject({ kind: 'Response', status: 500, excerpt: expect.stringMatching(/^\uFFFD+$/) });
    }
    expect(right(await deliverMessage(s.deps)(message)())).toMatchObject({ poisoned: 1 });
    expect(s.queue.poisoned[0]?.attempts).toHaveLength(51);
    expect(s.queue.poisoned[0]?.reason).toEqual({ kind: 'AttemptsExhausted', attempts: 51 });
    // The attempt log keeps a typed summary, never the receiver's body text (docs/delivery.md).
    expect(s.attemptLog.entries[s.attemptLog.entries.length - 1]?.result).toEqual({ ...hostile, excerpt: '' });
  });

  it('a disabled or deleted webhook is skipped without a POST', async () => {
    const s = setup();
    const disabled = s.add({ disabled: true });
    const deleted = aWebhook();
    const live = s.add();
    const items = [itemFor(disabled), itemFor(deleted), itemFor(live)];
    expect(right(await s.run(messageOf(...items)))).toEqual({ delivered: 1, retried: 0, poisoned: 0, gone: 0, skipped: 2, held: 0 });
    expect(s.requests.map((r) => r.url)).toEqual([live.url]);
    noEffects(s);
    expect(s.attemptLog.entries).toEqual(
      expect.arrayContaining([
        { eventId: EVENT_ID, deliveryId: items[0]?.deliveryId, webhookId: disabled.id, attempt: 0, at: expect.any(String), decision: 'SkippedDisabledWebhook' },
        { eventId: EVENT_ID, deliveryId: items[1]?.deliveryId, webhookId: deleted.id, attempt: 0, at: expect.any(String), decision: 'SkippedDeletedWebhook' },
      ]),
    );
  });

  it('a queue that fails: Left (Transient), so the host runs the message again', async () => {
    const s = setup(() => response(503));
    s.add();
    s.queue.failWith = transient('Storage is unavailable (enqueue deliveries): ECONNREFUSED');
    const result = await s.run(messageOf(itemFor([...s.store.rows.values()][0] as Webhook)));
    expect(result).toEqual(E.left({ kind: 'Transient', message: 'Storage is unavailable (enqueue deliveries): ECONNREFUSED' }));
  });

  it('a poison queue that fails: Left, so the host runs the message again', async () => {
    const s = setup(() => response(400));
    const webhook = s.add();
    s.queue.failPoisonWith = transient('Storage is unavailable (poison)');
    expect(await s.run(messageOf(itemFor(webhook)))).toEqual(E.left(expect.objectContaining({ kind: 'Transient' })));
  });

  it('a webhook store that fails: Left, and no POST is made', async () => {
    const s = setup();
    const webhook = s.add();
    s.store.failWith = transient('Storage is unavailable (read webhooks)');
    expect(await s.run(messageOf(itemFor(webhook)))).toEqual(E.left(expect.objectContaining({ kind: 'Transient' })));
    expect(s.requests).toEqual([]);
  });

  it('an attempt log that fails: still Right, with a warning naming the event', async () => {
    const s = setup(() => response(503));
    const webhook = s.add();
    s.attemptLog.failWith = transient('Storage is unavailable (write the attempt log)');
    expect(right(await s.run(messageOf(itemFor(webhook))))).toMatchObject({ retried: 1 });
    expect(s.queue.sent).toHaveLength(1);
    expect(s.warnings).toEqual([`attempt log not written for event ${EVENT_ID}: Storage is unavailable (write the attempt log)`]);
  });

  it('an empty message completes with nothing to do', async () => {
    const s = setup();
    expect(right(await s.run(messageOf()))).toEqual({ delivered: 0, retried: 0, poisoned: 0, gone: 0, skipped: 0, held: 0 });
    expect(s.requests).toEqual([]);
  });
});
