import { BlobServiceClient } from '@azure/storage-blob';
import { TableClient } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { withDeadStorage } from '../../../../local-host/testing/deadStorage';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { expectRight as run } from '../../../__tests__/taskEither';
import { claimCheckOf, ROW_PAYLOAD_MAX_CHARS } from '../../../domain/claimCheck';
import type { EventId } from '../../../domain/events';
import type { StoredEvent } from '../../../ports/eventStore';
import { EVENT_ROW_KEY, tableEventStore } from '../../tables/tableEventStore';
import { ensuredTable } from '../../tables/tables';
import { blobPayloadStore } from '../blobPayloadStore';

/*
 * The event store with its claim-check blobs, on Azurite: which payloads go to a blob, which rows
 * keep them too, and that removing an event (the purge, an erasure) deletes its blobs.
 */

const suffix = `${process.pid}${Date.now() % 100_000}`;
const containerName = `payloads-${suffix}`;
const tableName = `evblob${suffix}`;
const connectionString = storageConnectionString();
const payloads = blobPayloadStore({ connectionString, containerName, timeoutMs: 5_000 });
const store = tableEventStore(ensuredTable({ connectionString, tableName, timeoutMs: 5_000 }), { payloads });
const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(containerName);
const table = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });

const blobNames = async (): Promise<string[]> => {
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat()) names.push(blob.name);
  return names.sort();
};
const event = (id: string, data: string): StoredEvent => ({ id: id as EventId, name: 'ping', payload: { name: 'wh1', data }, receivedAt: '2026-12-05T10:00:00.000Z', status: 'accepted' });

beforeAll(async () => {
  await container.createIfNotExists();
});
afterAll(async () => {
  await container.deleteIfExists();
  await table.deleteTable().catch(() => undefined);
});

describe('tableEventStore with payload blobs', () => {
  it('a small payload: the row only, no blob', async () => {
    const small = event('evt-small', 'tiny');
    expect(await run(store.add(small))).toEqual({ kind: 'Added' });
    expect(await run(store.get(small.id))).toEqual(small);
    expect((await blobNames()).filter((n) => n.startsWith('evt-small/'))).toEqual([]);
  });

  it('a large payload that fits the row: one blob named by its hash, and the row keeps it too', async () => {
    const large = event('evt-large', 'é'.repeat(100_000));
    expect(await run(store.add(large))).toEqual({ kind: 'Added' });
    const ref = claimCheckOf(large.payload)?.ref;
    expect((await blobNames()).filter((n) => n.startsWith('evt-large/'))).toEqual([`evt-large/${ref}.json`]);
    const row = await table.getEntity<Record<string, unknown>>('evt-large', EVENT_ROW_KEY);
    expect(row.payloadRef).toBeUndefined();
    expect(await run(store.get(large.id))).toEqual(large);
    // A repeat writes the same blob again, not a second one.
    expect(await run(store.add(large))).toEqual({ kind: 'AlreadyExists', existing: large });
    expect((await blobNames()).filter((n) => n.startsWith('evt-large/'))).toHaveLength(1);
  });

  it('a payload the row cannot hold (1 MB entity, UTF-16): in the blob only, read back whole by get and list', async () => {
    const huge = event('evt-huge', 'a'.repeat(ROW_PAYLOAD_MAX_CHARS + 10));
    expect(await run(store.add(huge))).toEqual({ kind: 'Added' });
    const row = await table.getEntity<Record<string, unknown>>('evt-huge', EVENT_ROW_KEY);
    expect(row.payloadRef).toBe(claimCheckOf(huge.payload)?.ref);
    expect(row.payload0).toBeUndefined();
    expect(await run(store.get(huge.id))).toEqual(huge);
    const listed = await run(store.list({ limit: 10, receivedAfter: '2026-01-01T00:00:00.000Z', scanMax: 100 }));
    expect(listed.find((e) => e.id === huge.id)).toEqual(huge);
  });

  it('remove (the purge, an erasure) deletes the blobs with the row; the event is gone', async () => {
    expect(await run(store.remove('evt-huge' as EventId))).toBe(true);
    expect(await run(store.remove('evt-large' as EventId))).toBe(true);
    expect((await blobNames()).filter((n) => n.startsWith('evt-huge/') || n.startsWith('evt-large/'))).toEqual([]);
    expect(await store.get('evt-huge' as EventId)()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
  });

  it('blob service down: adding a large event fails Transient and stores no row; a small one does not need it', async () => {
    await withDeadStorage(async (deadConnection) => {
      const down = blobPayloadStore({ connectionString: deadConnection, containerName, timeoutMs: 2_000 });
      const withDownBlobs = tableEventStore(ensuredTable({ connectionString, tableName, timeoutMs: 5_000 }), { payloads: down });
      const result = await withDownBlobs.add(event('evt-down', 'b'.repeat(40_000)))();
      expect(E.isLeft(result) && result.left.kind).toBe('Transient');
      await expect(table.getEntity('evt-down', EVENT_ROW_KEY)).rejects.toMatchObject({ statusCode: 404 });
      expect(await run(withDownBlobs.add(event('evt-up', 'small')))).toEqual({ kind: 'Added' });
    });
  });
});
