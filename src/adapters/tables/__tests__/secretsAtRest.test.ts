import { TableClient, type TableEntityResult } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { Webhook as Receiver } from 'standardwebhooks';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { expectRight as run } from '../../../__tests__/taskEither';
import { aWebhook, testKeyring } from '../../../domain/__tests__/fixtures';
import { DeliveryMessage, type LookupHint } from '../../../domain/delivery';
import { keyring, type SecretsKey } from '../../../domain/secretBox';
import { signatureHeaders } from '../../../domain/signature';
import { signingSecrets, type Webhook, type WebhookId, type WebhookSecret } from '../../../domain/webhook';
import type { WebhookLookup } from '../../../ports/webhookLookup';
import type { SubscribedPage } from '../../../ports/webhookStore';
import { resealSecrets } from '../../../usecases/resealSecrets';
import { rotateWebhookSecret } from '../../../usecases/rotateWebhookSecret';
import { type EnsuredTable, ensuredTable } from '../tables';
import { tableStaleSecrets } from '../tableStaleSecrets';
import { tableWebhookLookup } from '../tableWebhookLookup';
import { tableWebhookStore } from '../tableWebhookStore';
import { INDEX_META_KEY } from '../webhookKeys';

/*
 * Secrets at rest (docs/secrets.md), against Azurite: what the rows hold, key rotation, the
 * worker's secret cache, and rows written before encryption.
 */

const suffix = `${process.pid}${Date.now() % 100000}`;
const connectionString = storageConnectionString();
const k1: SecretsKey = { id: 'k1', key: Buffer.alloc(32, 11) };
const k2: SecretsKey = { id: 'k2', key: Buffer.alloc(32, 22) };
const NOW = new Date('2024-06-01T00:00:00.000Z');
const secretBody = (secret: string): string => secret.slice('whsec_'.length);

type Row = TableEntityResult<Record<string, unknown>>;

const tableFor = (name: string) => {
  const tableName = `${name}${suffix}`;
  const table = ensuredTable({ connectionString, tableName });
  const raw = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
  const rowsOf = async (id: string): Promise<Row[]> => {
    const rows: Row[] = [];
    for await (const row of raw.listEntities<Record<string, unknown>>()) if (row.rowKey?.endsWith(id) === true) rows.push(row);
    return rows;
  };
  return { tableName, table, raw, rowsOf };
};

/** A table whose main-row point reads are counted: the cost the worker's cache saves. */
const countingTable = (tableName: string): { table: EnsuredTable; pointReads: () => number } => {
  const inner = ensuredTable({ connectionString, tableName });
  let reads = 0;
  const original = inner.client.getEntity.bind(inner.client);
  inner.client.getEntity = ((...args: Parameters<TableClient['getEntity']>) => {
    reads++;
    return original(...args);
  }) as TableClient['getEntity'];
  return { table: inner, pointReads: () => reads };
};

/** The lookup hint of a fan-out page for these webhooks, as the fan-out puts it in a message. */
const hintOf = (page: SubscribedPage, ids: readonly WebhookId[]): LookupHint | undefined => page.lookupHint?.(ids);

/** Signs as the worker does, then checks that a receiver holding `secret` accepts it. */
const receiverAccepts = (webhook: Webhook, secret: WebhookSecret): boolean => {
  const body = '{"name":"ping","payload":{}}';
  const headers = signatureHeaders({ secrets: signingSecrets(webhook, NOW), id: 'msg_1', timestampSeconds: Math.floor(Date.now() / 1000), body });
  try {
    new Receiver(secretBody(secret)).verify(body, { ...headers });
    return true;
  } catch {
    return false;
  }
};

describe('webhook secrets at rest (Azurite)', () => {
  const { table, raw, rowsOf } = tableFor('secrets');
  const store = tableWebhookStore(table, { keyring: testKeyring });
  afterAll(async () => {
    await raw.deleteTable();
  });

  it('seals the secrets in the main row under SECRETS_KEY; index rows read from storage have no secret property', async () => {
    const previous = 'whsec_T2xkT2xkT2xkT2xkT2xkT2xkT2xkT2xkT2xkT2xk' as WebhookSecret;
    const webhook = await run(
      store.create(aWebhook({ subscriptions: ['*'], attributes: { name: 'sealed', serviceId: 's1' }, previousSecrets: [{ secret: previous, expiresAt: '2099-01-01T00:00:00.000Z' }] })),
    );
    const rows = await rowsOf(webhook.id);
    const main = rows.find((r) => r.rowKey === `webhook|${webhook.id}`);
    const index = rows.filter((r) => r.rowKey?.startsWith('sub|') === true);
    expect(index.length).toBeGreaterThan(1);
    for (const row of index) {
      expect(row).not.toHaveProperty('secret');
      expect(row).not.toHaveProperty('previousSecrets');
      expect(row.secretVersion).toEqual(main?.secretVersion);
    }
    expect(main).toMatchObject({ secret: expect.stringMatching(/^enc:v1:test:/), previousSecrets: expect.stringMatching(/^enc:v1:test:/), secretKeyId: 'test' });
    const everything = JSON.stringify(rows);
    for (const secret of [webhook.secret, previous]) expect(everything).not.toContain(secretBody(secret));
    // And back, whole.
    expect(await run(store.get(webhook.id))).toEqual(webhook);
  });

  it("a ciphertext copied to another webhook's row does not open there", async () => {
    const a = await run(store.create(aWebhook()));
    const b = await run(store.create(aWebhook()));
    const [aMain] = (await rowsOf(a.id)).filter((r) => r.rowKey === `webhook|${a.id}`);
    await raw.updateEntity({ partitionKey: 'webhooks', rowKey: `webhook|${b.id}`, secret: aMain?.secret }, 'Merge');
    expect(await store.get(b.id)()).toEqual(E.left(expect.objectContaining({ kind: 'Permanent', message: expect.stringContaining('does not open') })));
  });
});

describe('a SECRETS_KEY rotation (Azurite)', () => {
  const { tableName, table, raw, rowsOf } = tableFor('keyrot');
  afterAll(async () => {
    await raw.deleteTable();
  });

  it('rows under the old key still sign after a rotation, move to the new key on their next write, and a missing key fails loudly', async () => {
    const before = tableWebhookStore(table, { keyring: keyring(k1) });
    const webhooks = await Promise.all([0, 1, 2].map((i) => run(before.create(aWebhook({ subscriptions: ['ping'], attributes: { name: `rot${i}` } })))));
    const page = await run(before.pageSubscribedTo({ eventName: 'ping', pageSize: 10 }));
    const range = hintOf(
      page,
      webhooks.map((w) => w.id),
    );

    // Deployed with SECRETS_KEY=k2, SECRETS_KEYS_PREVIOUS=k1.
    const rotated = keyring(k2, [k1]);
    const after = tableWebhookStore(table, { keyring: rotated });
    const lookup = tableWebhookLookup(ensuredTable({ connectionString, tableName }), { keyring: rotated });
    const found = await run(
      lookup(
        webhooks.map((w) => w.id),
        range,
      ),
    );
    for (const w of webhooks) {
      expect(found.get(w.id)).toEqual(w);
      expect(receiverAccepts(found.get(w.id) as Webhook, w.secret)).toBe(true);
    }
    expect(await run(after.get(webhooks[0]?.id as Webhook['id']))).toEqual(webhooks[0]);

    // Any write seals under the new key.
    const [first, second] = webhooks as [Webhook, Webhook];
    await run(after.update(first.id, (w) => E.right({ ...w, url: 'https://receiver.example/moved' as Webhook['url'] })));
    const keyIds = async (id: string): Promise<unknown> => (await rowsOf(id)).find((r) => r.rowKey === `webhook|${id}`)?.secretKeyId;
    expect(await keyIds(first.id)).toBe('k2');
    expect(await keyIds(second.id)).toBe('k1');

    // Old key removed too early: the rows still under it are reported, never read as missing or skipped.
    const onlyNew = keyring(k2);
    expect(await run(tableWebhookStore(table, { keyring: onlyNew }).get(first.id))).toMatchObject({ id: first.id, secret: first.secret });
    expect(await tableWebhookStore(table, { keyring: onlyNew }).get(second.id)()).toEqual(
      E.left(expect.objectContaining({ kind: 'Permanent', message: expect.stringContaining('"k1", which is neither SECRETS_KEY nor in SECRETS_KEYS_PREVIOUS') })),
    );
    expect(await tableWebhookLookup(ensuredTable({ connectionString, tableName }), { keyring: onlyNew })([second.id])()).toEqual(
      E.left(expect.objectContaining({ kind: 'Permanent', message: expect.stringContaining('"k1"') })),
    );
  });
});

describe("the worker's secret cache (Azurite)", () => {
  const { tableName, table, raw } = tableFor('seccache');
  afterAll(async () => {
    await raw.deleteTable();
  });

  it('steady-state reads cost no main-row read; a secret rotation is never missed, and both secrets sign in its overlap', async () => {
    const store = tableWebhookStore(table, { keyring: testKeyring });
    const webhooks = await Promise.all([0, 1, 2].map((i) => run(store.create(aWebhook({ subscriptions: ['ping'], attributes: { name: `cache${i}` } })))));
    const ids = webhooks.map((w) => w.id);
    const range = hintOf(await run(store.pageSubscribedTo({ eventName: 'ping', pageSize: 10 })), ids);
    const counting = countingTable(tableName);
    const lookup: WebhookLookup = tableWebhookLookup(counting.table, { keyring: testKeyring });

    // Cold: one point read per webhook; warm: none.
    expect([...(await run(lookup(ids, range))).values()]).toEqual(webhooks);
    expect(counting.pointReads()).toBe(3);
    expect([...(await run(lookup(ids, range))).values()]).toEqual(webhooks);
    expect(counting.pointReads()).toBe(3);

    // A rotation changes the main row and, in the same transaction, the version its index rows carry.
    const target = webhooks[1] as Webhook;
    const rotate = rotateWebhookSecret({ webhooks: store, clock: { now: () => NOW }, randomBytes: (n) => new Uint8Array(n).fill(5) });
    const next = await run(rotate({ id: target.id, body: { overlapSeconds: 3600 } }));
    expect(next.secret).not.toEqual(target.secret);
    const found = await run(lookup(ids, range));
    expect(counting.pointReads()).toBe(4);
    const delivered = found.get(target.id) as Webhook;
    expect(delivered.secret).toEqual(next.secret);
    // In the overlap, receivers holding either secret accept the delivery.
    expect(receiverAccepts(delivered, next.secret)).toBe(true);
    expect(receiverAccepts(delivered, target.secret)).toBe(true);
    expect(receiverAccepts(delivered, 'whsec_V3JvbmdXcm9uZ1dyb25nV3JvbmdXcm9uZ1dyb25n' as WebhookSecret)).toBe(false);
    // The others stayed cached.
    expect(found.get(webhooks[0]?.id ?? '')).toEqual(webhooks[0]);
  });

  it('concurrent messages of one fan-out with a cold cache share one main-row read per webhook', async () => {
    const store = tableWebhookStore(table, { keyring: testKeyring });
    const webhooks = await Promise.all([0, 1, 2, 3].map((i) => run(store.create(aWebhook({ subscriptions: ['ping'], attributes: { name: `flight${i}` } })))));
    const ids = webhooks.map((w) => w.id);
    const range = hintOf(await run(store.pageSubscribedTo({ eventName: 'ping', pageSize: 10 })), ids);
    const counting = countingTable(tableName);
    const lookup: WebhookLookup = tableWebhookLookup(counting.table, { keyring: testKeyring });
    // Ten messages at once, as ten events fanned out to the same webhooks arrive together.
    const found = await Promise.all(Array.from({ length: 10 }, () => run(lookup(ids, range))));
    for (const map of found) expect([...map.values()].sort((a, b) => a.id.localeCompare(b.id))).toEqual([...webhooks].sort((a, b) => a.id.localeCompare(b.id)));
    expect(counting.pointReads()).toBe(4);
  });

  it('a cold process meeting a large fan-out reads the main rows by key range, not one by one', async () => {
    const store = tableWebhookStore(table, { keyring: testKeyring });
    const webhooks = await Promise.all(Array.from({ length: 20 }, (_, i) => run(store.create(aWebhook({ subscriptions: ['ping'], attributes: { name: `bulk${i}` } })))));
    const page = await run(store.pageSubscribedTo({ eventName: 'ping', pageSize: 100 }));
    const counting = countingTable(tableName);
    const lookup: WebhookLookup = tableWebhookLookup(counting.table, { keyring: testKeyring });
    const found = await run(
      lookup(
        webhooks.map((w) => w.id),
        hintOf(
          page,
          webhooks.map((w) => w.id),
        ),
      ),
    );
    expect(webhooks.map((w) => found.get(w.id))).toEqual(webhooks);
    expect(counting.pointReads()).toBe(0);
  });

  it('keeps at most maxCachedSecrets webhooks: past it the oldest is read again', async () => {
    const store = tableWebhookStore(table, { keyring: testKeyring });
    // One name: the page holds these three only, so no preload (of a page or the registry) is due.
    const webhooks = await Promise.all([0, 1, 2].map(() => run(store.create(aWebhook({ subscriptions: ['ping'], attributes: { name: 'bound' } })))));
    const ids = webhooks.map((w) => w.id);
    const rangeAll = hintOf(await run(store.pageSubscribedTo({ eventName: 'ping', routingValue: 'bound', pageSize: 100 })), ids);
    const counting = countingTable(tableName);
    const lookup = tableWebhookLookup(counting.table, { keyring: testKeyring, maxCachedSecrets: 2 });
    await run(lookup(ids, rangeAll));
    expect(counting.pointReads()).toBe(3);
    // Only two fit: the first one went when the third came in.
    await run(lookup(ids, rangeAll));
    expect(counting.pointReads()).toBeGreaterThan(3);
  });
});

describe('rows written before encryption (Azurite)', () => {
  const { tableName, table, raw, rowsOf } = tableFor('legacy');
  afterAll(async () => {
    await raw.deleteTable();
  });

  /** Rewrites a webhook's rows as the code before this change wrote them: plain secrets, index rows full copies. */
  const asLegacy = async (webhook: Webhook): Promise<void> => {
    for (const row of await rowsOf(webhook.id)) {
      const { etag: _etag, timestamp: _ts, secretVersion: _v, secretKeyId: _k, ...columns } = row;
      const plain = { ...columns, secret: webhook.secret, previousSecrets: webhook.previousSecrets === undefined ? '' : JSON.stringify(webhook.previousSecrets) };
      await raw.upsertEntity({ ...plain, partitionKey: row.partitionKey ?? '', rowKey: row.rowKey ?? '' }, 'Replace');
    }
  };

  it('keep working (get, lookup), and are sealed on their next write or by the first fan-out of a process', async () => {
    const store = tableWebhookStore(table, { keyring: testKeyring });
    const previous = [{ secret: 'whsec_T2xkT2xkT2xkT2xkT2xkT2xkT2xkT2xkT2xkT2xk' as WebhookSecret, expiresAt: '2099-01-01T00:00:00.000Z' }];
    const written = await Promise.all([0, 1].map((i) => run(store.create(aWebhook({ subscriptions: ['ping'], attributes: { name: `old${i}` }, previousSecrets: previous })))));
    const [a, b] = written as [Webhook, Webhook];
    for (const w of written) await asLegacy(w);
    expect((await rowsOf(a.id)).find((r) => r.rowKey?.startsWith('sub|') === true)?.secret).toBe(a.secret);
    // A message enqueued before the hint was opaque, carrying the range itself.
    const legacy = DeliveryMessage.decode({ v: 1, eventId: '01J0000000000000000000EVNT', items: [], lookupRange: { from: `sub|ping|old0|${a.id}`, to: `sub|ping|old1|${b.id}` } });
    const legacyRange = E.isRight(legacy) ? legacy.right.lookupHint : undefined;
    expect(legacyRange).toBeDefined();

    expect(await run(store.get(a.id))).toEqual(a);
    const lookup = tableWebhookLookup(ensuredTable({ connectionString, tableName }), { keyring: testKeyring });
    expect(await run(lookup([a.id, b.id], legacyRange))).toEqual(
      new Map([
        [a.id, a],
        [b.id, b],
      ]),
    );

    // The next write seals a.
    await run(store.update(a.id, (w) => E.right({ ...w, disabled: false })));
    const aRows = await rowsOf(a.id);
    expect(aRows.find((r) => r.rowKey === `webhook|${a.id}`)?.secret).toMatch(/^enc:v1:test:/);
    for (const row of aRows.filter((r) => r.rowKey?.startsWith('sub|') === true)) expect(row).not.toHaveProperty('secret');

    // The first fan-out of a process sees an index written for another layout, and rewrites b too.
    await raw.deleteEntity('webhooks', INDEX_META_KEY).catch(() => undefined);
    const fresh = tableWebhookStore(ensuredTable({ connectionString, tableName }), { keyring: testKeyring });
    expect((await run(fresh.pageSubscribedTo({ eventName: 'ping', pageSize: 10 }))).items.map((w) => w.id).sort()).toEqual([a.id, b.id].sort());
    const bRows = await rowsOf(b.id);
    expect(bRows.find((r) => r.rowKey === `webhook|${b.id}`)).toMatchObject({ secret: expect.stringMatching(/^enc:v1:test:/), previousSecrets: expect.stringMatching(/^enc:v1:test:/) });
    for (const row of bRows.filter((r) => r.rowKey?.startsWith('sub|') === true)) expect(row).not.toHaveProperty('secret');
    expect(await run(fresh.get(b.id))).toEqual(b);
  });
});

describe('re-encrypting every row after a SECRETS_KEY rotation (Azurite)', () => {
  const { table, raw, rowsOf } = tableFor('reseal');
  afterAll(async () => {
    await raw.deleteTable();
  });

  it('rewrites exactly the rows not under the current key, then finds none', async () => {
    const before = tableWebhookStore(table, { keyring: keyring(k1) });
    const webhooks = await Promise.all([0, 1, 2].map((i) => run(before.create(aWebhook({ subscriptions: ['ping'], attributes: { name: `reseal${i}` } })))));
    const rotated = keyring(k2, [k1]);
    const after = tableWebhookStore(table, { keyring: rotated });
    // One already moved by an ordinary write.
    await run(after.update((webhooks[0] as Webhook).id, (w) => E.right(w)));
    const stale = tableStaleSecrets(table, k2.id);
    expect(await run(stale({ limit: 1 }))).toEqual({ ids: [webhooks[1]?.id], more: true });

    expect(await run(resealSecrets({ webhooks: after, staleSecrets: stale })())).toEqual({ resealed: 2, more: false });
    for (const w of webhooks) expect((await rowsOf(w.id)).find((r) => r.rowKey === `webhook|${w.id}`)?.secretKeyId).toBe('k2');
    expect(await run(stale({ limit: 10 }))).toEqual({ ids: [], more: false });
    // The secrets themselves did not change, and now open without the old key.
    const onlyNew = tableWebhookStore(table, { keyring: keyring(k2) });
    for (const w of webhooks) expect(await run(onlyNew.get(w.id))).toEqual(w);
  });
});
