import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { type AppError, forbidden, permanent } from '../domain/errors';
import { checkGrants, type RoutingGrants } from '../domain/routingGrants';
import type { Principal } from '../domain/tenant';
import type { Webhook, WebhookInput } from '../domain/webhook';
import type { TenantGrants } from '../ports/tenantGrants';

/*
 * What a tenant key may not do when it creates or changes a webhook (docs/tenants.md): route on a
 * value its tenant holds no grant for, or skip endpoint verification where the deployment asks for
 * it. The admin key is bound by neither.
 */

export type TenantRulesDeps = {
  /** The tenant's grants, read now (not cached). Absent: every tenant write is refused (fail closed). */
  readonly grantsOf?: TenantGrants;
  /** VERIFY_ENDPOINTS_DEFAULT */
  readonly verifyEndpointsDefault?: boolean;
};

/** The grants the principal's writes are checked against; undefined for the admin (no check). */
export const grantsForWrite = (deps: TenantRulesDeps, principal: Principal): TE.TaskEither<AppError, RoutingGrants | undefined> => {
  if (principal.kind === 'Admin') return TE.right(undefined);
  if (deps.grantsOf === undefined) return TE.left(permanent('Routing grants are not wired into this use case'));
  return pipe(
    deps.grantsOf(principal.tenantId),
    TE.map((grants) => grants ?? {}),
  );
};

/** Whether a tenant's webhook must pass endpoint verification whatever its body says. */
export const verificationRequired = (deps: TenantRulesDeps, principal: Principal): boolean => principal.kind === 'Tenant' && deps.verifyEndpointsDefault === true;

/**
 * The rules on a create/replace body, or on the input a patch yields. `grants` undefined = the
 * admin. `previous` is the stored webhook on a change: once under verification, a tenant cannot
 * turn it off (it would skip the challenge of a new URL).
 */
export const checkTenantInput =
  (rules: { deps: TenantRulesDeps; principal: Principal; grants: RoutingGrants | undefined; previous?: Webhook }) =>
  (input: WebhookInput): E.Either<AppError, WebhookInput> => {
    if (rules.principal.kind === 'Admin' || rules.grants === undefined) return E.right(input);
    if (input.verify === false && (rules.deps.verifyEndpointsDefault === true || rules.previous?.verified !== undefined))
      return E.left(forbidden('verify: a tenant key cannot turn endpoint verification off (VERIFY_ENDPOINTS_DEFAULT, or a webhook already under verification); nothing was stored'));
    return pipe(
      checkGrants(rules.grants, input.attributes ?? {}),
      E.map(() => input),
    );
  };
