import { TableClient, type TransactionAction } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { hashKey, type Tenant, type TenantId } from '../../../domain/tenant';
import { type EnsuredTable, ensuredTable } from '../tables';
import { TENANT_PARTITION, tableTenantStore } from '../tableTenantStore';
import { expectRight as run, expectLeft as failure } from '../../../__tests__/taskEither';

const suffix = `${process.pid}${Date.now() % 100000}`;
describe('deleting a tenant in the registry table (Azurite)', () => {
  const tableName = `tndelete${suffix}`;
  const connectionString = storageConnectionString();
  const tenants = tableTenantStore(ensuredTable({ connectionString, tableName }));
  const raw = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
  afterAll(async () => {
    await raw.deleteTable();
  });

  const tenant = (n: number, key: string | null): Tenant => ({
    id: `01HTENANTDE${String(n).padStart(15, '0')}` as TenantId,
    name: `tenant ${n}`,
    keyHash: key === null ? null : hashKey(key),
    keyCreatedAt: key === null ? null : '2024-01-01T00:00:00.000Z',
    createdAt: '2024-01-01T00:00:00.000Z',
  });
  /** Every row of the tenants partition that names the tenant (its own row or a key row). */
  const rowsNaming = async (id: string): Promise<string[]> => {
    const keys: string[] = [];
    for await (const e of raw.listEntities<{ tenantId: string }>({ queryOptions: { filter: `PartitionKey eq '${TENANT_PARTITION}'` } })) if (e.tenantId === id) keys.push(e.rowKey ?? '');
    return keys;
  };

  it('removes the tenant row and its key row together; the tenant no longer reads or lists; a second delete is NotFound', async () => {
    const gone = tenant(1, 'whtk_gone');
    const kept = tenant(2, 'whtk_kept');
    await run(tenants.create(gone));
    await run(tenants.create(kept));
    expect(await rowsNaming(gone.id)).toHaveLength(2);

    await run(tenants.delete(gone.id));
    expect(await rowsNaming(gone.id)).toEqual([]);
    expect(await run(tenants.findByKeyHash(hashKey('whtk_gone')))).toBeUndefined();
    expect(await failure(tenants.get(gone.id))).toMatchObject({ kind: 'NotFound' });
    expect((await run(tenants.list({ limit: 10 }))).items.map((t) => t.id)).toEqual([kept.id]);
    expect(await run(tenants.findByKeyHash(hashKey('whtk_kept')))).toBe(kept.id);
    expect(await failure(tenants.delete(gone.id))).toEqual({ kind: 'NotFound', message: `No tenant with id "${gone.id}"` });
  });

  it('deletes a keyless tenant, and sweeps a key row naming it that its tenant row does not (left by a rotation racing the delete)', async () => {
    const revoked = tenant(3, null);
    await run(tenants.create(revoked));
    await raw.createEntity({ partitionKey: TENANT_PARTITION, rowKey: `key|${hashKey('whtk_raced')}`, tenantId: revoked.id });
    expect(await run(tenants.findByKeyHash(hashKey('whtk_raced')))).toBe(revoked.id);

    await run(tenants.delete(revoked.id));
    expect(await run(tenants.findByKeyHash(hashKey('whtk_raced')))).toBeUndefined();
    expect(await rowsNaming(revoked.id)).toEqual([]);
  });

  /**
   * The table as a store sees it, with `meanwhile` run once just before the store's first
   * transaction: a concurrent writer committing between the store's read and its write.
   */
  const beforeFirstTransaction = (meanwhile: () => Promise<void>): { table: EnsuredTable; ran: () => boolean } => {
    let ran = false;
    const table: EnsuredTable = {
      client: raw,
      ready: async () =>
        new Proxy(raw, {
          get: (target, prop, receiver) =>
            prop !== 'submitTransaction'
              ? Reflect.get(target, prop, receiver)
              : async (actions: TransactionAction[]) => {
                  if (!ran) {
                    ran = true;
                    await meanwhile();
                  }
                  return target.submitTransaction(actions);
                },
        }),
    };
    return { table, ran: () => ran };
  };

  it('a rotation that commits between the read and the write of a delete leaves no key that opens the deleted tenant', async () => {
    for (const [n, oldKey] of [
      [10, null],
      [11, 'whtk_old'],
    ] as const) {
      const racing = tenant(n, oldKey);
      await run(tenants.create(racing));
      const newKey = hashKey(`whtk_new${n}`);
      // The delete's first transaction waits for a rotation to commit: the interleaving a transactional delete cannot guard by etag.
      const rotation = beforeFirstTransaction(async () => {
        await run(tenants.setKey(racing.id, { keyHash: newKey, keyCreatedAt: '2024-02-01T00:00:00.000Z' }));
      });
      await run(tableTenantStore(rotation.table).delete(racing.id));
      expect(rotation.ran()).toBe(true);
      expect(await run(tenants.findByKeyHash(newKey))).toBeUndefined();
      expect(await rowsNaming(racing.id)).toEqual([]);
    }
  });

  it('a rotation whose tenant is deleted between its read and its write answers NotFound and leaves no key', async () => {
    for (const [n, oldKey] of [
      [12, null],
      [13, 'whtk_old13'],
    ] as const) {
      const racing = tenant(n, oldKey);
      await run(tenants.create(racing));
      const newKey = hashKey(`whtk_new${n}`);
      const deletion = beforeFirstTransaction(async () => {
        await run(tenants.delete(racing.id));
      });
      expect(await tableTenantStore(deletion.table).setKey(racing.id, { keyHash: newKey, keyCreatedAt: '2024-02-01T00:00:00.000Z' })()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
      expect(deletion.ran()).toBe(true);
      expect(await run(tenants.findByKeyHash(newKey))).toBeUndefined();
      expect(await rowsNaming(racing.id)).toEqual([]);
    }
  });
});
