import { TableClient } from '@azure/data-tables';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { expectRight as run } from '../../../__tests__/taskEither';
import type { EventId } from '../../../domain/events';
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
    expect((await rowsOf(names.attempts)).map((r) => r.partitionKey).sort()).toEqual(['event|person-1', 'event|person-1', 'event|plain-1', 'webhook|w-person-1', 'webhook|w-person-1']);

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
    // 13: one more than before the bucket shards, the delete of a bucket row written before them
    // (each hour is tried in both places; a 404, and deletes are free on Azure's price list).
    expect(purgeRequests).toBeLessThanOrEqual(13);
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
    expect(eraseRequests).toBeLessThanOrEqual(9);
  });

  it('spreads one hour of bucket rows over shard partitions, and still purges a row written before the shards', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `shard-${i}`);
    for (const id of ids) await run(ingestAt(OLD)({ id, name: 'ping', payload: { name: 'x' } }));
    // A bucket row as the code before the shards wrote it, for an event stored then.
    await run(ports.events.add({ id: 'legacy-bucket' as EventId, name: 'ping', payload: { name: 'x' }, receivedAt: OLD, status: 'accepted' }));
    await privacy.table.client.upsertEntity({ partitionKey: 't|2024010110', rowKey: 'legacy-bucket', subjects: '' }, 'Replace');
    const partitions = new Set((await rowsOf(names.privacy)).map((r) => r.partitionKey));
    // 40 events of one hour: far more than one partition (64 shards), none holding them all.
    expect(partitions.size).toBeGreaterThan(10);
    const report = await run(purgeEvents({ ...ports, subjectHashKey: KEY, poison: memoryPoisonQueue(), maxEvents: 100, maxPoisonMessages: 10 })(new Date('2024-02-01T00:00:00.000Z')));
    // The 41 and whatever the tests before left (another person's event of the erasure test).
    expect(report.deleted.events).toBeGreaterThanOrEqual(41);
    expect(await rowsOf(names.privacy)).toEqual([]);
    expect(await rowsOf(names.events)).toEqual([]);
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
