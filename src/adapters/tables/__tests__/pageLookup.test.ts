import { TableClient } from '@azure/data-tables';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { expectRight as run } from '../../../__tests__/taskEither';
import { aWebhook, testKeyring } from '../../../domain/__tests__/fixtures';
import type { LookupHint } from '../../../domain/delivery';
import type { Webhook } from '../../../domain/webhook';
import type { WebhookLookup } from '../../../ports/webhookLookup';
import { cachedLookup } from '../../cachedLookup';
import { type EnsuredTable, ensuredTable } from '../tables';
import { tableWebhookLookup } from '../tableWebhookLookup';
import { tableWebhookStore } from '../tableWebhookStore';

/*
 * The worker reads a fan-out page's webhooks once (docs/architecture.md, hot path): every message of
 * a page carries the page's range, the first message's read brings the whole page, and the page's
 * other messages read nothing within REGISTRY_CACHE_MS. On Azurite each range query costs in
 * proportion to the whole table, so a `ping:all` to 10 000 webhooks paid 200 of them.
 */

const connectionString = storageConnectionString();
const tableName = `pagelookup${process.pid}${Date.now() % 100000}`;

/** The table, with its queries and main-row point reads counted. */
const counted = (name = tableName): { table: EnsuredTable; rangeQueries: () => number; mainRowQueries: () => number; mainRowFilters: () => string[]; pointReads: () => number } => {
  const table = ensuredTable({ connectionString, tableName: name });
  const filters: string[] = [];
  let pointReads = 0;
  const list = table.client.listEntities.bind(table.client);
  table.client.listEntities = ((options?: Parameters<TableClient['listEntities']>[0]) => {
    filters.push(options?.queryOptions?.filter ?? '');
    return list(options);
  }) as TableClient['listEntities'];
  const get = table.client.getEntity.bind(table.client);
  table.client.getEntity = ((...args: Parameters<TableClient['getEntity']>) => {
    pointReads++;
    return get(...args);
  }) as TableClient['getEntity'];
  return {
    table,
    rangeQueries: () => filters.filter((f) => f.includes("'sub|")).length,
    mainRowQueries: () => filters.filter((f) => f.includes("'webhook|")).length,
    mainRowFilters: () => filters.filter((f) => f.includes("'webhook|")),
    pointReads: () => pointReads,
  };
};

/** What a lookup found for each of these webhooks, in their order. */
const byId = (found: ReadonlyMap<string, Webhook>, webhooks: readonly Webhook[]): (Webhook | undefined)[] => webhooks.map((w) => found.get(w.id));
/** Looks these webhooks up with a hint, as a message holding them would. */
const lookUp = async (lookup: WebhookLookup, webhooks: readonly Webhook[], hint: LookupHint | undefined): Promise<(Webhook | undefined)[]> =>
  byId(
    await run(
      lookup(
        webhooks.map((w) => w.id),
        hint,
      ),
    ),
    webhooks,
  );

describe("a fan-out page's messages (Azurite)", () => {
  const store = tableWebhookStore(ensuredTable({ connectionString, tableName }), { keyring: testKeyring });
  const raw = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
  afterAll(async () => {
    await raw.deleteTable();
  });
  const create = (prefix: string, n: number): Promise<Webhook[]> =>
    Promise.all(Array.from({ length: n }, (_, i) => run(store.create(aWebhook({ subscriptions: ['ping'], attributes: { name: `${prefix}${String(i).padStart(2, '0')}` } })))));

  it('carry one hint, and the page is read once for all of them, with the secrets of a cold process read by key range', async () => {
    const webhooks = await create('cold', 20);
    const page = await run(store.pageSubscribedTo({ eventName: 'ping', pageSize: 100 }));
    const [first, second] = [webhooks.slice(0, 10), webhooks.slice(10)];
    const hint = page.lookupHint?.(first.map((w) => w.id));
    expect(hint).toBeDefined();
    expect(page.lookupHint?.(second.map((w) => w.id))).toBe(hint);

    const c = counted();
    const lookup = cachedLookup(tableWebhookLookup(c.table, { keyring: testKeyring }), { clock: { now: () => new Date() }, ttlMs: 60_000 });
    expect(await lookUp(lookup, first, hint)).toEqual(first);
    expect(await lookUp(lookup, second, hint)).toEqual(second);
    expect(c.rangeQueries()).toBe(1);
    // 20 secrets missing in the page: the main rows by key range, not 20 point reads.
    expect(c.mainRowQueries()).toBe(1);
    expect(c.pointReads()).toBe(0);
  });

  it('arriving together, they share the one read', async () => {
    const webhooks = await create('together', 6);
    const page = await run(store.pageSubscribedTo({ eventName: 'ping', routingValue: undefined, pageSize: 100 }));
    const messages = [webhooks.slice(0, 2), webhooks.slice(2, 4), webhooks.slice(4)];
    const hints = messages.map((m) => page.lookupHint?.(m.map((w) => w.id)));
    expect(new Set(hints).size).toBe(1);

    // A process whose secret cache is warm (its earlier deliveries), and whose webhook cache has expired.
    const c = counted();
    const inner = tableWebhookLookup(c.table, { keyring: testKeyring });
    await run(inner(webhooks.map((w) => w.id)));
    const before = { range: c.rangeQueries(), points: c.pointReads() };
    const lookup = cachedLookup(inner, { clock: { now: () => new Date() }, ttlMs: 60_000 });
    const found = await Promise.all(
      messages.map((m, i) =>
        run(
          lookup(
            m.map((w) => w.id),
            hints[i],
          ),
        ),
      ),
    );
    messages.forEach((m, i) => expect(byId(found[i] as ReadonlyMap<string, Webhook>, m)).toEqual(m));
    expect(c.rangeQueries() - before.range).toBe(1);
    expect(c.pointReads() - before.points).toBe(0);
  });
});

describe("a cold process's secrets, read by the page's key range (Azurite)", () => {
  const name = `pagerange${process.pid}${Date.now() % 100000}`;
  const store = tableWebhookStore(ensuredTable({ connectionString, tableName: name }), { keyring: testKeyring });
  const raw = TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection: true });
  afterAll(async () => {
    await raw.deleteTable();
  });
  const createOne = (prefix: string, i: number, overrides: Partial<Webhook> = {}): Promise<Webhook> =>
    run(store.create(aWebhook({ subscriptions: ['ping'], attributes: { name: `${prefix}${String(i).padStart(2, '0')}` }, ...overrides })));

  it("reads each page's main rows as one key range of their own, not the whole registry, so a page's deliveries wait for one query", async () => {
    // 40 in id order (and name order, which the index sorts by first): two pages of 20.
    const webhooks: Webhook[] = [];
    for (let i = 0; i < 40; i++) webhooks.push(await createOne('p', i));
    const first = await run(store.pageSubscribedTo({ eventName: 'ping', pageSize: 20 }));
    const second = await run(store.pageSubscribedTo({ eventName: 'ping', pageSize: 20, ...(first.continuationToken === undefined ? {} : { continuationToken: first.continuationToken }) }));
    const [one, two] = [webhooks.slice(0, 20), webhooks.slice(20)];
    expect(first.items.map((w) => w.id)).toEqual(one.map((w) => w.id));

    const c = counted(name);
    const lookup = tableWebhookLookup(c.table, { keyring: testKeyring });
    expect(await lookUp(lookup, one, first.lookupHint?.(one.map((w) => w.id)))).toEqual(one);
    expect(c.mainRowQueries()).toBe(1);
    // The first page's range ends at its last webhook: the second page's secrets were not read.
    expect(c.mainRowFilters()[0]).toContain(`RowKey le 'webhook|${one[19]?.id ?? ''}'`);
    expect(await lookUp(lookup, two, second.lookupHint?.(two.map((w) => w.id)))).toEqual(two);
    expect(c.mainRowQueries()).toBe(2);
    expect(c.mainRowFilters()[1]).toContain(`RowKey ge 'webhook|${two[0]?.id ?? ''}'`);
    expect(c.pointReads()).toBe(0);
  });

  it("a page whose main rows are spread among many others' falls back to the whole registry, and finds every webhook", async () => {
    // After each of the page's webhooks, eight disabled ones (main rows, no index rows). The page (the
    // 40 of the test before and these 16) spans 56 + 128 main rows, more than twice its 56.
    const page: Webhook[] = [];
    for (let i = 0; i < 16; i++) {
      page.push(await createOne('s', i));
      for (let j = 0; j < 8; j++) await createOne(`s${i}-off`, j, { disabled: true });
    }
    const c = counted(name);
    const lookup = tableWebhookLookup(c.table, { keyring: testKeyring });
    const hint = (await run(store.pageSubscribedTo({ eventName: 'ping', routingValue: undefined, pageSize: 100 }))).lookupHint?.(page.map((w) => w.id));
    expect(await lookUp(lookup, page, hint)).toEqual(page);
    expect(c.mainRowQueries()).toBe(2);
    expect(c.mainRowFilters()[1]).toContain("RowKey lt 'webhook}'");
    expect(c.pointReads()).toBe(0);
  });
});
