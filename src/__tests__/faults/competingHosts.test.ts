import type { RunningAzurite } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import { deliveryIdFor } from '../../domain/delivery';
import { appSettings, approximateCount, createWebhook, ingest, mapLimit, ownAzurite, type Receivers, startApp, startReceivers, waitUntil } from './harness';

/*
 * Two hosts on the same storage compete for the same queues (as scaled-out instances do in
 * Azure): under load, each delivery reaches its receiver once, as far as webhook-id tells.
 */

const EVENTS = 100;
const RECEIVERS = ['c0', 'c1', 'c2'];

describe('faults: two hosts on the same storage', () => {
  let azurite: RunningAzurite;
  let receivers: Receivers;
  const hosts: SpawnedHost[] = [];

  beforeAll(async () => {
    azurite = await ownAzurite();
    receivers = await startReceivers();
  });
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop('SIGKILL')));
    await receivers?.close();
    await azurite?.stop();
  });

  it(`delivers each of ${EVENTS * RECEIVERS.length} deliveries once, both hosts taking part`, async () => {
    // Default lease lengths: a healthy host keeps what it took, so nothing is handed over twice.
    const env = appSettings({
      storage: azurite.connectionString,
      tag: 'compete',
      extra: { LOCAL_HOST_QUEUE_LEASE_SECONDS: '600', LOCAL_HOST_DURABLE_LEASE_SECONDS: '30', LOCAL_HOST_DURABLE_VISIBILITY_TIMEOUT_SECONDS: '30' },
    });
    hosts.push(...(await Promise.all([startApp(env), startApp(env)])));
    const [a, b] = hosts as [SpawnedHost, SpawnedHost];
    const webhookIds = await mapLimit(RECEIVERS, 3, (name) => createWebhook(a.baseUrl, { url: receivers.url(name, 'ok'), name }));
    const events = Array.from({ length: EVENTS }, (_, i) => ({ id: `compete-${i}`, name: 'ping:all' }));
    // Half the events to each host; each host's worker takes whatever it polls first.
    const statuses = await mapLimit(events, 12, async (e, i) => (await ingest((i % 2 === 0 ? a : b).baseUrl, e)).status);
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    const expected = events.flatMap((e) => webhookIds.map((webhookId) => deliveryIdFor({ eventId: e.id, publicEventName: 'ping', webhookId })));
    const all = (): string[] => [...receivers.received.values()].flat();
    await waitUntil('every delivery', () => expected.every((id) => all().includes(id)), { timeoutMs: 120_000, intervalMs: 250 });
    // Let anything still in flight land before counting repeats.
    await waitUntil('the deliveries queue to empty', async () => (await approximateCount(azurite.connectionString, env.DELIVERIES_QUEUE!)) === 0, { timeoutMs: 30_000 });

    const counts = new Map<string, number>();
    for (const id of all()) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
    expect(counts.size).toBe(expected.length);
    const delivered = (h: SpawnedHost): number => h.logs.filter((l) => l.function === 'deliver' && l.outcome === 'succeeded').length;
    expect(delivered(a)).toBeGreaterThan(0);
    expect(delivered(b)).toBeGreaterThan(0);
  }, 200_000);
});
