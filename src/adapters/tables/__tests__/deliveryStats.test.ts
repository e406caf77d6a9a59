import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { expectRight as run } from '../../../__tests__/taskEither';
import type { StatsObservation } from '../../../domain/deliveryStats';
import { tableDeliveryStats, WRITE_INTERVAL_SECONDS } from '../tableDeliveryStats';
import { type EnsuredTable, ensuredTable } from '../tables';

/*
 * The stats counters against Azurite: rows per webhook, hour and writer summed on read; one write
 * per webhook per message at most, and a busy webhook's row written by the timer, not per message.
 */

const table = ensuredTable({ connectionString: storageConnectionString(), tableName: `stats${process.pid}${Date.now() % 100000}` });

/** The table with its upserts counted: the cost the delivery worker pays. */
const counted = (): { table: EnsuredTable; writes: () => number } => {
  let writes = 0;
  const client = table.client;
  const wrapped = new Proxy(client, {
    get: (target, prop, receiver) =>
      prop === 'upsertEntity'
        ? (...args: Parameters<typeof client.upsertEntity>) => {
            writes++;
            return target.upsertEntity(...args);
          }
        : (Reflect.get(target, prop, receiver) as unknown),
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
    // One message, two webhooks: two writes, not four.
    expect(a.writes()).toBe(2);
    await run(statsB.record([obs('W1', 'Poisoned')]));
    expect(await run(statsA.read({ webhookId: 'W1', since }))).toMatchObject({ delivered: 2, retrying: 1, poisoned: 1 });
    expect(await run(statsA.read({ webhookId: 'W2', since }))).toMatchObject({ delivered: 1, retrying: 0, poisoned: 0 });
    expect(await run(statsA.read({ webhookId: 'W3', since }))).toMatchObject({ delivered: 0 });
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
