import { TableClient } from '@azure/data-tables';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { aWebhook, testKeyring } from '../../../domain/__tests__/fixtures';
import { hashKey, type KeyHash, type Tenant, type TenantId } from '../../../domain/tenant';
import type { Subscription, WebhookSecret } from '../../../domain/webhook';
import { ensuredTable } from '../tables';
import { tableTenantStore } from '../tableTenantStore';
import { tableWebhookStore } from '../tableWebhookStore';
import { expectRight as run, expectLeft as failure } from '../../../__tests__/taskEither';

const suffix = `${process.pid}${Date.now() % 100000}`;
describe('tenant and webhook tables with tenants (Azurite)', () => {
  const tableName = `tnstore${suffix}`;
  const connectionString = storageConnectionString();
  const table = ensuredTable({ connectionString, tableName });
  const tenants = tableTenantStore(table);
  const webhooks = tableWebhookStore(table, { keyring: testKeyring });
  const raw = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
  afterAll(async () => {
    await raw.deleteTable();
  });

  it('tenants: the key row is the only way in; rotation and revocation replace it atomically; lists page', async () => {
    const tenant: Tenant = { id: '01HTENANT00000000000000001' as TenantId, name: 'A', keyHash: hashKey('whtk_one'), keyCreatedAt: '2024-01-01T00:00:00.000Z', createdAt: '2024-01-01T00:00:00.000Z' };
    await run(tenants.create(tenant));
    await run(tenants.create({ ...tenant, id: '01HTENANT00000000000000002' as TenantId, keyHash: hashKey('whtk_two') }));
    expect(await failure(tenants.create(tenant))).toMatchObject({ kind: 'Conflict' });
    expect(await run(tenants.findByKeyHash(hashKey('whtk_one')))).toBe(tenant.id);
    expect(await run(tenants.findByKeyHash(hashKey('whtk_nope')))).toBeUndefined();
    await run(tenants.setKey(tenant.id, { keyHash: hashKey('whtk_three') as KeyHash, keyCreatedAt: '2024-02-01T00:00:00.000Z' }));
    expect(await run(tenants.findByKeyHash(hashKey('whtk_one')))).toBeUndefined();
    expect(await run(tenants.findByKeyHash(hashKey('whtk_three')))).toBe(tenant.id);
    expect(await run(tenants.setKey(tenant.id, null))).toMatchObject({ keyHash: null, keyCreatedAt: null });
    expect(await run(tenants.findByKeyHash(hashKey('whtk_three')))).toBeUndefined();
    expect(await failure(tenants.setKey('01HTENANT0000000000000000X' as TenantId, null))).toMatchObject({ kind: 'NotFound' });
    const first = await run(tenants.list({ limit: 1 }));
    expect(first.items.map((t) => t.id)).toEqual([tenant.id]);
    const second = await run(tenants.list({ limit: 1, continuationToken: first.continuationToken }));
    expect(second.items.map((t) => t.id)).toEqual(['01HTENANT00000000000000002']);
    expect(second.continuationToken).toBeUndefined();
    expect(await failure(tenants.list({ limit: 1, continuationToken: 'junk' }))).toMatchObject({ kind: 'Invalid' });
  });

  it('webhooks keep the new fields, a tenant lists only its own, and a guarded delete refuses another owner', async () => {
    const owned = aWebhook({
      tenantId: '01HTENANT00000000000000001' as never,
      previousSecrets: [{ secret: 'whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xk' as WebhookSecret, expiresAt: '2030-01-01T00:00:00.000Z' }],
      expiresAt: '2030-01-01T00:00:00.000Z',
      fields: ['fiscalCode'],
      verified: false,
      websubTopic: 'ping?name=x',
    });
    const adminOwned = aWebhook();
    await run(webhooks.create(owned));
    await run(webhooks.create(adminOwned));
    expect(await run(webhooks.get(owned.id))).toEqual(owned);
    expect(await run(webhooks.get(adminOwned.id))).toEqual(adminOwned);
    expect((await run(webhooks.list({ limit: 10, tenantId: owned.tenantId }))).items.map((w) => w.id)).toEqual([owned.id]);
    expect((await run(webhooks.list({ limit: 10, tenantId: '01HTENANT00000000000000002' }))).items).toEqual([]);
    expect((await run(webhooks.list({ limit: 10 }))).items).toHaveLength(2);
    expect(await failure(webhooks.delete(owned.id, { mayDelete: (w) => w.tenantId === undefined }))).toMatchObject({ kind: 'NotFound' });
    await run(webhooks.delete(owned.id, { mayDelete: (w) => w.tenantId === owned.tenantId }));
    await run(webhooks.delete(adminOwned.id));
  });

  it('patterns: a webhook has one index row per event it covers, and the fan-out meets each webhook once', async () => {
    const attributes = { serviceId: 'svc', name: 'n' };
    const pattern = aWebhook({ subscriptions: ['service:*', 'service:subscribed'] as Subscription[], attributes });
    const exact = aWebhook({ subscriptions: ['service:subscribed'], attributes });
    const all = aWebhook({ subscriptions: ['*'], attributes });
    const ping = aWebhook({ subscriptions: ['ping'], attributes });
    for (const w of [pattern, exact, all, ping]) await run(webhooks.create(w));
    const keys: string[] = [];
    for await (const e of raw.listEntities({ queryOptions: { filter: `PartitionKey eq 'webhooks'` } })) keys.push(e.rowKey ?? '');
    expect(keys.filter((k) => k.endsWith(pattern.id))).toEqual([`sub|service:subscribed|svc|${pattern.id}`, `webhook|${pattern.id}`]);
    for (const pageSize of [1, 2, 10]) {
      const ids: string[] = [];
      let token: string | undefined;
      do {
        const page = await run(webhooks.pageSubscribedTo({ eventName: 'service:subscribed', continuationToken: token, pageSize }));
        ids.push(...page.items.map((w) => w.id));
        token = page.continuationToken;
      } while (token !== undefined);
      expect(ids).toHaveLength(3);
      expect([...ids].sort()).toEqual([all.id, pattern.id, exact.id].sort());
    }
  });
  it('routing grants: large grants survive the row split into parts; key changes keep them; onlyIfUnset keeps existing ones', async () => {
    const id = '01HTENANT00000000000000009' as TenantId;
    await run(tenants.create({ id, name: 'G', keyHash: hashKey('whtk_grants'), keyCreatedAt: '2024-01-01T00:00:00.000Z', createdAt: '2024-01-01T00:00:00.000Z' }));
    expect((await run(tenants.get(id))).routing).toBeUndefined();
    // About 200 000 characters of JSON: more than three 64 KiB string properties.
    const routing = { serviceId: Array.from({ length: 1000 }, (_, i) => `svc-${i}-${'é'.repeat(90)}`), name: Array.from({ length: 1000 }, (_, i) => `n${i}`.padEnd(90, 'x')) };
    expect(await run(tenants.setRouting(id, routing))).toMatchObject({ routing });
    expect((await run(tenants.get(id))).routing).toEqual(routing);
    await run(tenants.setKey(id, { keyHash: hashKey('whtk_grants2') as KeyHash, keyCreatedAt: '2024-02-01T00:00:00.000Z' }));
    expect((await run(tenants.get(id))).routing).toEqual(routing);
    expect((await run(tenants.setRouting(id, {}, { onlyIfUnset: true }))).routing).toEqual(routing);
    await run(tenants.setRouting(id, { name: ['one'] }));
    const row = await raw.getEntity<Record<string, unknown>>('tenants', `tenant|${id}`);
    expect(Object.keys(row).filter((k) => k.startsWith('routing'))).toEqual(['routing0']);
    expect((await run(tenants.list({ limit: 100 }))).items.find((t) => t.id === id)?.routing).toEqual({ name: ['one'] });
    expect(await failure(tenants.setRouting('01HTENANT0000000000000000X' as TenantId, {}))).toMatchObject({ kind: 'NotFound' });
  });
});
