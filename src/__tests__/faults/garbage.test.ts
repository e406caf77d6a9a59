import { QueueClient } from '@azure/storage-queue';
import type { RunningAzurite } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import { deliveryIdFor } from '../../domain/delivery';
import { ADMIN_KEY, appSettings, approximateCount, call, createWebhook, ingest, ownAzurite, type Receivers, startApp, startReceivers, waitUntil } from './harness';

/*
 * Messages in the deliveries queue that are not ours: each is moved to the poison queue with a
 * reason at its first dequeue (the worker never throws on it, so it is not retried in a loop), and
 * real deliveries keep flowing around them.
 */

const b64 = (text: string | Buffer): string => Buffer.from(text).toString('base64');
const GARBAGE: readonly string[] = [
  'not base64 at all !!!',
  b64('not json'),
  b64('123'),
  b64('"a string"'),
  b64('null'),
  b64('{}'),
  b64(JSON.stringify({ v: 2, eventId: 'x', items: [] })),
  b64(JSON.stringify({ v: 1, eventId: 'evt', items: [{ deliveryId: 'nope', webhookId: 'nope', body: {}, attempts: [] }] })),
  b64(Buffer.from([0xff, 0xfe, 0x00, 0x01])),
  b64(JSON.stringify({ deep: JSON.parse(`${'['.repeat(2000)}${']'.repeat(2000)}`) as unknown })),
];

describe('faults: garbage in the deliveries queue', () => {
  let azurite: RunningAzurite;
  let receivers: Receivers;
  let host: SpawnedHost;

  beforeAll(async () => {
    azurite = await ownAzurite();
    receivers = await startReceivers();
  });
  afterAll(async () => {
    await host?.stop('SIGKILL');
    await receivers?.close();
    await azurite?.stop();
  });

  it('sets every foreign message aside once, with a reason, and keeps delivering', async () => {
    const env = appSettings({ storage: azurite.connectionString, tag: 'garbage' });
    host = await startApp(env);
    const baseUrl = host.baseUrl;
    const queue = new QueueClient(azurite.connectionString, env.DELIVERIES_QUEUE!);
    await queue.createIfNotExists();
    for (const text of GARBAGE) await queue.sendMessage(text);
    const webhookId = await createWebhook(baseUrl, { url: receivers.url('g0', 'ok'), name: 'g0' });
    expect((await ingest(baseUrl, { id: 'after-garbage', name: 'ping:all' })).status).toBe(202);

    const poisonQueue = `${env.DELIVERIES_QUEUE}-poison`;
    await waitUntil('every foreign message in the poison queue', async () => (await approximateCount(azurite.connectionString, poisonQueue)) === GARBAGE.length, { timeoutMs: 30_000 });
    await waitUntil('the real delivery', () => (receivers.received.get('g0') ?? []).includes(deliveryIdFor({ eventId: 'after-garbage', publicEventName: 'ping', webhookId })), { timeoutMs: 30_000 });
    await waitUntil('the deliveries queue to empty', async () => (await approximateCount(azurite.connectionString, env.DELIVERIES_QUEUE!)) === 0, { timeoutMs: 15_000 });

    // Never a failed invocation: a thrown function would be retried up to maxDequeueCount times.
    expect(host.logs.filter((l) => l.function === 'deliver' && l.outcome === 'failed')).toEqual([]);
    // The ops route lists each as unreadable, with its reason.
    const listed = await call(baseUrl, 'GET', 'poison', { key: ADMIN_KEY });
    expect(listed.status).toBe(200);
    const items = listed.body?.items as { item: { kind: string; entry?: { reason: { kind: string; message: string } } } }[];
    expect(items).toHaveLength(GARBAGE.length);
    // Set aside by the worker: an entry whose reason says what is wrong with the message.
    const setAside = items.filter((i) => i.item.kind === 'Undeliverable');
    expect(setAside).toHaveLength(GARBAGE.length - 1);
    for (const i of setAside) expect(i.item.entry?.reason).toEqual({ kind: 'UnreadableMessage', message: expect.stringMatching(/\S/) });
    // Copied as is by the host: text that is not even base64.
    expect(items.filter((i) => i.item.kind === 'Unreadable')).toHaveLength(1);
    // The one the host could not even decode is reported in its log with the reason (logged after the
    // move, so it may still be on its way from the host's output).
    await host.waitForLog((l) => /moved to .*-poison: its text is not valid base64/.test(l.message));
  }, 90_000);
});
