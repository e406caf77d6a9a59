import { odata, RestError, TableClient } from '@azure/data-tables';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { expectRight as run } from '../../../__tests__/taskEither';
import type { EventId } from '../../../domain/events';
import { subjectHash } from '../../../domain/privacy';
import type { AttemptLogEntry } from '../../../ports/attemptLog';
import { memoryPoisonQueue } from '../../__tests__/memory/memoryPoisonQueue';
import { ingestEvent } from '../../../usecases/ingestEvent';
import { backfillPrivacyIndex } from '../../../usecases/backfillPrivacyIndex';
import { eraseSubject } from '../../../usecases/eraseSubject';
import { purgeEvents } from '../../../usecases/purgeEvents';
import { tableAttemptLog } from '../tableAttemptLog';
import { tableEventStore } from '../tableEventStore';
import { tablePrivacyIndex } from '../tablePrivacyIndex';
import { type EnsuredTable, ensuredTable } from '../tables';

/*
 * Retention and erasure on Azurite with the table adapters: every kind of row goes (the event, its
 * attempts in the event's and in the webhook's partition, the hour-bucket and subject index rows),
 * and the storage requests they cost are counted: per ingested event (added by the indexes) and per
 * deleted event. The numbers are printed for docs/privacy.md and bounded here.
 */

const suffix = `${process.pid}${Date.now() % 100000}`;
const connectionString = storageConnectionString();
const KEY = 'storage-test-subject-hash-key-0123456789';
const ANNA = 'RSSNNA80A41H501X';
const OLD = '2024-01-01T10:15:00.000Z';

/** Counts the requests a table client sends (after its table exists). */
const counted = (table: EnsuredTable): { table: EnsuredTable; count: () => number; reset: () => void } => {
  let n = 0;
  table.client.pipeline.addPolicy({ name: 'countRequests', sendRequest: (request, next) => ((n += 1), next(request)) });
  return { table, count: () => n, reset: () => void (n = 0) };
};

describe('retention and erasure on table storage (Azurite)', () => {
  const names = { events: `pevents${suffix}`, attempts: `pattempts${suffix}`, privacy: `pprivacy${suffix}` };
  const events = counted(ensuredTable({ connectionString, tableName: names.events }));
  const attempts = counted(ensuredTable({ connectionString, tableName: names.attempts }));
  const privacy = counted(ensuredTable({ connectionString, tableName: names.privacy }));
  const ports = { events: tableEventStore(events.table), attemptLog: tableAttemptLog(attempts.table), index: tablePrivacyIndex(privacy.table) };
  const all = [events, attempts, privacy];
  const requests = (): number => all.reduce((n, c) => n + c.count(), 0);
  const reset = (): void => all.forEach((c) => c.reset());
  const rowsOf = async (tableName: string): Promise<{ partitionKey?: string; rowKey?: string }[]> => {
    const rows: { partitionKey?: string; rowKey?: string }[] = [];
    for await (const row of TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true }).listEntities()) rows.push(row);
    return rows;
  };
  const ingestAt = (time: string) =>
    ingestEvent({ events: ports.events, clock: { now: () => new Date(time) }, newEventId: () => 'unused' as EventId, privacy: { index: ports.index, subjectHashKey: KEY } });
  const attempt = (eventId: string, n: number, decision: AttemptLogEntry['decision']): AttemptLogEntry => ({
    eventId,
    deliveryId: `d-${eventId}`,
    webhookId: `w-${eventId}`,
    attempt: n,
    at: new Date(Date.parse(OLD) + n * 1000).toISOString(),
    decision,
  });

  beforeAll(async () => {
    await Promise.all(all.map((c) => c.table.ready()));
  });
  afterAll(async () => {
    await Promise.all(all.map((c) => c.table.client.deleteTable()));
  });

  it('purges every kind of row, at a counted cost per event', async () => {
    const ingest = ingestAt(OLD);
    reset();
    await run(ingest({ id: 'plain-1', name: 'ping', payload: { name: 'x' } }));
    const plainIngest = requests();
    reset();
    await run(ingest({ id: 'person-1', name: 'service:subscribed', payload: { serviceId: 's1', fiscalCode: ANNA } }));
    const personalIngest = requests();
    // A retry that went through and a first-try success: rows in the event's and the webhook's partitions.
    await run(ports.attemptLog.record([attempt('person-1', 1, 'RetryLater'), attempt('person-1', 2, 'Delivered'), attempt('plain-1', 1, 'Delivered')]));
    // An event's rows written together share one of its shards (`event|<id>!<8 hex>`).
    const attemptPartitions = (await rowsOf(names.attempts)).map((r) => String(r.partitionKey).replace(/![0-9a-f]{8}$/, '!<shard>')).sort();
    expect(attemptPartitions).toEqual(['event|person-1!<shard>', 'event|person-1!<shard>', 'event|plain-1!<shard>', 'webhook|w-person-1', 'webhook|w-person-1']);

    reset();
    const report = await run(purgeEvents({ ...ports, subjectHashKey: KEY, poison: memoryPoisonQueue(), maxEvents: 100, maxPoisonMessages: 10 })(new Date('2024-02-01T00:00:00.000Z')));
    const purgeRequests = requests();

    expect(report).toEqual({ deleted: { events: 2, attempts: 3, poison: 0 }, instances: 0, truncated: false });
    expect(await rowsOf(names.events)).toEqual([]);
    expect(await rowsOf(names.attempts)).toEqual([]);
    expect(await rowsOf(names.privacy)).toEqual([]);
    console.log(
      `storage requests: ingest adds ${plainIngest - 1} (no personal data) / ${personalIngest - 1} (a fiscal code); purge of 2 events with 3 attempts (2 webhook copies): ${purgeRequests} = ${purgeRequests / 2} per event`,
    );
    // Ingest: the event row plus one bucket row, plus one subject row per fiscal code.
    expect([plainIngest, personalIngest]).toEqual([2, 3]);
    // 11: the bucket query, then per event its delete, the attempts query and deletes, one bucket
    // delete (where the walk found the row) and the subject delete of the personal one.
    expect(purgeRequests).toBeLessThanOrEqual(11);
  });

  it('erases one person by the index, without a scan, and leaves the others', async () => {
    await run(ingestAt(OLD)({ id: 'anna-1', name: 'service:subscribed', payload: { serviceId: 's1', fiscalCode: ANNA } }));
    await run(ingestAt(OLD)({ id: 'other-1', name: 'service:subscribed', payload: { serviceId: 's1', fiscalCode: 'BRNBRN70B12F205Z' } }));
    await run(ports.attemptLog.record([attempt('anna-1', 1, 'RetryLater')]));
    reset();
    const report = await run(eraseSubject({ ...ports, subjectHashKey: KEY, poison: memoryPoisonQueue(), maxEvents: 100, maxPoisonMessages: 10 })({ fiscalCode: ANNA }));
    const eraseRequests = requests();
    expect(report).toEqual({ deleted: { events: 1, attempts: 1, poison: 0 }, truncated: false });
    expect((await rowsOf(names.events)).map((r) => r.partitionKey)).toEqual(['other-1']);
    expect(await rowsOf(names.attempts)).toEqual([]);
    expect((await rowsOf(names.privacy)).map((r) => r.rowKey)).toEqual(['other-1', 'other-1']);
    console.log(`storage requests: erasure of 1 event with 1 retried attempt: ${eraseRequests}`);
    // 13: from the event's time the bucket row may sit in either shard of its second or in one of
    // the three older layouts (hour, hour shard, either shard of the minute): five of the deletes are
    // 404s (free on Azure's price list).
    expect(eraseRequests).toBeLessThanOrEqual(13);
  });

  it('writes the bucket rows of concurrent ingests together: one second, one partition, the first row at once and the rest in one transaction', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `minute-${i}`);
    reset();
    await Promise.all(ids.map((id) => run(ingestAt(OLD)({ id, name: 'ping', payload: { name: 'x' } }))));
    const privacyRequests = privacy.count();
    const rows = (await rowsOf(names.privacy)).filter((r) => ids.includes(r.rowKey ?? ''));
    expect(rows.map((r) => r.rowKey).sort()).toEqual([...ids].sort());
    // The second the events were received (10:15:00), its first shard: 40 rows leave room in its next transaction.
    expect([...new Set(rows.map((r) => r.partitionKey))]).toEqual(['t|20240101101500|0']);
    console.log(`storage requests: bucket rows of 40 concurrent ingests: ${privacyRequests}`);
    expect(privacyRequests).toBe(2);
    await run(purgeEvents({ ...ports, subjectHashKey: KEY, poison: memoryPoisonQueue(), maxEvents: 100, maxPoisonMessages: 10 })(new Date('2024-02-01T00:00:00.000Z')));
    expect(await rowsOf(names.privacy)).toEqual([]);
  });

  it('spills a burst into the second shard once the first holds a transaction of rows not yet stored, and forgets a row in either', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
    const index = tablePrivacyIndex(privacy.table);
    await Promise.all(ids.map((eventId) => run(index.record({ eventId: eventId as EventId, receivedAt: OLD, subjectHashes: [] }))));
    const partitionOf = new Map((await rowsOf(names.privacy)).filter((r) => r.rowKey?.startsWith('burst-')).map((r) => [r.rowKey, r.partitionKey]));
    // One row written at once and 99 waiting fill shard 0; the other 50 arrive while they are unsettled.
    expect(ids.map((id) => partitionOf.get(id))).toEqual(ids.map((_, i) => (i < 100 ? 't|20240101101500|0' : 't|20240101101500|1')));
    // From the time alone (an erasure's path), both shards are tried.
    await run(index.forget({ eventId: 'burst-149' as EventId, receivedAt: [OLD], buckets: [], subjectHashes: [] }));
    await run(index.forget({ eventId: 'burst-000' as EventId, receivedAt: [OLD], buckets: [], subjectHashes: [] }));
    const left = (await rowsOf(names.privacy)).filter((r) => r.rowKey?.startsWith('burst-')).map((r) => r.rowKey);
    expect(left).toHaveLength(148);
    expect(left).not.toContain('burst-149');
    expect(left).not.toContain('burst-000');
    await run(purgeEvents({ ...ports, subjectHashKey: KEY, poison: memoryPoisonQueue(), maxEvents: 200, maxPoisonMessages: 10 })(new Date('2024-02-01T00:00:00.000Z')));
    expect(await rowsOf(names.privacy)).toEqual([]);
  });

  it('ingest stores each bucket row before its event row, and stores no event when its row cannot be written', async () => {
    const guarded = ensuredTable({ connectionString, tableName: `pguard${suffix}` });
    const index = tablePrivacyIndex(privacy.table);
    const reader = TableClient.fromConnectionString(connectionString, names.privacy, { allowInsecureConnection: true });
    const early: string[] = [];
    // When an event row is sent, its bucket row must already be stored.
    guarded.client.pipeline.addPolicy({
      name: 'bucketRowFirst',
      sendRequest: async (request, next) => {
        if (request.method === 'POST' && typeof request.body === 'string') {
          const id = (JSON.parse(request.body) as { PartitionKey?: unknown }).PartitionKey;
          if (typeof id !== 'string') return next(request); // the table's creation
          const found = [];
          for await (const row of reader.listEntities({ queryOptions: { filter: odata`RowKey eq ${id} and PartitionKey ge 't|' and PartitionKey lt 't~'` } })) found.push(row);
          if (found.length === 0) early.push(id);
        }
        return next(request);
      },
    });
    let failing = false;
    privacy.table.client.pipeline.addPolicy({
      name: 'failWrites',
      sendRequest: (request, next) => (failing && request.method !== 'GET' ? Promise.reject(new RestError('injected', { statusCode: 503 })) : next(request)),
    });
    const ingest = ingestEvent({ events: tableEventStore(guarded), clock: { now: () => new Date(OLD) }, newEventId: () => 'unused' as EventId, privacy: { index, subjectHashKey: KEY } });
    try {
      const ids = Array.from({ length: 12 }, (_, i) => `first-${i}`);
      await Promise.all(ids.map((id) => run(ingest({ id, name: 'ping', payload: { name: 'x' } }))));
      expect(early).toEqual([]);
      failing = true;
      const refused = await Promise.all(['down-1', 'down-2', 'down-3'].map((id) => ingest({ id, name: 'ping', payload: { name: 'x' } })()));
      failing = false;
      expect(refused.map((r) => r._tag)).toEqual(['Left', 'Left', 'Left']);
      // Nothing of theirs stored; and the partition's next rows are written as before.
      expect((await rowsOf(guarded.client.tableName)).map((r) => r.partitionKey).filter((id) => id?.startsWith('down-'))).toEqual([]);
      await run(ingest({ id: 'down-1', name: 'ping', payload: { name: 'x' } }));
      expect((await rowsOf(guarded.client.tableName)).map((r) => r.partitionKey)).toContain('down-1');
    } finally {
      failing = false;
      await guarded.client.deleteTable();
    }
  });

  it('purges and erases bucket rows of the second layout and of the three older layouts (hour, 64 hour shards, minute shards)', async () => {
    // The older layouts as the code before wrote them: `t|YYYYMMDDHH` and `t|YYYYMMDDHH|<hash of the id % 64>`.
    const legacyShard = (id: string): string => {
      let h = 0;
      for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
      return String(h % 64).padStart(2, '0');
    };
    const annaHash = subjectHash({ key: KEY, subject: ANNA });
    const store = async (id: string, partitionKey: string | undefined, personal: boolean): Promise<void> => {
      const payload = personal ? { serviceId: 's1', fiscalCode: ANNA } : { name: 'x' };
      const name = personal ? 'service:subscribed' : 'ping';
      if (partitionKey === undefined) {
        await run(ingestAt(OLD)({ id, name, payload }));
        return;
      }
      await run(ports.events.add({ id: id as EventId, name, payload, receivedAt: OLD, status: 'accepted' }));
      await privacy.table.client.upsertEntity({ partitionKey, rowKey: id, subjects: personal ? annaHash : '' }, 'Replace');
      if (personal) await privacy.table.client.upsertEntity({ partitionKey: `s|${annaHash}`, rowKey: id }, 'Replace');
    };
    const layouts = (prefix: string, personal: boolean) =>
      Promise.all([
        store(`${prefix}-hour`, 't|2024010110', personal),
        store(`${prefix}-shard`, `t|2024010110|${legacyShard(`${prefix}-shard`)}`, personal),
        store(`${prefix}-minute`, 't|202401011015|1', personal),
        store(`${prefix}-second`, undefined, personal),
      ]);
    await layouts('erase', true);
    const bucketsOf = async (prefix: string) => (await rowsOf(names.privacy)).filter((r) => r.rowKey?.startsWith(prefix)).map((r) => r.partitionKey?.replace(/\|[0-9a-f]{64}$/, '|<hash>'));
    expect((await bucketsOf('erase-')).map((p) => p?.replace(/^t\|20240101101500\|[01]$/, 't|20240101101500|<shard>')).sort()).toEqual(
      ['t|2024010110', `t|2024010110|${legacyShard('erase-shard')}`, 't|202401011015|1', 't|20240101101500|<shard>', ...Array(4).fill('s|<hash>')].sort(),
    );
    const erased = await run(eraseSubject({ ...ports, subjectHashKey: KEY, poison: memoryPoisonQueue(), maxEvents: 100, maxPoisonMessages: 10 })({ fiscalCode: ANNA }));
    expect(erased.deleted.events).toBe(4);
    expect(await bucketsOf('erase-')).toEqual([]);

    await layouts('purge', false);
    expect(await bucketsOf('purge-')).toHaveLength(4);
    const purged = await run(purgeEvents({ ...ports, subjectHashKey: KEY, poison: memoryPoisonQueue(), maxEvents: 100, maxPoisonMessages: 10 })(new Date('2024-02-01T00:00:00.000Z')));
    expect(purged.deleted.events).toBeGreaterThanOrEqual(4);
    expect(await rowsOf(names.privacy)).toEqual([]);
    expect((await rowsOf(names.events)).filter((r) => r.partitionKey?.startsWith('purge-'))).toEqual([]);
  });

  it('indexes events stored before the index, a page per call, resuming from the marker row', async () => {
    for (const id of ['legacy-1', 'legacy-2', 'legacy-3']) {
      await run(ports.events.add({ id: id as EventId, name: 'service:subscribed', payload: { serviceId: 's1', fiscalCode: ANNA }, receivedAt: OLD, status: 'accepted' }));
    }
    const stored = (await rowsOf(names.events)).length;
    const step = () => run(backfillPrivacyIndex({ events: ports.events, index: ports.index, subjectHashKey: KEY, maxEvents: 2 }));
    const steps: { indexed: number; done: boolean }[] = [];
    do steps.push(await step());
    while (!steps[steps.length - 1]?.done && steps.length < 10);
    expect(steps.reduce((n, s) => n + s.indexed, 0)).toBe(stored);
    // Pages of 2: the scan took more than one call, each going on where the marker said.
    expect(steps.length).toBeGreaterThanOrEqual(Math.ceil(stored / 2));
    expect(await step()).toEqual({ indexed: 0, done: true });
    const report = await run(eraseSubject({ ...ports, subjectHashKey: KEY, poison: memoryPoisonQueue(), maxEvents: 100, maxPoisonMessages: 10 })({ fiscalCode: ANNA }));
    expect(report.deleted.events).toBe(3);
  });
});
