import { TableClient } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import type { EventId } from '../../../domain/events';
import type { StoredEvent } from '../../../ports/eventStore';
import { sweepStrandedEvents } from '../../../usecases/sweepStrandedEvents';
import { tableEventStore } from '../tableEventStore';
import { ensuredTable } from '../tables';

/*
 * Events never answered 202 (a write that landed after its 503) are removed by the sweep, against
 * Azurite: only `accepted` ones older than the age, and not one a repeat post dispatched after the
 * sweep listed it (the ETag changed).
 */

const suffix = `${process.pid}${Date.now() % 100000}`;
const NOW = new Date('2024-05-01T12:00:00.000Z');

describe('table event store: stranded events (Azurite)', () => {
  const tableName = `evstranded${suffix}`;
  const connectionString = storageConnectionString();
  const store = tableEventStore(ensuredTable({ connectionString, tableName }));
  const event = (id: string, receivedAt: string): StoredEvent => ({ id: id as EventId, name: 'ping:all', payload: {}, receivedAt, status: 'accepted' });
  afterAll(async () => {
    await TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true }).deleteTable();
  });

  it('removes old accepted events, keeps recent and dispatched ones, and one dispatched after it was listed', async () => {
    for (const e of [
      event('old-stranded', '2024-05-01T11:00:00.000Z'),
      event('old-dispatched', '2024-05-01T11:00:00.000Z'),
      event('recent', '2024-05-01T11:55:00.000Z'),
      event('raced', '2024-05-01T11:01:00.000Z'),
    ]) {
      expect(E.isRight(await store.add(e)())).toBe(true);
    }
    expect(E.isRight(await store.markDispatched('old-dispatched' as EventId, { deliveries: 1, orchestrated: false })())).toBe(true);

    const listed = await store.listStranded({ receivedBefore: '2024-05-01T11:45:00.000Z', limit: 10 })();
    expect(E.map((es: { id: string }[]) => es.map((e) => e.id).sort())(listed)).toEqual(E.right(['old-stranded', 'raced']));
    // A repeat post dispatches `raced` between the listing and the removal.
    const raced = E.isRight(listed) ? listed.right.find((e) => e.id === 'raced') : undefined;
    expect(E.isRight(await store.markDispatched('raced' as EventId, { deliveries: 1, orchestrated: false })())).toBe(true);
    expect(raced && (await store.removeStranded(raced)())).toEqual(E.right('Changed'));

    const swept = await sweepStrandedEvents({ events: store, clock: { now: () => NOW }, strandedAfterSeconds: 900, limit: 10 })();
    expect(swept).toEqual(E.right({ removed: 1, changed: 0 }));
    const remaining = await Promise.all(['old-stranded', 'old-dispatched', 'recent', 'raced'].map(async (id) => [id, E.isRight(await store.get(id as EventId)())]));
    expect(Object.fromEntries(remaining)).toEqual({ 'old-stranded': false, 'old-dispatched': true, recent: true, raced: true });
  });
});
