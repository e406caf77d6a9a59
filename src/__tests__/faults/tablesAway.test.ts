import net from 'node:net';
import { connectionStringFor, freePort, type RunningAzurite } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import { deliveryIdFor } from '../../domain/delivery';
import { appSettings, approximateCount, createWebhook, ingest, mapLimit, ownAzurite, type Receivers, startApp, startReceivers, waitUntil } from './harness';

/*
 * Table storage goes away for 30 s while deliveries are owed, and queues stay up: every delivery
 * invocation fails (it cannot read its webhooks or log its attempts) and hands its message back.
 * With host.json's visibilityTimeout of 0 the message came back at once and reached maxDequeueCount
 * (5) within seconds: poisoned by a blip. With 30 s, five dequeues need two minutes, and when the
 * tables return everything is delivered and nothing is poisoned. (Azurite stopping whole does not
 * test this: a queue that cannot be read counts no dequeues.)
 */

const OUTAGE_MS = 30_000;
const EVENTS = 10;
const RECEIVERS = ['t0', 't1'];

/** A TCP forwarder to Azurite's table port that can refuse connections for a while. */
const switchableProxy = async (target: number): Promise<{ port: number; down(): Promise<void>; up(): Promise<void>; close(): Promise<void> }> => {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const listen = (): Promise<void> =>
    new Promise((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect({ port: target, host: '127.0.0.1' });
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = (): Promise<void> =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      if (server === undefined) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await listen();
  return { port, down, up: listen, close: down };
};

describe('faults: table storage away for 30 s mid-delivery', () => {
  let azurite: RunningAzurite | undefined;
  let proxy: Awaited<ReturnType<typeof switchableProxy>> | undefined;
  let receivers: Receivers | undefined;
  let host: SpawnedHost | undefined;

  afterAll(async () => {
    await host?.stop('SIGKILL');
    await receivers?.close();
    await proxy?.close();
    await azurite?.stop();
  });

  it('poisons nothing and delivers everything once the tables are back', async () => {
    azurite = await ownAzurite();
    proxy = await switchableProxy(azurite.ports.table);
    const storage = connectionStringFor({ ...azurite.ports, table: proxy.port });
    receivers = await startReceivers();
    const settings = appSettings({ storage, tag: 'blip' });
    host = await startApp(settings);
    const baseUrl = host.baseUrl;
    const rx = receivers;
    // Every first attempt is refused and retried 1 s later (RETRY_SCHEDULE_SECONDS): those retries
    // fall inside the outage however fast this machine is.
    const webhookIds = await mapLimit(RECEIVERS, 2, (name) => createWebhook(baseUrl, { url: rx.url(name, 'failFirst'), name }));
    const events = Array.from({ length: EVENTS }, (_, i) => ({ id: `blip-${i}`, name: 'ping:all' }));
    expect(await mapLimit(events, 5, async (e) => (await ingest(baseUrl, e)).status)).toEqual(events.map(() => 202));
    const expected = events.flatMap((e) => webhookIds.map((webhookId) => deliveryIdFor({ eventId: e.id, publicEventName: 'ping', webhookId })));
    const distinct = (): Set<string> => new Set([...rx.received.values()].flat());

    await proxy.down();
    const failedBefore = host.logs.filter((l) => l.category === 'deliver' && l.level === 'error').length;
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const failedDuring = host.logs.filter((l) => l.category === 'deliver' && l.level === 'error').length - failedBefore;
    // The outage did hit deliveries: their invocations failed and handed the messages back.
    expect(failedDuring).toBeGreaterThan(0);
    expect(distinct().size).toBeLessThan(expected.length);
    await proxy.up();

    await waitUntil('every delivery owed before the outage', () => expected.every((id) => distinct().has(id)), {
      timeoutMs: 120_000,
      intervalMs: 500,
      state: () => `${distinct().size}/${expected.length}`,
    });
    expect(host.logs.filter((l) => /moved to .*-poison/.test(l.message))).toEqual([]);
    expect(await approximateCount(azurite.connectionString, `${settings.DELIVERIES_QUEUE}-poison`)).toBe(0);
  }, 240_000);
});
