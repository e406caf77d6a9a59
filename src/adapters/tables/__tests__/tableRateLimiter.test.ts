import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { expectRight as run } from '../../../__tests__/taskEither';
import { tableRateLimiter } from '../tableRateLimiter';
import { type EnsuredTable, ensuredTable } from '../tables';

/*
 * The shared slot row against Azurite: instances reserving at the same time never share a slot
 * (the ETag serializes them), and an instance that wrote last reserves with one write, no read.
 */

const table = ensuredTable({ connectionString: storageConnectionString(), tableName: `ratelimits${process.pid}${Date.now() % 100000}` });

/** The table with its calls counted by name. */
const counted = (): { table: EnsuredTable; calls: Map<string, number> } => {
  const calls = new Map<string, number>();
  const client = table.client;
  const wrapped = new Proxy(client, {
    get: (target, prop, receiver) => {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || !['getEntity', 'createEntity', 'updateEntity'].includes(String(prop))) return value;
      return (...args: unknown[]) => {
        calls.set(String(prop), (calls.get(String(prop)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { table: { client: wrapped, ready: async () => (await table.ready(), wrapped) }, calls };
};

afterAll(async () => {
  await table.client.deleteTable().catch(() => undefined);
});

describe('tableRateLimiter', () => {
  it('two instances reserving at once get distinct slots, 1000/rate ms apart', async () => {
    const webhookId = `wh${Date.now()}`;
    const a = tableRateLimiter(table);
    const b = tableRateLimiter(table);
    const now = new Date();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => run((i % 2 === 0 ? a : b).reserve({ webhookId, ratePerSecond: 20, count: 3, now }))));
    const slots = results.flat().sort((x, y) => x - y);
    expect(slots).toHaveLength(60);
    for (let i = 1; i < slots.length; i++) expect((slots[i] as number) - (slots[i - 1] as number)).toBeCloseTo(50, 6);
    expect(slots[0]).toBe(now.getTime());
  });

  it('an instance whose own write is the latest reserves with one conditional write and no read', async () => {
    const webhookId = `wh${Date.now()}b`;
    const { table: countedTable, calls } = counted();
    const limiter = tableRateLimiter(countedTable);
    await run(limiter.reserve({ webhookId, ratePerSecond: 5, count: 1, now: new Date() }));
    expect(Object.fromEntries(calls)).toEqual({ getEntity: 1, createEntity: 1 });
    calls.clear();
    const slots = await run(limiter.reserve({ webhookId, ratePerSecond: 5, count: 2, now: new Date(0) }));
    expect(Object.fromEntries(calls)).toEqual({ updateEntity: 1 });
    expect(slots).toHaveLength(2);
  });

  it('concurrent reservations of one process for one webhook share writes instead of racing for the ETag', async () => {
    const webhookId = `wh${Date.now()}d`;
    const { table: countedTable, calls } = counted();
    const limiter = tableRateLimiter(countedTable);
    const now = new Date();
    const results = await Promise.all(Array.from({ length: 30 }, () => run(limiter.reserve({ webhookId, ratePerSecond: 10, count: 1, now }))));
    const slots = results.flat().sort((x, y) => x - y);
    expect(new Set(slots).size).toBe(30);
    expect(slots[29]! - slots[0]!).toBeCloseTo(2900, 6);
    // The first write, then one for everything that queued behind it: no 412 anywhere.
    expect((calls.get('createEntity') ?? 0) + (calls.get('updateEntity') ?? 0)).toBe(2);
  });

  it('after another instance wrote, the stale ETag costs a read and the slots still follow the other instance', async () => {
    const webhookId = `wh${Date.now()}c`;
    const a = tableRateLimiter(table);
    const b = tableRateLimiter(table);
    const now = new Date();
    const [first] = await run(a.reserve({ webhookId, ratePerSecond: 2, count: 1, now }));
    const [second] = await run(b.reserve({ webhookId, ratePerSecond: 2, count: 1, now }));
    const [third] = await run(a.reserve({ webhookId, ratePerSecond: 2, count: 1, now }));
    expect([second! - first!, third! - second!]).toEqual([500, 500]);
  });
});
