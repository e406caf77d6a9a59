import { TableClient } from '@azure/data-tables';
import { QueueClient } from '@azure/storage-queue';
import { run as ops } from '../../../cli/main';
import type { RunningAzurite } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import {
  ADMIN_KEY,
  type Answer,
  appSettings,
  approximateCount,
  call,
  eventStatus,
  ingest,
  ownAzurite,
  peekQueue,
  type Receivers,
  startApp,
  startReceivers,
  waitUntil,
} from '../../__tests__/faults/harness';

/*
 * Personal data end to end, the compiled app in the embedded host on an Azurite of its own:
 * erasure while a delivery for that person is retrying (it is never sent again), poison entries
 * erased, the retention purge of every kind of row (durable histories included), bad input on the
 * new routes, and a grep of every line the host printed for the fiscal codes used (zero).
 */

const TAG = 'priv';
/** Fiscal codes used only here, so a match in the logs can only come from this test. */
const ANNA = 'RSSNNA80A41H501X';
const BRUNO = 'BRNBRN70B12F205Z';
const CARLO = 'CRLCRL60C03L219K';
const DARIO = 'DRADRA55D04F839W';
const CODES = [ANNA, BRUNO, CARLO, DARIO];

describe('personal data: retention and erasure (spawned host)', () => {
  let azurite: RunningAzurite;
  let host: SpawnedHost;
  let receivers: Receivers;
  let baseUrl: string;

  beforeAll(async () => {
    azurite = await ownAzurite();
    receivers = await startReceivers();
    host = await startApp(
      appSettings({
        storage: azurite.connectionString,
        tag: TAG,
        extra: {
          PRIVACY_TABLE: `${TAG}privacy`,
          SUBJECT_HASH_KEY: 'privacy-e2e-subject-hash-key-0123456789',
          // Long enough that the retrying delivery is still owed when the erasure answers.
          RETRY_SCHEDULE_SECONDS: '2,2,2,2,2,2,2,2,2,2',
          // The orchestration runs for the ping:all of two webhooks (page 1 by ingest, page 2 by it).
          FANOUT_PAGE_SIZE: '1',
          FANOUT_STEP_SIZE: '1',
          // Every line the host can print goes through the grep at the end.
          LOCAL_HOST_LOG_LEVEL: 'debug',
        },
      }),
    );
    baseUrl = host.baseUrl;
  });
  afterAll(async () => {
    await host?.stop('SIGKILL');
    await receivers?.close();
    await azurite?.stop();
  });

  const admin = (method: string, route: string, body?: unknown): Promise<Answer> => call(baseUrl, method, route, { key: ADMIN_KEY, ...(body === undefined ? {} : { body }) });
  const webhook = async (url: string, subscriptions: string[], attributes: Record<string, string>): Promise<string> => {
    const res = await admin('POST', 'webhooks', { url, subscriptions, attributes });
    expect(res.status).toBe(201);
    return String(res.body?.id);
  };
  const accepted = async (event: { id: string; name: string; payload?: Record<string, unknown> }): Promise<void> => {
    const res = await ingest(baseUrl, event);
    expect(res.status).toBe(202);
  };
  const rows = async (table: string): Promise<{ partitionKey?: string }[]> => {
    const found: { partitionKey?: string }[] = [];
    const client = TableClient.fromConnectionString(azurite.connectionString, table, { allowInsecureConnection: true });
    for await (const row of client.listEntities()) found.push(row);
    return found;
  };
  const poisonTexts = async (): Promise<string[]> => (await peekQueue(azurite.connectionString, `${TAG}-deliveries-poison`)).map((m) => Buffer.from(m, 'base64').toString('utf8'));
  const deliveryLines = (eventId: string) => host.logs.filter((l) => l.message.startsWith('delivery.message') && l.message.includes(eventId));

  it('erases a person while a delivery is retrying: it is never sent again, its poison entries go, and the event is a 404', async () => {
    await webhook(receivers.url('retrying', 'error503'), ['service:subscribed'], { serviceId: 'svc-retry' });
    await webhook(receivers.url('refusing', 'redirect'), ['service:subscribed'], { serviceId: 'svc-poison' });
    await accepted({ id: 'anna-1', name: 'service:subscribed', payload: { serviceId: 'svc-retry', fiscalCode: ANNA } });
    await accepted({ id: 'anna-2', name: 'service:subscribed', payload: { serviceId: 'svc-poison', fiscalCode: ANNA } });
    await accepted({ id: 'bruno-1', name: 'service:subscribed', payload: { serviceId: 'svc-poison', fiscalCode: BRUNO } });
    await waitUntil('the first attempt of the retrying delivery', () => (receivers.requests.get('retrying') ?? 0) >= 1, { timeoutMs: 30_000 });
    await waitUntil('both refused deliveries in the poison queue', async () => (await poisonTexts()).length === 2, { timeoutMs: 30_000 });

    const erased = await admin('POST', 'erasure', { fiscalCode: ANNA });
    const sentBeforeAnswer = receivers.requests.get('retrying') ?? 0;

    expect(erased.status).toBe(200);
    expect(erased.body).toEqual({ deleted: { events: 2, attempts: expect.any(Number), poison: 1 }, truncated: false });
    expect((erased.body?.deleted as { attempts: number }).attempts).toBeGreaterThanOrEqual(2);
    // The retry already in the queue comes up, finds the event gone, and is dropped without a request.
    await waitUntil('the owed retry to be skipped', () => deliveryLines('anna-1').some((l) => /"skipped":1/.test(l.message)), { timeoutMs: 30_000 });
    await waitUntil('the deliveries queue to drain', async () => (await approximateCount(azurite.connectionString, `${TAG}-deliveries`)) === 0, { timeoutMs: 30_000 });
    expect(receivers.requests.get('retrying') ?? 0).toBe(sentBeforeAnswer);

    expect((await admin('GET', 'events/anna-1')).status).toBe(404);
    expect((await admin('GET', 'events/anna-2')).status).toBe(404);
    expect((await admin('GET', 'events/bruno-1')).status).toBe(200);
    const left = await poisonTexts();
    expect(left).toHaveLength(1);
    expect(left[0]).toContain('bruno-1');
    expect((await rows(`${TAG}attempts`)).filter((r) => r.partitionKey?.includes('anna'))).toEqual([]);
  });

  it('keeps a fiscal code out of every other path (an event id, bad ingests, an unreadable message, the CLI), and erases what they stored', async () => {
    await accepted({ id: `ops-${DARIO}`, name: 'service:subscribed', payload: { serviceId: 'svc-poison', fiscalCode: DARIO } });
    const badName = await ingest(baseUrl, { id: 'bad-1', name: DARIO });
    const badMode = await ingest(baseUrl, { id: 'bad-2', name: 'profile:completed', payload: { fiscalCode: DARIO, servicePreferencesMode: 'SOMETIMES' } });
    expect([badName.status, badMode.status]).toEqual([400, 400]);
    expect(badName.text + badMode.text).not.toContain(DARIO);
    expect(badMode.body?.details).toEqual(['payload.servicePreferencesMode: must be one of LEGACY, AUTO, MANUAL']);
    // Not a delivery message: the worker sets it aside with a reason, the body (and the code) kept for ops.
    const unreadable = Buffer.from(JSON.stringify({ v: 1, eventId: 'x', items: [{ fiscalCode: DARIO }] })).toString('base64');
    await new QueueClient(azurite.connectionString, `${TAG}-deliveries`).sendMessage(unreadable);
    await waitUntil('the refused delivery and the unreadable message in the poison queue', async () => (await poisonTexts()).filter((t) => t.includes(DARIO)).length === 2, { timeoutMs: 30_000 });

    const printed: string[] = [];
    const io = {
      stdout: { write: (s: string) => printed.push(s) },
      stderr: { write: (s: string) => printed.push(s), isTTY: false },
      env: { DISPATCHER_URL: baseUrl, DISPATCHER_ADMIN_KEY: ADMIN_KEY },
    };
    expect(await ops(['poison'], io)).toBe(0);
    expect(await ops(['poison', '--json'], io)).toBe(0);
    expect(await ops(['event', `ops-${DARIO}`, '--json'], io)).toBe(0);
    expect(printed.join('')).toContain('[fiscal code]');
    expect(printed.join('')).not.toContain(DARIO);

    const erased = await admin('POST', 'erasure', { fiscalCode: DARIO });
    expect(erased.body).toEqual({ deleted: { events: 1, attempts: 1, poison: 2 }, truncated: false });
    expect((await poisonTexts()).filter((t) => t.includes(DARIO))).toEqual([]);
  });

  it('refuses bad input on the new routes with a 4xx naming the problem, and changes nothing', async () => {
    await accepted({ id: 'carlo-1', name: 'profile:completed', payload: { fiscalCode: CARLO, servicePreferencesMode: 'MANUAL' } });
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const cases: [Answer, number, RegExp][] = [
      [await admin('DELETE', 'events'), 400, /^before: is required/],
      [await admin('DELETE', 'events?before=yesterday'), 400, /^before: must be an ISO 8601 time/],
      [await admin('DELETE', 'events?before=2024-13-45T99:00:00Z'), 400, /^before: must be an ISO 8601 time/],
      [await admin('DELETE', `events?before=${encodeURIComponent(future)}`), 400, /^before: must not be in the future/],
      [await admin('POST', 'erasure', {}), 400, /^fiscalCode: is required/],
      [await admin('POST', 'erasure', { fiscalCode: CARLO.toLowerCase() }), 400, /^fiscalCode: must be a fiscal code/],
      [await admin('POST', 'erasure', { fiscalCode: 7 }), 400, /^fiscalCode: must be a fiscal code/],
      [await call(baseUrl, 'POST', 'erasure', { key: ADMIN_KEY, raw: '{"fiscalCode":' }), 400, /^\(body\): is not valid JSON/],
    ];
    for (const [res, status, detail] of cases) {
      expect({ status: res.status, error: res.body?.error }).toEqual({ status, error: 'Invalid' });
      expect((res.body?.details as string[]).some((d) => detail.test(d))).toBe(true);
      expect(res.text.toUpperCase()).not.toContain(CARLO);
    }
    expect((await call(baseUrl, 'POST', 'erasure', { body: { fiscalCode: CARLO } })).status).toBe(401);
    expect((await call(baseUrl, 'DELETE', 'events?before=2024-01-01T00:00:00Z', { key: 'not-the-admin-key-0123456789' })).status).toBe(401);
    expect((await admin('GET', 'events/carlo-1')).status).toBe(200);
  });

  it('purges every kind of row received before the cutoff, finished orchestrations included', async () => {
    await webhook(receivers.url('ping-a', 'ok'), ['ping'], { name: 'ping-a' });
    await webhook(receivers.url('ping-b', 'ok'), ['ping'], { name: 'ping-b' });
    await accepted({ id: 'fanout-1', name: 'ping:all' });
    await waitUntil(
      'the orchestrated fan-out to complete and both deliveries to be logged',
      async () => {
        const view = await eventStatus(baseUrl, 'fanout-1');
        return view?.dispatch.status === 'Completed' && view.deliveries.length === 2 && view.deliveries.every((d) => d.state === 'delivered');
      },
      { timeoutMs: 60_000 },
    );
    const cutoff = new Date().toISOString();

    const purged = await admin('DELETE', `events?before=${encodeURIComponent(cutoff)}`);

    expect(purged.status).toBe(200);
    // bruno-1, carlo-1 and fanout-1 are left from the tests above; bruno-1's poison entry too.
    expect(purged.body).toEqual({ deleted: { events: 3, attempts: expect.any(Number), poison: 1 }, instances: 1, truncated: false });
    for (const id of ['bruno-1', 'carlo-1', 'fanout-1']) expect((await admin('GET', `events/${id}`)).status).toBe(404);
    expect(await rows(`${TAG}events`)).toEqual([]);
    expect(await rows(`${TAG}attempts`)).toEqual([]);
    // Only the backfill's marker row is left (its scan of events stored before the index is done).
    expect(await rows(`${TAG}privacy`)).toEqual([expect.objectContaining({ partitionKey: 'm|backfill', done: true })]);
    expect(await poisonTexts()).toEqual([]);
  });

  it('never printed a fiscal code: every line of the host, its Azurite and the function logs', () => {
    const lines = [...host.logs.map((l) => JSON.stringify(l)), ...host.rawOutput];
    expect(lines.length).toBeGreaterThan(50);
    expect(lines.filter((line) => CODES.some((code) => line.toUpperCase().includes(code)))).toEqual([]);
  });
});

describe('personal data: the retention timer (spawned host)', () => {
  let azurite: RunningAzurite;
  let host: SpawnedHost;

  beforeAll(async () => {
    azurite = await ownAzurite();
    // A row as the previous version wrote it (no index rows), received three days ago, there before the
    // new version starts: the backfill scans what was stored before it, then marks itself done.
    const events = TableClient.fromConnectionString(azurite.connectionString, 'retevents', { allowInsecureConnection: true });
    await events.createTable();
    const payload = JSON.stringify({ serviceId: 's1', fiscalCode: ANNA });
    await events.createEntity({
      partitionKey: 'old-1',
      rowKey: 'event',
      name: 'service:subscribed',
      receivedAt: new Date(Date.now() - 3 * 86_400_000).toISOString(),
      status: 'dispatched',
      payloadChunks: 1,
      payload0: payload,
    });
    host = await startApp(
      appSettings({
        storage: azurite.connectionString,
        tag: 'ret',
        // Every second, so the test need not wait for minute 5; one day of retention.
        extra: { PRIVACY_TABLE: 'retprivacy', RETENTION_SCHEDULE: '* * * * * *', RETENTION_DAYS: '1' },
      }),
    );
  });
  afterAll(async () => {
    await host?.stop('SIGKILL');
    await azurite?.stop();
  });

  it('purges an event older than RETENTION_DAYS, stored before the index existed, and keeps a fresh one', async () => {
    expect((await ingest(host.baseUrl, { id: 'fresh-1', name: 'service:subscribed', payload: { serviceId: 's1', fiscalCode: BRUNO } })).status).toBe(202);

    await waitUntil('a timer run to purge the old event', async () => (await call(host.baseUrl, 'GET', 'events/old-1', { key: ADMIN_KEY })).status === 404, { timeoutMs: 30_000 });
    // The run logs its counts when it ends, after the event row is gone.
    await waitUntil('the purge run to log its counts', () => host.logs.some((l) => l.message.startsWith('retention.purge') && /"events":1/.test(l.message)), { timeoutMs: 30_000 });
    expect((await call(host.baseUrl, 'GET', 'events/fresh-1', { key: ADMIN_KEY })).status).toBe(200);
    expect([...host.logs.map((l) => JSON.stringify(l)), ...host.rawOutput].filter((line) => CODES.some((code) => line.toUpperCase().includes(code)))).toEqual([]);
  });
});
