import * as TE from 'fp-ts/TaskEither';
import { memoryTenantStore } from '../../adapters/__tests__/memory/memoryTenantStore';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook } from '../../domain/__tests__/fixtures';
import { transient } from '../../domain/errors';
import { hashKey, type Principal, type Tenant, type TenantId } from '../../domain/tenant';
import type { WebhookId } from '../../domain/webhook';
import { createTenant } from '../createTenant';
import { createWebhook } from '../createWebhook';
import { COUNT_PAGE_SIZE, deleteTenant } from '../deleteTenant';
import { expectRight as right, expectLeft as left } from '../../__tests__/taskEither';

const setup = () => {
  const webhooks = memoryWebhookStore();
  const tenants = memoryTenantStore();
  let seed = 0;
  // Every tenant here holds the value its webhooks use (grants: tenantGrants.test.ts).
  const grantsOf = () => TE.right({ name: ['wh1'] });
  const deps = { webhooks, tenants, clock: { now: () => new Date('2024-05-01T10:00:00.000Z') }, randomBytes: (size: number) => new Uint8Array(size).fill(++seed % 256), grantsOf };
  return { webhooks, tenants, deps };
};
const body = { url: 'https://receiver.example/hook', subscriptions: ['ping'], attributes: { name: 'wh1' } };
const as = (tenant: Tenant): Principal => ({ kind: 'Tenant', tenantId: tenant.id });

describe('deleteTenant', () => {
  it('deletes a tenant without webhooks: it no longer reads or lists, and its key finds nobody', async () => {
    const s = setup();
    const { tenant, apiKey } = await right(createTenant(s.deps)({ name: 'gone' }));
    const { tenant: kept } = await right(createTenant(s.deps)({ name: 'kept' }));
    await right(deleteTenant(s.deps)(tenant.id));
    expect(await left(s.tenants.get(tenant.id))).toMatchObject({ kind: 'NotFound' });
    expect((await right(s.tenants.list({ limit: 10 }))).items.map((t) => t.id)).toEqual([kept.id]);
    expect(await right(s.tenants.findByKeyHash(hashKey(apiKey)))).toBeUndefined();
  });

  it('an unknown or malformed id is NotFound, and so is a second delete', async () => {
    const s = setup();
    const { tenant } = await right(createTenant(s.deps)({ name: 'once' }));
    await right(deleteTenant(s.deps)(tenant.id));
    expect(await left(deleteTenant(s.deps)(tenant.id))).toEqual({ kind: 'NotFound', message: `No tenant with id "${tenant.id}"` });
    expect(await left(deleteTenant(s.deps)('not-a-tenant'))).toMatchObject({ kind: 'NotFound' });
  });

  it('refuses while the tenant owns webhooks, naming how many, and changes nothing', async () => {
    const s = setup();
    const { tenant, apiKey } = await right(createTenant(s.deps)({ name: 'busy' }));
    const { tenant: other } = await right(createTenant(s.deps)({ name: 'other' }));
    const owned = [];
    for (let i = 0; i < 3; i++) owned.push(await right(createWebhook(s.deps)(body, as(tenant))));
    await right(createWebhook(s.deps)(body, as(other)));
    await right(createWebhook(s.deps)(body));
    const before = s.tenants.rows.get(tenant.id);

    expect(await left(deleteTenant(s.deps)(tenant.id))).toEqual({
      kind: 'Conflict',
      message: `Tenant "${tenant.id}" still owns 3 webhooks; delete them first (GET /api/tenants/${tenant.id}/webhooks lists them)`,
    });
    expect(s.tenants.rows.get(tenant.id)).toEqual(before);
    expect(await right(s.tenants.findByKeyHash(hashKey(apiKey)))).toBe(tenant.id);
    expect(s.webhooks.rows.size).toBe(5);

    for (const w of owned.slice(1)) s.webhooks.rows.delete(w.id);
    expect(await left(deleteTenant(s.deps)(tenant.id))).toMatchObject({ kind: 'Conflict', message: expect.stringContaining('still owns 1 webhook;') });
    s.webhooks.rows.delete(owned[0]?.id as string);
    await right(deleteTenant(s.deps)(tenant.id));
    // The other tenant's and the admin's webhooks were never the deleted tenant's business.
    expect(s.webhooks.rows.size).toBe(2);
  });

  it("counts every page of the tenant's webhooks", async () => {
    const s = setup();
    const { tenant } = await right(createTenant(s.deps)({ name: 'many' }));
    for (let i = 0; i < COUNT_PAGE_SIZE + 1; i++) {
      const w = aWebhook({ id: `01J${String(i).padStart(23, '0')}` as WebhookId, tenantId: tenant.id });
      s.webhooks.rows.set(w.id, w);
    }
    expect(await left(deleteTenant(s.deps)(tenant.id))).toMatchObject({ kind: 'Conflict', message: expect.stringContaining(`still owns ${COUNT_PAGE_SIZE + 1} webhooks`) });
  });

  it('a webhook the tenant creates during the delete keeps the tenant (keyless): no webhook is left to nobody', async () => {
    const s = setup();
    const { tenant, apiKey } = await right(createTenant(s.deps)({ name: 'racing' }));
    // A create that authenticated before the revoke lands between the first count and the revoke.
    const racing = {
      ...s.tenants,
      setKey: (id: TenantId, key: Parameters<typeof s.tenants.setKey>[1]) => TE.chain(() => s.tenants.setKey(id, key))(createWebhook(s.deps)(body, as(tenant))),
    };
    const refused = await left(deleteTenant({ ...s.deps, tenants: racing })(tenant.id));
    expect(refused).toMatchObject({ kind: 'Conflict', message: expect.stringContaining('still owns 1 webhook (created during this delete; its key is now revoked)') });
    expect(s.tenants.rows.get(tenant.id)).toMatchObject({ id: tenant.id, keyHash: null });
    expect(await right(s.tenants.findByKeyHash(hashKey(apiKey)))).toBeUndefined();
    expect([...s.webhooks.rows.values()].map((w) => w.tenantId)).toEqual([tenant.id]);
  });

  it('a storage failure passes through and deletes nothing', async () => {
    const s = setup();
    const { tenant } = await right(createTenant(s.deps)({ name: 'stays' }));
    s.webhooks.failWith = transient('down');
    expect(await left(deleteTenant(s.deps)(tenant.id))).toEqual(transient('down'));
    expect(s.tenants.rows.get(tenant.id)).toEqual(tenant);
  });
});
