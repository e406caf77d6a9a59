import { TableClient } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { withDeadStorage } from '../../../../local-host/testing/deadStorage';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { aWebhook, testKeyring } from '../../../domain/__tests__/fixtures';
import { DeliveryMessage, type LookupHint } from '../../../domain/delivery';
import type { AttemptResult } from '../../../domain/outcome';
import type { AttemptLogEntry } from '../../../ports/attemptLog';
import type { Webhook } from '../../../domain/webhook';
import { tableAttemptLog } from '../tableAttemptLog';
import { ensuredTable } from '../tables';
import { tableWebhookLookup } from '../tableWebhookLookup';
import { tableWebhookStore } from '../tableWebhookStore';
import { expectRight as run } from '../../../__tests__/taskEither';

/*
 * The attempt log and the webhook lookup on Azurite: what is written comes back, in the order the
 * port promises, at the cost it promises (batched), and unreadable rows or dead storage are handled.
 */

const suffix = `${process.pid}${Date.now() % 100000}`;
const connectionString = storageConnectionString();

const ok = (status: number, excerpt = ''): AttemptResult => ({ kind: 'Response', status, latencyMs: 4, excerpt, bodyRead: 'Complete' });
const at = (ms: number): string => new Date(Date.UTC(2024, 4, 1) + ms).toISOString();

describe('table attempt log (Azurite)', () => {
  const tableName = `attempts${suffix}`;
  const log = tableAttemptLog(ensuredTable({ connectionString, tableName }));
  const raw = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
  afterAll(async () => {
    await raw.deleteTable();
  });

  const entry = (eventId: string, deliveryId: string, attempt: number, decision: AttemptLogEntry['decision'], extra: Partial<AttemptLogEntry> = {}): AttemptLogEntry => ({
    eventId,
    deliveryId,
    webhookId: `wh-${deliveryId}`,
    attempt,
    at: at(attempt * 1000),
    decision,
    ...extra,
  });

  it('writes every entry to its event, and only the troubles to the webhook', async () => {
    const entries = [
      entry('evt-1', 'd1', 1, 'Delivered', { result: ok(200) }),
      entry('evt-1', 'd2', 1, 'RetryLater', { result: ok(503), nextAttemptAt: at(6000) }),
      entry('evt-1', 'd3', 0, 'SkippedDisabledWebhook'),
      entry('evt-1', 'd4', 1, 'Poisoned', { result: { kind: 'NetworkError', error: 'DestinationNotAllowed', message: 'loopback', latencyMs: 0 } }),
    ];
    await run(log.record(entries));
    // Oldest first (the skip, at attempt 0, is the oldest here).
    expect(await run(log.forEvent('evt-1'))).toEqual([entries[2], entries[0], entries[1], entries[3]]);
    expect(await run(log.problemsForWebhook({ webhookId: 'wh-d1', limit: 10 }))).toEqual([]);
    expect(await run(log.problemsForWebhook({ webhookId: 'wh-d2', limit: 10 }))).toEqual([entries[1]]);
    expect(await run(log.problemsForWebhook({ webhookId: 'wh-d3', limit: 10 }))).toEqual([entries[2]]);
    expect(await run(log.forEvent('evt-unknown'))).toEqual([]);
  });

  it("a webhook's troubles come newest first, up to the limit; a later success counts as trouble too", async () => {
    const tries = [1, 2, 3].map((n) => entry('evt-2', 'dx', n, n < 3 ? 'RetryLater' : 'Delivered', { webhookId: 'wh-many', result: ok(n < 3 ? 500 : 200) }));
    await run(log.record(tries));
    expect((await run(log.problemsForWebhook({ webhookId: 'wh-many', limit: 10 }))).map((e) => e.attempt)).toEqual([3, 2, 1]);
    expect((await run(log.problemsForWebhook({ webhookId: 'wh-many', limit: 2 }))).map((e) => e.attempt)).toEqual([3, 2]);
  });

  it('a message run twice rewrites the same rows instead of failing or doubling them', async () => {
    const first = entry('evt-3', 'dup', 1, 'RetryLater', { result: ok(503) });
    await run(log.record([first]));
    await run(log.record([{ ...first, result: ok(502) }]));
    expect(await run(log.forEvent('evt-3'))).toEqual([{ ...first, result: ok(502) }]);
  });

  it('a redrive (attempts counted from 1 again, later) keeps the attempts that came before it', async () => {
    const poisoned = entry('evt-redrive', 'redriven', 1, 'Poisoned', { result: ok(400) });
    const again = entry('evt-redrive', 'redriven', 1, 'Delivered', { result: ok(200), at: at(9000) });
    await run(log.record([poisoned]));
    await run(log.record([again]));
    expect(await run(log.forEvent('evt-redrive'))).toEqual([poisoned, again]);
  });

  it('writes more than one transaction holds (100 rows), several partitions in one call', async () => {
    const many = Array.from({ length: 230 }, (_, i) => entry('evt-4', `m${String(i).padStart(3, '0')}`, 1, i % 2 === 0 ? 'Delivered' : 'RetryLater', { webhookId: `wh-${i % 3}`, at: at(i) }));
    await run(log.record([...many, entry('evt-5', 'other', 1, 'Delivered')]));
    expect(await run(log.forEvent('evt-4'))).toEqual(many);
    expect(await run(log.forEvent('evt-5'))).toHaveLength(1);
    expect((await run(log.problemsForWebhook({ webhookId: 'wh-1', limit: 1000 }))).length).toBe(many.filter((e, i) => i % 3 === 1 && e.decision !== 'Delivered').length);
  });

  it("gives each message's rows of an event a partition of their own, and reads and removes the event's partitions as one, rows written before the shards included", async () => {
    const partitionsOf = async (eventId: string): Promise<string[]> => {
      const keys = new Set<string>();
      for await (const row of raw.listEntities<{ eventId: string }>()) if (row.eventId === eventId && row.partitionKey?.startsWith('event|') === true) keys.add(row.partitionKey);
      return [...keys].sort();
    };
    // Three queue messages of one big fan-out, 50 deliveries each, and a row of the layout before shards.
    const messages = [0, 1, 2].map((m) => Array.from({ length: 50 }, (_, i) => entry('evt-big', `big-${m}-${String(i).padStart(2, '0')}`, 1, 'Delivered', { at: at(m * 100 + i) })));
    for (const rows of messages) await run(log.record(rows));
    const before = entry('evt-big', 'big-before', 1, 'Delivered', { at: at(999) });
    await raw.upsertEntity({ partitionKey: 'event|evt-big', rowKey: 'before', ...before, result: '', nextAttemptAt: '', tenantId: '' });
    // A row this code did not write, in one of the event's partitions: skipped by reads, removed with the event.
    await raw.upsertEntity({ partitionKey: 'event|evt-big!00000000', rowKey: 'junk', hello: 'world' });
    // Neighbours whose ids start with this one's: their rows stay out of its reads and deletes.
    await run(log.record([entry('evt-big0', 'n1', 1, 'Delivered'), entry('evt-big.x', 'n2', 1, 'Delivered'), entry('evt-bi', 'n3', 1, 'Delivered')]));

    const partitions = await partitionsOf('evt-big');
    expect(partitions).toHaveLength(4);
    expect((await raw.getEntity('event|evt-big!00000000', 'junk')).hello).toBe('world');
    expect(partitions[0]).toBe('event|evt-big');
    expect(partitions.slice(1).every((p) => /^event\|evt-big![0-9a-f]{8}$/.test(p))).toBe(true);
    expect(await run(log.forEvent('evt-big'))).toEqual([...messages.flat(), before]);

    expect(await run(log.removeForEvent('evt-big'))).toBe(152);
    expect(await partitionsOf('evt-big')).toEqual([]);
    await expect(raw.getEntity('event|evt-big!00000000', 'junk')).rejects.toMatchObject({ statusCode: 404 });
    expect(await run(log.forEvent('evt-big'))).toEqual([]);
    for (const neighbour of ['evt-big0', 'evt-big.x', 'evt-bi']) expect(await run(log.forEvent(neighbour))).toHaveLength(1);
  });

  const rowsOf = async (eventId: string): Promise<Record<string, unknown>[]> => {
    const rows: Record<string, unknown>[] = [];
    const filter = `PartitionKey ge 'event|${eventId}' and PartitionKey lt 'event|${eventId}"'`;
    for await (const row of raw.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) rows.push(row);
    return rows;
  };

  it("packs a message's first-try successes of one event into one row, and reads them back as entries", async () => {
    const successes = Array.from({ length: 100 }, (_, i) =>
      entry('evt-packed', `p${String(i).padStart(3, '0')}`, 1, 'Delivered', { at: at(i), result: ok(200 + (i % 5)), ...(i % 2 === 0 ? { tenantId: 'tenant-a' } : {}) }),
    );
    const trouble = entry('evt-packed', 'p-late', 1, 'RetryLater', { result: ok(503), nextAttemptAt: at(5000), at: at(50) });
    await run(log.record([...successes, trouble]));
    const stored = await rowsOf('evt-packed');
    // One packed row for the hundred successes, one row for the retry.
    expect(stored).toHaveLength(2);
    expect(await run(log.forEvent('evt-packed'))).toEqual([...successes.slice(0, 50), trouble, ...successes.slice(50)]);
    expect(await run(log.problemsForWebhook({ webhookId: 'wh-p-late', limit: 10 }))).toEqual([trouble]);
    expect(await run(log.removeForEvent('evt-packed'))).toBe(101);
    expect(await rowsOf('evt-packed')).toEqual([]);
    expect(await run(log.problemsForWebhook({ webhookId: 'wh-p-late', limit: 10 }))).toEqual([]);
  });

  it('splits a packed list that would pass what one table property holds, and keeps a lone success a plain row', async () => {
    const long = 'x'.repeat(200);
    const successes = Array.from({ length: 400 }, (_, i) => entry('evt-wide', `${long}-${String(i).padStart(3, '0')}`, 1, 'Delivered', { webhookId: `${long}-wh`, at: at(i), result: ok(200) }));
    await run(log.record(successes));
    const stored = await rowsOf('evt-wide');
    expect(stored.length).toBeGreaterThan(1);
    for (const row of stored) expect(String(row.delivered).length).toBeLessThan(32_767);
    expect(await run(log.forEvent('evt-wide'))).toEqual(successes);

    const lone = entry('evt-lone', 'only', 1, 'Delivered', { result: ok(200) });
    await run(log.record([lone]));
    expect(await rowsOf('evt-lone')).toEqual([expect.objectContaining({ deliveryId: 'only', decision: 'Delivered' })]);
  });

  it('skips the items of a packed row it cannot read, and the row whose list is not JSON', async () => {
    const good = [JSON.stringify(['g1', 'wh-g', at(1), ok(200), '']), JSON.stringify(['g2', 'wh-g', at(2), null, 'tenant-b'])];
    const delivered = `[${[...good, '["short"]', '{"not":"a tuple"}', JSON.stringify(['g3', 'wh-g', at(3), { kind: 'Unknown' }, ''])].join(',')}]`;
    await raw.upsertEntity({ partitionKey: 'event|evt-badpack', rowKey: 'g1|ok|x|0', eventId: 'evt-badpack', delivered });
    await raw.upsertEntity({ partitionKey: 'event|evt-badpack', rowKey: 'g9|ok|x|0', eventId: 'evt-badpack', delivered: '[not json' });
    expect(await run(log.forEvent('evt-badpack'))).toEqual([
      { eventId: 'evt-badpack', deliveryId: 'g1', webhookId: 'wh-g', attempt: 1, at: at(1), decision: 'Delivered', result: ok(200) },
      { eventId: 'evt-badpack', deliveryId: 'g2', webhookId: 'wh-g', attempt: 1, at: at(2), decision: 'Delivered', tenantId: 'tenant-b' },
      { eventId: 'evt-badpack', deliveryId: 'g3', webhookId: 'wh-g', attempt: 1, at: at(3), decision: 'Delivered' },
    ]);
  });

  it("keeps a typed summary of a response, never the receiver's body text; nothing to write costs nothing", async () => {
    const internal: AttemptResult = {
      kind: 'Response',
      status: 500,
      latencyMs: 4,
      excerpt: '<?xml version="1.0"?><Error><Code>AuthorizationFailure</Code></Error>',
      bodyRead: 'Complete',
      contentType: 'application/xml',
      bodyBytes: 71,
    };
    await run(log.record([entry('evt-6', 'long', 1, 'RetryLater', { result: internal })]));
    const [back] = await run(log.forEvent('evt-6'));
    expect(back?.result).toEqual({ ...internal, excerpt: '' });
    const stored = await raw.listEntities({ queryOptions: { filter: "PartitionKey ge 'event|evt-6' and PartitionKey lt 'event|evt-6\"'" } }).next();
    expect(stored.value).toMatchObject({ eventId: 'evt-6', deliveryId: 'long' });
    expect(JSON.stringify(stored.value)).not.toContain('AuthorizationFailure');
    await run(log.record([]));
  });

  it('rows written before the summary rule show no excerpt either', async () => {
    const old = JSON.stringify(ok(200, '{"runtimeStatus":"Completed","input":"secret"}'));
    await raw.upsertEntity({
      partitionKey: 'event|evt-8',
      rowKey: 'old',
      eventId: 'evt-8',
      deliveryId: 'o',
      webhookId: 'w',
      attempt: 1,
      at: at(0),
      decision: 'Delivered',
      result: old,
      nextAttemptAt: '',
    });
    const [back] = await run(log.forEvent('evt-8'));
    expect(back?.result).toEqual(ok(200));
  });

  it('skips rows it did not write, and results it cannot read', async () => {
    await raw.upsertEntity({ partitionKey: 'event|evt-7', rowKey: 'junk', hello: 'world' });
    await raw.upsertEntity({
      partitionKey: 'event|evt-7',
      rowKey: 'bad-result',
      eventId: 'evt-7',
      deliveryId: 'b',
      webhookId: 'w',
      attempt: 1,
      at: at(0),
      decision: 'Delivered',
      result: '{not json',
      nextAttemptAt: '',
    });
    await raw.upsertEntity({
      partitionKey: 'event|evt-7',
      rowKey: 'bad-decision',
      eventId: 'evt-7',
      deliveryId: 'c',
      webhookId: 'w',
      attempt: 1,
      at: at(0),
      decision: 'Exploded',
      result: '',
      nextAttemptAt: '',
    });
    expect(await run(log.forEvent('evt-7'))).toEqual([{ eventId: 'evt-7', deliveryId: 'b', webhookId: 'w', attempt: 1, at: at(0), decision: 'Delivered' }]);
  });

  it('storage that does not answer is Transient', async () => {
    await withDeadStorage(async (deadConnection) => {
      const down = tableAttemptLog(ensuredTable({ connectionString: deadConnection, tableName }));
      expect(await down.record([entry('evt-8', 'd', 1, 'Delivered')])()).toEqual(E.left(expect.objectContaining({ kind: 'Transient' })));
      expect(await down.forEvent('evt-8')()).toEqual(E.left(expect.objectContaining({ kind: 'Transient' })));
    });
  });
});

describe('table webhook lookup (Azurite)', () => {
  const tableName = `lookup${suffix}`;
  const table = ensuredTable({ connectionString, tableName });
  const store = tableWebhookStore(table, { keyring: testKeyring });
  const lookup = tableWebhookLookup(table, { keyring: testKeyring });
  const raw = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
  afterAll(async () => {
    await raw.deleteTable();
  });

  it('finds many webhooks at once (more than one query holds), leaving out unknown and deleted ones', async () => {
    const webhooks = Array.from({ length: 31 }, (_, i) => aWebhook({ subscriptions: ['ping'], attributes: { name: `wh${i}` }, disabled: i % 5 === 0 }));
    for (const w of webhooks) await run(store.create(w));
    const deleted = webhooks[3];
    await run(store.delete(deleted?.id as never));
    const unknown = aWebhook().id;
    const found = await run(lookup([...webhooks.map((w) => w.id), unknown]));
    expect(found.size).toBe(30);
    for (const w of webhooks) if (w !== deleted) expect(found.get(w.id)).toEqual(w);
    expect(found.has(deleted?.id ?? '')).toBe(false);
    expect(found.has(unknown)).toBe(false);
    expect((await run(lookup([]))).size).toBe(0);
    // One id is a point read: same answers.
    const one = webhooks[1] as Webhook;
    expect([...(await run(lookup([one.id])))]).toEqual([[one.id, one]]);
    expect((await run(lookup([unknown]))).size).toBe(0);
    expect((await run(lookup([deleted?.id as never]))).size).toBe(0);
  });

  /** A lookup whose queries' filters are recorded: how it read, not only what it found. */
  const watchedLookup = (): { lookup: ReturnType<typeof tableWebhookLookup>; filters: string[] } => {
    const watched = ensuredTable({ connectionString, tableName });
    const filters: string[] = [];
    const original = watched.client.listEntities.bind(watched.client);
    watched.client.listEntities = ((options?: Parameters<TableClient['listEntities']>[0]) => {
      filters.push(options?.queryOptions?.filter ?? '');
      return original(options);
    }) as TableClient['listEntities'];
    return { lookup: tableWebhookLookup(watched, { keyring: testKeyring }), filters };
  };

  it("reads a message's webhooks in the key range of the store's hint, and what changed since from the main rows", async () => {
    const webhooks = Array.from({ length: 6 }, (_, i) => aWebhook({ subscriptions: ['ping'], attributes: { name: `range${i}` } }));
    for (const w of webhooks) await run(store.create(w));
    const page = await run(store.pageSubscribedTo({ eventName: 'ping', pageSize: 1000 }));
    const [a, b, c, d, e] = webhooks as [Webhook, Webhook, Webhook, Webhook, Webhook];
    const ids = [e, c, a, d, b].map((w) => w.id);
    const hint = page.lookupHint?.(ids);
    expect(hint).toBeDefined();
    // An id the page does not hold gets no hint: the range would not be known to hold it.
    expect(page.lookupHint?.([a.id, 'NOT0IN0THE0PAGE0000000000' as Webhook['id']])).toBeUndefined();
    // The range the hint stands for: the whole fan-out page's index rows (its other messages share the read), whatever the ids' order.
    // (The table holds other tests' `ping` webhooks too: the page ends with the last of them in key order.)
    const last = webhooks[5] as Webhook;
    const endOfPage = page.items[page.items.length - 1] as Webhook;
    const rangeRead = `PartitionKey eq 'webhooks' and RowKey ge 'sub|ping|range0|${a.id}' and RowKey le 'sub|ping|${String(endOfPage.attributes.name)}|${endOfPage.id}'`;

    // Since the fan-out: c disabled (its index row went), d renamed (its row moved), e deleted.
    const disabled = await run(store.update(c.id, (w) => E.right({ ...w, disabled: true })));
    const renamed = await run(store.update(d.id, (w) => E.right({ ...w, attributes: { name: 'zzz-renamed' } })));
    await run(store.delete(e.id));
    const expected = new Map([
      [a.id, a],
      [b.id, b],
      [c.id, disabled],
      [d.id, renamed],
    ]);
    // The asked ids as they are now; the rest of the page the same read found may ride along (callers look up by id).
    const askedOf = (found: ReadonlyMap<string, Webhook>): Map<string, Webhook> => new Map([...found].filter(([id]) => ids.includes(id as Webhook['id'])));
    const withHint = watchedLookup();
    const found = await run(withHint.lookup(ids, hint));
    expect(askedOf(found)).toEqual(expected);
    const pageIds = new Set<string>(page.items.map((w) => w.id));
    const extras = [...found.keys()].filter((id) => !ids.includes(id as Webhook['id']));
    expect(extras).toContain(last.id);
    expect(extras.filter((id) => !pageIds.has(id))).toEqual([]);
    expect(withHint.filters[0]).toBe(rangeRead);

    // A message enqueued before the hint was opaque carries `lookupRange` itself: it is read in the same range.
    const legacy = DeliveryMessage.decode({ v: 1, eventId: '01J0000000000000000000EVNT', items: [], lookupRange: { from: `sub|ping|range0|${a.id}`, to: `sub|ping|range5|${last.id}` } });
    const fromLegacy = watchedLookup();
    expect(askedOf(await run(fromLegacy.lookup(ids, E.isRight(legacy) ? legacy.right.lookupHint : undefined)))).toEqual(expected);
    expect(fromLegacy.filters[0]).toBe(`PartitionKey eq 'webhooks' and RowKey ge 'sub|ping|range0|${a.id}' and RowKey le 'sub|ping|range5|${last.id}'`);

    // A hint that is not one event's index rows in order is ignored: the ids are read all the same, by id.
    const junk = [
      { from: 'webhook|', to: 'webhook}' },
      { from: 'sub|ping|', to: 'sub|service:subscribed|' },
      { from: `sub|ping|range4|${e.id}`, to: `sub|ping|range0|${a.id}` },
    ].map((r) => JSON.stringify(r));
    for (const text of [...junk, 'not json', '']) {
      const watched = watchedLookup();
      expect([...(await run(watched.lookup([a.id, b.id], text as LookupHint))).keys()].sort()).toEqual([a.id, b.id].sort());
      expect(watched.filters.some((f) => f.includes('RowKey ge'))).toBe(false);
    }
    for (const w of [a, b, c, d]) await run(store.delete(w.id));
  });

  it('leaves out a main row marked deleted (a delete in progress) and one that does not decode', async () => {
    const half = aWebhook();
    const broken = aWebhook();
    await run(store.create(half));
    await run(store.create(broken));
    await raw.updateEntity({ partitionKey: 'webhooks', rowKey: `webhook|${half.id}`, deleted: true }, 'Merge');
    await raw.updateEntity({ partitionKey: 'webhooks', rowKey: `webhook|${broken.id}`, url: 'not a url' }, 'Merge');
    expect((await run(lookup([half.id, broken.id]))).size).toBe(0);
    expect((await run(lookup([half.id]))).size).toBe(0);
    expect((await run(lookup([broken.id]))).size).toBe(0);
  });

  it('storage that does not answer is Transient', async () => {
    await withDeadStorage(async (deadConnection) => {
      const down = tableWebhookLookup(ensuredTable({ connectionString: deadConnection, tableName }), { keyring: testKeyring });
      expect(await down([aWebhook().id])()).toEqual(E.left(expect.objectContaining({ kind: 'Transient' })));
    });
  });
});
