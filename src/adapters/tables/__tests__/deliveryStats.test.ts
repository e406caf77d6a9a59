import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { expectRight as run } from '../../../__tests__/taskEither';
import type { StatsObservation } from '../../../domain/deliveryStats';
import { tableDeliveryStats, WRITE_INTERVAL_SECONDS } from '../tableDeliveryStats';
import { type EnsuredTable, ensuredTable } from '../tables';

/*
 * The stats counters against Azurite: rows per webhook, hour and writer summed on read; the rows of
 * many webhooks written together (100 to a transaction per day partition), at most one flush per
 * interval, later messages reaching storage through the timer.
 */

const table = ensuredTable({ connectionString: storageConnectionString(), tableName: `stats${process.pid}${Date.now() % 100000}` });

/** The table with its writes (upserts and transactions) counted: the cost the delivery worker pays. */
const counted = (): { table: EnsuredTable; writes: () => number } => {
  let writes = 0;
  const client = table.client;
  const wrapped = new Proxy(client, {
    get: (target, prop, receiver) => {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if ((prop !== 'upsertEntity' && prop !== 'submitTransaction') || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        writes++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { table: { client: wrapped, ready: async () => (await table.ready(), wrapped) }, writes: () => writes };
};

const AT = new Date().toISOString();
const obs = (webhookId: string, outcome: StatsObservation['outcome'], latencyMs = 40): StatsObservation => ({ webhookId, at: AT, outcome, latencyMs });
const since = new Date(Date.now() - 3_600_000);

const until = async <A>(what: string, probe: () => Promise<A | undefined>): Promise<A> => {
  const deadline = Date.now() + (WRITE_INTERVAL_SECONDS + 10) * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('tableDeliveryStats', () => {
  it('sums the rows of every writer for one webhook; another webhook is another partition', async () => {
    const a = counted();
    const statsA = tableDeliveryStats(a.table, { writerId: 'a' });
    const statsB = tableDeliveryStats(table, { writerId: 'b' });
    await run(statsA.record([obs('W1', 'Delivered'), obs('W1', 'RetryLater', 3000), obs('W2', 'Delivered'), obs('W1', 'Delivered')]));
    // One message, two webhooks: one write each at most, not one per attempt.
    expect(a.writes()).toBeLessThanOrEqual(2);
    await run(statsB.record([obs('W1', 'Poisoned')]));
    expect(await run(statsA.read({ webhookId: 'W1', since }))).toMatchObject({ delivered: 2, retrying: 1, poisoned: 1 });
    expect(await run(statsA.read({ webhookId: 'W2', since }))).toMatchObject({ delivered: 1, retrying: 0, poisoned: 0 });
    expect(await run(statsA.read({ webhookId: 'W3', since }))).toMatchObject({ delivered: 0 });
  });

  it('a message to 1000 webhooks is written in about ten transactions, not 1000 upserts, and every count reads back', async () => {
    const c = counted();
    const stats = tableDeliveryStats(c.table, { writerId: 'wide' });
    const ids = Array.from({ length: 1000 }, (_, i) => `WIDE${String(i).padStart(4, '0')}`);
    await run(stats.record(ids.map((id) => obs(id, 'Delivered'))));
    // 16 shard partitions of about 62 rows: one transaction each (a day boundary could double it).
    expect(c.writes()).toBeLessThanOrEqual(32);
    const read = await Promise.all(['WIDE0000', 'WIDE0457', 'WIDE0999'].map((id) => run(stats.read({ webhookId: id, since }))));
    expect(read.map((r) => r.delivered)).toEqual([1, 1, 1]);
  });

  it('reads rows written before the day partitions (one partition per webhook) together with the new ones', async () => {
    const hour = AT.slice(0, 13);
    await (
      await table.ready()
    ).upsertEntity({ partitionKey: 'OLD1', rowKey: `${hour}|legacy`, delivered: 3, retrying: 1, poisoned: 0, latency: '[]', lastSuccessAt: '', lastFailureAt: '' }, 'Replace');
    const stats = tableDeliveryStats(table, { writerId: 'new' });
    await run(stats.record([obs('OLD1', 'Delivered')]));
    expect(await run(stats.read({ webhookId: 'OLD1', since }))).toMatchObject({ delivered: 4, retrying: 1 });
  });

  it('a busy webhook is written at most once per interval: later messages reach storage through the timer', async () => {
    const c = counted();
    const stats = tableDeliveryStats(c.table, { writerId: 'busy' });
    await run(stats.record([obs('W9', 'Delivered')]));
    for (let i = 0; i < 10; i++) await run(stats.record([obs('W9', 'Delivered')]));
    expect(c.writes()).toBe(1);
    expect((await run(stats.read({ webhookId: 'W9', since }))).delivered).toBe(1);
    await until('the timer to write the busy row', async () => ((await run(stats.read({ webhookId: 'W9', since }))).delivered === 11 ? true : undefined));
    expect(c.writes()).toBe(2);
  });
});
