import { TableClient } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { withDeadStorage } from '../../../../local-host/testing/deadStorage';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import type { EventId } from '../../../domain/events';
import type { StoredEvent } from '../../../ports/eventStore';
import { tableEventStore } from '../tableEventStore';
import { ensuredTable } from '../tables';

const suffix = `${process.pid}${Date.now() % 100000}`;

describe('table event store: list (Azurite)', () => {
  const tableName = `evlist${suffix}`;
  const connectionString = storageConnectionString();
  const store = tableEventStore(ensuredTable({ connectionString, tableName }));
  const event = (id: string, receivedAt: string): StoredEvent => ({ id: id as EventId, name: 'ping', payload: { name: id }, receivedAt, status: 'accepted' });
  afterAll(async () => {
    await TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true }).deleteTable();
  });

  it('lists events received at or after the time, newest first, at most limit, whatever their id order', async () => {
    for (const e of [
      event('z-old', '2024-05-01T09:00:00.000Z'),
      event('a-newest', '2024-05-01T12:00:00.000Z'),
      event('m-mid', '2024-05-01T11:00:00.000Z'),
      event('b-edge', '2024-05-01T10:00:00.000Z'),
    ]) {
      expect(E.isRight(await store.add(e)())).toBe(true);
    }
    const all = await store.list({ limit: 10, receivedAfter: '2024-05-01T10:00:00.000Z', scanMax: 100 })();
    expect(E.map((es: StoredEvent[]) => es.map((e) => e.id))(all)).toEqual(E.right(['a-newest', 'm-mid', 'b-edge']));
    const two = await store.list({ limit: 2, receivedAfter: '2024-01-01T00:00:00.000Z', scanMax: 100 })();
    expect(E.map((es: StoredEvent[]) => es.map((e) => e.id))(two)).toEqual(E.right(['a-newest', 'm-mid']));
    expect(await store.list({ limit: 10, receivedAfter: '2024-05-02T00:00:00.000Z', scanMax: 100 })()).toEqual(E.right([]));
  });

  it('reads at most scanMax rows (the table has no time index)', async () => {
    const scanned = await store.list({ limit: 10, receivedAfter: '2024-01-01T00:00:00.000Z', scanMax: 2 })();
    expect(E.isRight(scanned) && scanned.right.length).toBe(2);
  });

  it('a corrupt row is Permanent; storage that does not answer is Transient', async () => {
    const raw = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
    await raw.createEntity({ partitionKey: 'corrupt', rowKey: 'event', name: 'no:such', receivedAt: '2030-01-01T00:00:00.000Z', status: 'accepted', payloadChunks: 1, payload0: '{}' });
    const corrupt = await store.list({ limit: 10, receivedAfter: '2029-01-01T00:00:00.000Z', scanMax: 100 })();
    expect(E.isLeft(corrupt) && corrupt.left.kind).toBe('Permanent');
    await withDeadStorage(async (deadConnection) => {
      const down = tableEventStore(ensuredTable({ connectionString: deadConnection, tableName }));
      const result = await down.list({ limit: 1, receivedAfter: '2024-01-01T00:00:00.000Z', scanMax: 10 })();
      expect(E.isLeft(result) && result.left.kind).toBe('Transient');
    });
  });
});
