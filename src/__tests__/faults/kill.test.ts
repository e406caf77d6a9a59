import type { RunningAzurite } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import { deliveryIdFor } from '../../domain/delivery';
import { appSettings, approximateCount, eventStatus, type EventView, ingest, mapLimit, ownAzurite, type Receivers, startApp, startReceivers, waitUntil, createWebhook } from './harness';

/*
 * SIGKILL in the middle of a fan-out: after a restart every expected delivery arrives (repeats
 * allowed, told apart by webhook-id), every orchestration completes, and nothing is poisoned.
 * Small pages make every ping:all a multi-page fan-out (ingest enqueues the first page of two
 * webhooks, an orchestration the other two, one a step), and the kill lands while one of them is
 * still running: its orchestration Running, or Pending with part of its deliveries done.
 */

const EVENTS = 200;
const RECEIVERS = ['r0', 'r1', 'r2', 'r3'];

describe('faults: the host is killed while 200 events fan out', () => {
  let azurite: RunningAzurite;
  let receivers: Receivers;
  let host: SpawnedHost | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    azurite = await ownAzurite();
    receivers = await startReceivers();
    // Receivers answer after SLOW_OK_MS and share one origin, which the sender serves with 32
    // connections: at most ~64 deliveries a second, so the kill lands long before the 500
    // deliveries are done, however fast this machine is. The timeout stays far above the delay.
    env = appSettings({ storage: azurite.connectionString, tag: 'kill', extra: { DELIVERY_TIMEOUT_MS: '15000', FANOUT_PAGE_SIZE: '2', FANOUT_STEP_SIZE: '1' } });
  });
  afterAll(async () => {
    await host?.stop('SIGKILL');
    await receivers?.close();
    await azurite?.stop();
  });

  it('delivers every (event, receiver) pair after a restart, with no orchestration stuck and nothing poisoned', async () => {
    host = await startApp(env);
    const first = host;
    const webhookIds = await mapLimit(RECEIVERS, 4, (name) => createWebhook(first.baseUrl, { url: receivers.url(name, 'slowOk'), name }));
    // Half ping:all (one delivery per receiver), half a ping addressed to one receiver by name.
    const events = Array.from({ length: EVENTS }, (_, i) =>
      i % 2 === 0 ? { id: `kill-${i}`, name: 'ping:all' } : { id: `kill-${i}`, name: 'ping', payload: { name: RECEIVERS[i % RECEIVERS.length] } },
    );
    const expected = new Set<string>();
    events.forEach((e, i) => {
      const targets = e.name === 'ping:all' ? webhookIds : [webhookIds[i % RECEIVERS.length] as string];
      for (const webhookId of targets) expected.add(deliveryIdFor({ eventId: e.id, publicEventName: 'ping', webhookId }));
    });
    const distinct = (): Set<string> => new Set([...receivers.received.values()].flat());

    // Ingest everything, then kill once part of the deliveries arrived and the fan-out is still going.
    const statuses = await mapLimit(events, 16, async (e) => (await ingest(first.baseUrl, e)).status);
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    await waitUntil('some deliveries before the kill', () => distinct().size >= 50, { timeoutMs: 60_000, intervalMs: 20 });
    // Evidence that an orchestration is mid-way: the newest ping:all whose fan-out is still going.
    const pingAll = events.filter((e) => e.name === 'ping:all').reverse();
    let midway: { id: string; status: string; pages?: number; delivered?: number } | undefined;
    for (const e of pingAll) {
      const view = await eventStatus(first.baseUrl, e.id);
      const status = view?.dispatch.status;
      if (status === 'Running' || (status === 'Pending' && (view?.summary.delivered ?? 0) > 0)) {
        midway = { id: e.id, status, pages: view?.dispatch.pages, delivered: view?.summary.delivered };
        break;
      }
    }
    await host.stop('SIGKILL');
    console.log(`kill: ${JSON.stringify(midway)} when killed`);
    expect(midway).toBeDefined();
    const beforeRestart = distinct().size;
    console.log(`kill: ${beforeRestart} of ${expected.size} deliveries arrived before the kill`);
    expect(beforeRestart).toBeLessThan(expected.size);

    host = await startApp(env);
    const second = host;
    await waitUntil('every expected delivery', () => [...expected].every((id) => distinct().has(id)), { timeoutMs: 120_000, intervalMs: 200 });
    expect([...distinct()].filter((id) => !expected.has(id))).toEqual([]);

    // Deliveries can arrive before their orchestration records its last episode: give the
    // orchestrations a bounded time to finish, then name any that did not (stuck).
    let views: (EventView | undefined)[] = [];
    const notCompleted = async (): Promise<(string | undefined)[][]> => {
      views = await mapLimit(events, 8, (e) => eventStatus(second.baseUrl, e.id));
      return views.map((v, i) => [events[i]?.id, v?.dispatch.status]).filter(([, s]) => s !== 'Completed');
    };
    let stuck = await notCompleted();
    const deadline = Date.now() + 60_000;
    while (stuck.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      stuck = await notCompleted();
    }
    expect(stuck).toEqual([]);
    expect(await approximateCount(azurite.connectionString, `${env.DELIVERIES_QUEUE}-poison`)).toBe(0);
    // The record agrees: each event counts every delivery it owed, and each one as delivered.
    const owed = (e: (typeof events)[number]): number => (e.name === 'ping:all' ? webhookIds.length : 1);
    const recorded = views.map((v, i) => ({ id: events[i]?.id, enqueued: v?.dispatch.deliveries, delivered: v?.summary.delivered }));
    expect(recorded.filter((r, i) => r.enqueued !== owed(events[i]!) || r.delivered !== owed(events[i]!))).toEqual([]);
  }, 280_000);
});
