import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type LogLine, type SpawnedHost, spawnHost } from '../../../local-host/testing/spawnHost';

/* One event followed end to end through the host's log lines, by its id alone. */

const appDir = path.resolve(__dirname, '..', '..', '..');
const suffix = `${process.pid}${Date.now() % 100000}`;
const ADMIN_KEY = 'telemetry-admin-key-0123456789-abcdefghijklmnop';
const INGEST_KEY = 'telemetry-ingest-key-0123456789-abcdefghijklmnop';

const fieldsOf = (line: LogLine, name: string): Record<string, unknown> | undefined =>
  line.message.startsWith(`${name} `) ? (JSON.parse(line.message.slice(name.length + 1)) as Record<string, unknown>) : undefined;

describe('telemetry through the embedded host', () => {
  let host: SpawnedHost;
  let receiver: http.Server;
  let receiverUrl: string;
  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    host = await spawnHost({
      appDir,
      env: {
        INGEST_API_KEY: INGEST_KEY,
        ADMIN_API_KEY: ADMIN_KEY,
        WEBHOOKS_TABLE: `telwebhooks${suffix}`,
        EVENTS_TABLE: `televents${suffix}`,
        ATTEMPTS_TABLE: `telattempts${suffix}`,
        DELIVERIES_QUEUE: `tel-deliveries-${suffix}`,
        ALLOW_PRIVATE_DESTINATIONS: 'true',
      },
    });
  });
  afterAll(async () => {
    await host.stop();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('logs ingest, fan-out and every delivery attempt with the event, delivery and webhook ids', async () => {
    const created = await fetch(`${host.baseUrl}/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ url: receiverUrl, subscriptions: ['ping'], attributes: { name: 'tel' } }),
    });
    const webhookId = ((await created.json()) as { id: string }).id;
    const eventId = `tel-${suffix}`;
    const posted = await fetch(`${host.baseUrl}/api/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INGEST_KEY}` },
      body: JSON.stringify({ id: eventId, name: 'ping', payload: { name: 'tel' } }),
    });
    expect(posted.status).toBe(202);

    const accepted = await host.waitForLog((l) => fieldsOf(l, 'event.accepted')?.eventId === eventId);
    expect(fieldsOf(accepted, 'event.accepted')).toMatchObject({ event: 'ping', repeated: false });
    const page = await host.waitForLog((l) => fieldsOf(l, 'fanout.page')?.eventId === eventId);
    expect(fieldsOf(page, 'fanout.page')).toMatchObject({ deliveries: 1, messages: 1, more: false });
    const attempt = await host.waitForLog((l) => fieldsOf(l, 'delivery.attempt')?.eventId === eventId, 30_000);
    expect(fieldsOf(attempt, 'delivery.attempt')).toMatchObject({ webhookId, attempt: 1, outcome: 'Delivered', status: 204 });
    expect(fieldsOf(attempt, 'delivery.attempt')?.deliveryId).toMatch(/^msg_[0-9a-f]{32}$/);
  });
});
