import type { RunningAzurite } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import { deliveryIdFor } from '../../domain/delivery';
import { ADMIN_KEY, appSettings, call, createWebhook, eventStatus, ingest, mapLimit, ownAzurite, type Receivers, startApp, startReceivers, waitUntil } from './harness';

/*
 * Storage hangs instead of refusing: Azurite is frozen (SIGSTOP, not killed) for 30 s. Every storage
 * call on a request path has a deadline (STORAGE_TIMEOUT_MS), so ingest and the registry answer 503
 * with Retry-After long before the freeze ends, instead of all waiting for it. When Azurite resumes it
 * may still apply writes it had received (an event stored after its 503): the sender's repeat with the
 * same id, as the 503 asks, dispatches it. Nothing accepted before or after is lost.
 */

const FREEZE_MS = 30_000;
const STORAGE_TIMEOUT_MS = 2_000;
/** Far below the freeze: an answer this late would mean the request waited for storage without bound. */
const ANSWER_BOUND_MS = STORAGE_TIMEOUT_MS * 5;
const RECEIVERS = ['f0', 'f1'];

describe('faults: storage frozen for 30 s', () => {
  let azurite: RunningAzurite | undefined;
  let receivers: Receivers | undefined;
  let host: SpawnedHost | undefined;
  let frozen = false;

  afterAll(async () => {
    if (frozen && azurite?.pid !== undefined) process.kill(azurite.pid, 'SIGCONT');
    await host?.stop('SIGKILL');
    await receivers?.close();
    await azurite?.stop();
  });

  it('answers 503 within its deadline, and loses nothing it accepted', async () => {
    azurite = await ownAzurite();
    const pid = azurite.pid;
    if (pid === undefined) throw new Error('Azurite has no pid');
    receivers = await startReceivers();
    const rx = receivers;
    host = await startApp(appSettings({ storage: azurite.connectionString, tag: 'frozen', extra: { STORAGE_TIMEOUT_MS: String(STORAGE_TIMEOUT_MS) } }));
    const baseUrl = host.baseUrl;
    const webhookIds = await mapLimit(RECEIVERS, 2, (name) => createWebhook(baseUrl, { url: rx.url(name, 'ok'), name }));
    const before = [0, 1, 2].map((i) => ({ id: `before-${i}`, name: 'ping:all' }));
    expect(await mapLimit(before, 3, async (e) => (await ingest(baseUrl, e)).status)).toEqual([202, 202, 202]);

    process.kill(pid, 'SIGSTOP');
    frozen = true;
    const frozenAt = Date.now();
    const during = Array.from({ length: 10 }, (_, i) => ({ id: `during-${i}`, name: 'ping:all' }));
    const answers = await Promise.all(
      during.map(async (e) => {
        const sent = Date.now();
        const res = await ingest(baseUrl, e);
        return { status: res.status, retryAfter: res.headers.get('retry-after') !== null, tookMs: Date.now() - sent };
      }),
    );
    const registry = await call(baseUrl, 'GET', 'webhooks', { key: ADMIN_KEY });
    expect(answers.map(({ status, retryAfter }) => ({ status, retryAfter }))).toEqual(during.map(() => ({ status: 503, retryAfter: true })));
    expect(Math.max(...answers.map((a) => a.tookMs))).toBeLessThan(ANSWER_BOUND_MS);
    expect(registry.status).toBe(503);
    // Every answer came while storage was still frozen.
    expect(Date.now() - frozenAt).toBeLessThan(FREEZE_MS);

    await new Promise((r) => setTimeout(r, FREEZE_MS - (Date.now() - frozenAt)));
    process.kill(pid, 'SIGCONT');
    frozen = false;
    await waitUntil('health to recover', async () => (await call(baseUrl, 'GET', 'health')).status === 200, { timeoutMs: 30_000, intervalMs: 250 });

    // The senders repeat what got a 503, as told: 202 whether or not the first write had landed.
    expect(await mapLimit(during, 5, async (e) => (await ingest(baseUrl, e)).status)).toEqual(during.map(() => 202));
    const all = [...before, ...during];
    const expected = all.flatMap((e) => webhookIds.map((webhookId) => deliveryIdFor({ eventId: e.id, publicEventName: 'ping', webhookId })));
    const distinct = (): Set<string> => new Set([...rx.received.values()].flat());
    await waitUntil('every delivery of every accepted event', () => expected.every((id) => distinct().has(id)), {
      timeoutMs: 60_000,
      intervalMs: 250,
      state: () => `${distinct().size}/${expected.length}`,
    });
    expect(await mapLimit(all, 5, async (e) => (await eventStatus(baseUrl, e.id))?.dispatch.status)).toEqual(all.map(() => 'Completed'));
  }, 180_000);
});
