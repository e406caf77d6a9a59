import type { RunningAzurite } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import { appSettings, createWebhook, eventStatus, type EventView, ingest, ownAzurite, type Receivers, startApp, startReceivers, waitUntil } from './harness';

/*
 * A receiver that stops answering is paused (per endpoint) after CIRCUIT_BREAKER_TIMEOUTS timeouts in a
 * row: later deliveries to it are recorded at once as `CircuitOpen` and retried on the schedule,
 * without a request or a held slot; a healthy origin beside it gets everything.
 */

const EVENTS = 4;
const THRESHOLD = 2;

describe('faults: a receiver origin that hangs', () => {
  let azurite: RunningAzurite;
  let hanging: Receivers;
  let healthy: Receivers;
  let host: SpawnedHost;

  beforeAll(async () => {
    azurite = await ownAzurite();
    // Two servers: two origins (another port is another origin).
    hanging = await startReceivers();
    healthy = await startReceivers();
  });
  afterAll(async () => {
    await host?.stop('SIGKILL');
    await hanging?.close();
    await healthy?.close();
    await azurite?.stop();
  });

  it('stops sending to it after the threshold, records the pause as an attempt, and keeps delivering elsewhere', async () => {
    host = await startApp(
      appSettings({
        storage: azurite.connectionString,
        tag: 'hang',
        extra: {
          DELIVERY_TIMEOUT_MS: '500',
          // One retry, an hour away: each event's delivery shows its first attempt only.
          RETRY_SCHEDULE_SECONDS: '3600',
          CIRCUIT_BREAKER_TIMEOUTS: String(THRESHOLD),
          CIRCUIT_BREAKER_COOLDOWN_MS: '600000',
        },
      }),
    );
    const baseUrl = host.baseUrl;
    const hangingId = await createWebhook(baseUrl, { url: hanging.url('slow', 'slowHeaders'), name: 'slow' });
    await createWebhook(baseUrl, { url: healthy.url('fine', 'ok'), name: 'fine' });

    const firstResults: (string | number | undefined)[] = [];
    // One event at a time, so "in a row" is the order of the events.
    for (let i = 0; i < EVENTS; i++) {
      const id = `hang-${i}`;
      expect((await ingest(baseUrl, { id, name: 'ping:all' })).status).toBe(202);
      let view: EventView | undefined;
      const slowDelivery = () => view?.deliveries.find((d) => d.webhookId === hangingId);
      await waitUntil(
        `the first attempt of ${id} to the hanging receiver`,
        async () => {
          view = await eventStatus(baseUrl, id);
          return slowDelivery()?.lastResult !== undefined;
        },
        { timeoutMs: 30_000, state: () => view },
      );
      firstResults.push(slowDelivery()?.lastResult?.error);
      expect(slowDelivery()?.state).not.toBe('delivered');
    }

    expect(firstResults).toEqual(['Timeout', 'Timeout', 'CircuitOpen', 'CircuitOpen']);
    expect(hanging.requests.get('slow')).toBe(THRESHOLD);
    await waitUntil('every delivery to the healthy origin', () => (healthy.received.get('fine') ?? []).length >= EVENTS, { timeoutMs: 30_000 });
    expect(new Set(healthy.received.get('fine')).size).toBe(EVENTS);
  }, 120_000);
});
