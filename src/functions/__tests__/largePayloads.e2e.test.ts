import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlobServiceClient } from '@azure/storage-blob';
import type { RunningAzurite } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import { ADMIN_KEY, appSettings, call, INGEST_KEY, ownAzurite, startApp, waitUntil } from '../../__tests__/faults/harness';

/*
 * Large payloads through the real host (docs/delivery.md, "Large payloads"): a 512 KB event fanned
 * out to 10 webhooks reaches each of them whole, from one blob; the body limit is the setting; the
 * purge and an erasure delete the blobs with their events.
 */

const CONTAINER = 'lp-payloads';
const FISCAL_CODE = 'RSSNNA80A41H501X';

/** A receiver that keeps, per webhook name, the SHA-256 and length of each `data` it got (not the data). */
const startDataReceiver = async () => {
  const got = new Map<string, { sha: string; length: number; id: string }[]>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const name = (req.url ?? '/').slice(1);
      const data = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payload: { data?: string } }).payload.data ?? '';
      got.set(name, [...(got.get(name) ?? []), { sha: createHash('sha256').update(data).digest('hex'), length: data.length, id: String(req.headers['webhook-id']) }]);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { got, url: (name: string) => `${base}/${name}`, close: () => new Promise<void>((r) => server.close(() => r())) };
};

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('large payloads (spawned host)', () => {
  let azurite: RunningAzurite;
  let host: SpawnedHost;
  let receiver: Awaited<ReturnType<typeof startDataReceiver>>;
  const blobsOf = async (eventId: string): Promise<string[]> => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(CONTAINER);
    if (!(await container.exists())) return [];
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: `${eventId}/` })) names.push(blob.name);
    return names;
  };

  beforeAll(async () => {
    azurite = await ownAzurite();
    receiver = await startDataReceiver();
    host = await startApp(
      appSettings({ storage: azurite.connectionString, tag: 'lp', extra: { MAX_EVENT_BODY_BYTES: String(1024 * 1024), PAYLOADS_CONTAINER: CONTAINER, PRIVACY_TABLE: 'lpprivacy' } }),
    );
    for (let i = 0; i < 10; i++) {
      const res = await call(host.baseUrl, 'POST', 'webhooks', {
        key: ADMIN_KEY,
        body: { url: receiver.url(`big${i}`), subscriptions: ['ping', 'service:subscribed'], attributes: { name: 'big', serviceId: 'svc-big' } },
      });
      expect(res.status).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    await host?.stop();
    await receiver?.close();
    await azurite?.stop();
  });

  it('a 512 KB event fanned out to 10 webhooks: one blob, and each webhook receives the data whole, once', async () => {
    const data = 'd'.repeat(512 * 1024);
    const posted = await call(host.baseUrl, 'POST', 'events', { key: INGEST_KEY, body: { id: 'big-512', name: 'ping', payload: { name: 'big', data } } });
    expect(posted.status).toBe(202);
    expect(await blobsOf('big-512')).toHaveLength(1);
    const all = () => [...receiver.got.values()].flat();
    await waitUntil('10 deliveries of the 512 KB event', () => all().length >= 10, { timeoutMs: 60_000, state: () => all().length });
    expect([...receiver.got.keys()].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `big${i}`).sort());
    expect(all().every((d) => d.length === data.length && d.sha === sha(data))).toBe(true);
    expect(new Set(all().map((d) => d.id)).size).toBe(10);
  });

  it('MAX_EVENT_BODY_BYTES is the limit: 1 MB is accepted, one byte more is 413 and stores nothing', async () => {
    const envelope = (data: string) => JSON.stringify({ id: 'big-1mb', name: 'ping', payload: { name: 'nobody', data } });
    const fill = 1024 * 1024 - envelope('').length;
    const over = await call(host.baseUrl, 'POST', 'events', { key: INGEST_KEY, raw: envelope('o'.repeat(fill + 1)) });
    expect(over.status).toBe(413);
    expect(over.text).toContain('1048576');
    expect((await call(host.baseUrl, 'GET', 'events/big-1mb', { key: ADMIN_KEY })).status).toBe(404);
    expect(await blobsOf('big-1mb')).toEqual([]);
    const exact = await call(host.baseUrl, 'POST', 'events', { key: INGEST_KEY, raw: envelope('o'.repeat(fill)) });
    expect(exact.status).toBe(202);
    expect(await blobsOf('big-1mb')).toHaveLength(1);
  });

  it("an erasure deletes the blob of the person's event; the purge deletes the others", async () => {
    const data = 'p'.repeat(100 * 1024);
    const posted = await call(host.baseUrl, 'POST', 'events', {
      key: INGEST_KEY,
      body: { id: 'big-person', name: 'service:subscribed', payload: { serviceId: 'svc-big', fiscalCode: FISCAL_CODE, data } },
    });
    expect(posted.status).toBe(202);
    expect(await blobsOf('big-person')).toHaveLength(1);
    const erased = await call(host.baseUrl, 'POST', 'erasure', { key: ADMIN_KEY, body: { fiscalCode: FISCAL_CODE } });
    expect(erased.status).toBe(200);
    expect(await blobsOf('big-person')).toEqual([]);
    expect(await blobsOf('big-512')).toHaveLength(1);

    const purged = await call(host.baseUrl, 'DELETE', `events?before=${encodeURIComponent(new Date().toISOString())}`, { key: ADMIN_KEY });
    expect(purged.status).toBe(200);
    expect(await blobsOf('big-512')).toEqual([]);
    expect(await blobsOf('big-1mb')).toEqual([]);
  });
});
