import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts, type RunningAzurite } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import { deliveryIdFor } from '../../domain/delivery';
import { ADMIN_KEY, appSettings, call, createWebhook, eventStatus, ingest, mapLimit, ownAzurite, type Receivers, startApp, startReceivers, waitUntil } from './harness';

/*
 * Azurite stops while the host runs: ingest answers 503 (never 202 for an event it did not store),
 * health names what is down; when Azurite is back on the same ports with the same data, the host
 * recovers without a restart and delivers everything it accepted before the outage.
 */

const BEFORE = 30;
const RECEIVERS = ['s0', 's1'];

describe('faults: storage goes down while the host runs', () => {
  const location = mkdtempSync(path.join(tmpdir(), 'faults-storage-'));
  let azurite: RunningAzurite | undefined;
  let receivers: Receivers;
  let host: SpawnedHost;

  afterAll(async () => {
    await host?.stop('SIGKILL');
    await receivers?.close();
    await azurite?.stop();
    rmSync(location, { recursive: true, force: true });
  });

  it('answers 503 during the outage and delivers everything accepted before it once storage returns', async () => {
    const ports = await freePorts();
    azurite = await ownAzurite({ location, ports });
    receivers = await startReceivers();
    // Pages of one webhook: ingest enqueues the first receiver's delivery, an orchestration the other's,
    // so the outage lands on fan-outs that are not finished.
    host = await startApp(appSettings({ storage: azurite.connectionString, tag: 'down', extra: { FANOUT_PAGE_SIZE: '1', FANOUT_STEP_SIZE: '1' } }));
    const baseUrl = host.baseUrl;
    // Each delivery's first attempt is refused and its retry waits 1 s (RETRY_SCHEDULE_SECONDS), so
    // the last events' deliveries are still owed when storage stops, however fast this machine is.
    const webhookIds = await mapLimit(RECEIVERS, 2, (name) => createWebhook(baseUrl, { url: receivers.url(name, 'failFirst'), name }));
    const events = Array.from({ length: BEFORE }, (_, i) => ({ id: `down-${i}`, name: 'ping:all' }));
    const accepted = await mapLimit(events, 8, async (e) => (await ingest(baseUrl, e)).status);
    expect(accepted).toEqual(events.map(() => 202));
    const expected = events.flatMap((e) => webhookIds.map((webhookId) => deliveryIdFor({ eventId: e.id, publicEventName: 'ping', webhookId })));

    // Storage disappears right after the last event was accepted: its fan-out cannot be done yet.
    const distinct = (): Set<string> => new Set([...receivers.received.values()].flat());
    const deliveredBefore = distinct().size;
    const unfinished = await mapLimit([...events].reverse().slice(0, 8), 8, async (e) => (await eventStatus(baseUrl, e.id))?.dispatch.status);
    await azurite.stop();
    expect(unfinished.filter((s) => s !== 'Completed').length).toBeGreaterThan(0);
    azurite = undefined;
    expect(deliveredBefore).toBeLessThan(expected.length);

    const health = await call(baseUrl, 'GET', 'health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'unavailable', checks: { tables: 'down', queues: 'down' } });
    expect(String(health.body?.message)).toMatch(/tables.*queues/);

    const during = await ingest(baseUrl, { id: 'during-outage', name: 'ping:all' });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).not.toBeNull();
    const registry = await call(baseUrl, 'GET', 'webhooks', { key: ADMIN_KEY });
    expect(registry.status).toBe(503);

    // Long enough for every loop (queue triggers, durable control and work items) to fail a few times.
    await new Promise((r) => setTimeout(r, 4_000));
    azurite = await ownAzurite({ location, ports });

    await waitUntil('health to recover', async () => (await call(baseUrl, 'GET', 'health')).status === 200, { timeoutMs: 30_000, intervalMs: 250 });
    await waitUntil('every delivery accepted before the outage', () => expected.every((id) => distinct().has(id)), { timeoutMs: 90_000, intervalMs: 250 });

    // The event refused with 503 was not stored; a new one after the outage flows normally.
    expect((await call(baseUrl, 'GET', 'events/during-outage', { key: ADMIN_KEY })).status).toBe(404);
    expect((await ingest(baseUrl, { id: 'after-outage', name: 'ping:all' })).status).toBe(202);
    const after = webhookIds.map((webhookId) => deliveryIdFor({ eventId: 'after-outage', publicEventName: 'ping', webhookId }));
    await waitUntil('the event sent after the outage', () => after.every((id) => distinct().has(id)), { timeoutMs: 30_000, intervalMs: 100 });
    await waitUntil('every fan-out to complete', async () => (await mapLimit(events, 8, async (e) => (await eventStatus(baseUrl, e.id))?.dispatch.status)).every((s) => s === 'Completed'), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
  }, 180_000);
});
