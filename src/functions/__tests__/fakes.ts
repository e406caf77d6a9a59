import * as TE from 'fp-ts/TaskEither';
import { memoryTenantStore } from '../../adapters/__tests__/memory/memoryTenantStore';
import type { HttpSender } from '../../ports/httpSender';
import type { TenantGrants } from '../../ports/tenantGrants';

/** A sender for tests that must not send: a request fails the test loudly. */
export const noSender: HttpSender = { send: () => () => Promise.reject(new Error('this test sends no request')) };

/** The production dependencies of the webhook routes that admin-key tests never reach: no tenants, no sends. */
export const adminOnly = (): { tenants: ReturnType<typeof memoryTenantStore>; sender: HttpSender; grantsOf: TenantGrants } => ({
  tenants: memoryTenantStore(),
  sender: noSender,
  grantsOf: () => TE.right(undefined),
});
