import * as TE from 'fp-ts/TaskEither';
import { memoryTenantStore } from '../../adapters/__tests__/memory/memoryTenantStore';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { transient } from '../../domain/errors';
import { ADMIN, type Principal, type Tenant } from '../../domain/tenant';
import { expectLeft as left, expectRight as right } from '../../__tests__/taskEither';
import { createTenant } from '../createTenant';
import { createWebhook } from '../createWebhook';
import { deleteTenant } from '../deleteTenant';
import { tenantOwnedCreate } from '../tenantOwnedCreate';

const setup = () => {
  const stored = memoryWebhookStore();
  const tenants = memoryTenantStore();
  let seed = 0;
  const base = { tenants, clock: { now: () => new Date('2024-05-01T10:00:00.000Z') }, randomBytes: (size: number) => new Uint8Array(size).fill(++seed % 256) };
  // The tenant holds the value (grants: tenantGrants.test.ts), so only the race decides.
  const grantsOf = () => TE.right({ name: ['wh1'] });
  const create = (principal: Principal) => createWebhook({ ...base, webhooks: tenantOwnedCreate(stored, tenants), grantsOf })(body, principal);
  return { stored, tenants, base, create };
};
const body = { url: 'https://receiver.example/hook', subscriptions: ['ping'], attributes: { name: 'wh1' } };
const as = (tenant: Tenant): Principal => ({ kind: 'Tenant', tenantId: tenant.id });

describe('tenantOwnedCreate', () => {
  it("keeps the webhook of a tenant that still holds a key, and the admin's", async () => {
    const s = setup();
    const { tenant } = await right(createTenant(s.base)({ name: 'active' }));
    const owned = await right(s.create(as(tenant)));
    const adminOwned = await right(s.create(ADMIN));
    expect([...s.stored.rows.keys()].sort()).toEqual([owned.id, adminOwned.id].sort());
    expect(owned.tenantId).toBe(tenant.id);
  });

  it('refuses and removes a webhook written after the tenant lost its key or was deleted (a create racing deleteTenant)', async () => {
    const s = setup();
    // Both authenticated before: one tenant's key is revoked (the delete's first step), the other tenant is gone.
    const { tenant: revoked } = await right(createTenant(s.base)({ name: 'revoked' }));
    const { tenant: deleted } = await right(createTenant(s.base)({ name: 'deleted' }));
    await right(s.tenants.setKey(revoked.id, null));
    await right(deleteTenant({ tenants: s.tenants, webhooks: s.stored })(deleted.id));

    for (const tenant of [revoked, deleted]) {
      expect(await left(s.create(as(tenant)))).toEqual({ kind: 'Unauthorized', message: `The key of tenant "${tenant.id}" was revoked during this request; nothing was created` });
    }
    expect(s.stored.rows.size).toBe(0);
  });

  it('leaves the webhook as written when the tenant cannot be read', async () => {
    const s = setup();
    const { tenant } = await right(createTenant(s.base)({ name: 'flaky' }));
    s.tenants.failWith = transient('tables down');
    const owned = await right(s.create(as(tenant)));
    expect([...s.stored.rows.keys()]).toEqual([owned.id]);
  });
});
