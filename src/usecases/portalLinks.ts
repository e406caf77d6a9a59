import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { type AppError, forbidden } from '../domain/errors';
import {
  DEFAULT_PORTAL_LINK_TTL_SECONDS,
  PortalLinkRequest,
  type PortalClaims,
  type PortalKeys,
  type PortalLink,
  type PortalSessionView,
  type PortalTokenKind,
  type PortalTokenProblem,
  PortalSessionRequest,
  signPortalToken,
  verifyPortalToken,
} from '../domain/portalToken';
import type { Principal, Tenant, TenantId } from '../domain/tenant';
import type { Clock } from '../ports/clock';
import type { TenantStore } from '../ports/tenantStore';
import { decodeTenantId } from './changeTenantKey';
import { decodeOrInvalid } from './decode';

/* Portal links and sessions (docs/portal.md): mint, exchange, check, revoke. */

export type PortalDeps = { readonly tenants: Pick<TenantStore, 'get'>; readonly clock: Clock; readonly keys: PortalKeys };

const nowSeconds = (clock: Clock): number => Math.floor(clock.now().getTime() / 1000);
const isoOf = (seconds: number): string => new Date(seconds * 1000).toISOString();
const epochOf = (tenant: Tenant): number => tenant.portalEpoch ?? 0;

/** POST /api/tenants/{id}/portal-links (admin): a link to `<origin>/api/portal`, the token in the fragment (browsers never send it). */
export const mintPortalLink =
  (deps: PortalDeps) =>
  (input: { id: string; body: unknown; origin: string }): TE.TaskEither<AppError, PortalLink> =>
    pipe(
      TE.fromEither(decodeOrInvalid(PortalLinkRequest, input.body, { what: 'The body' })),
      TE.chain((request) =>
        pipe(
          TE.fromEither(decodeTenantId(input.id)),
          TE.chain(deps.tenants.get),
          TE.map((tenant) => {
            const exp = nowSeconds(deps.clock) + (request.ttlSeconds ?? DEFAULT_PORTAL_LINK_TTL_SECONDS);
            const token = signPortalToken({ keys: deps.keys, kind: 'link', claims: { v: 1, tid: tenant.id, ep: epochOf(tenant), exp } });
            return { url: `${input.origin}/api/portal#token=${token}`, expiresAt: isoOf(exp) };
          }),
        ),
      ),
    );

/** DELETE /api/tenants/{id}/portal-links (admin): every link and session of the tenant stops at once. */
export const revokePortalLinks =
  (deps: { readonly tenants: Pick<TenantStore, 'bumpPortalEpoch'> }) =>
  (id: string): TE.TaskEither<AppError, void> =>
    pipe(
      TE.fromEither(decodeTenantId(id)),
      TE.chain(deps.tenants.bumpPortalEpoch),
      TE.map(() => undefined),
    );

const WORDS: Readonly<Record<PortalTokenKind, { what: string; then: string }>> = {
  link: { what: 'This portal link', then: 'ask for a new link' },
  session: { what: 'The portal session', then: 'open a new portal link' },
};
const unauthorized = (message: string): AppError => ({ kind: 'Unauthorized', message });

/** Signature, expiry, then the tenant's current epoch (one point read): a deleted tenant or a bumped epoch ends the token. */
const checkToken =
  (deps: PortalDeps, kind: PortalTokenKind) =>
  (token: string): TE.TaskEither<AppError, PortalClaims> => {
    const words = WORDS[kind];
    const problem: Readonly<Record<PortalTokenProblem, string>> = {
      Malformed: kind === 'link' ? `${words.what} is not valid (changed or cut short); ${words.then}` : 'A valid bearer key is required (Authorization: Bearer <key>)',
      Expired: `${words.what} has expired; ${words.then}`,
    };
    const revoked = unauthorized(`${words.what} was revoked; ${words.then}`);
    return pipe(
      TE.fromEither(
        pipe(
          verifyPortalToken({ keys: deps.keys, kind, token, nowSeconds: nowSeconds(deps.clock) }),
          E.mapLeft((p) => unauthorized(problem[p])),
        ),
      ),
      TE.chain((claims) =>
        pipe(
          deps.tenants.get(claims.tid),
          TE.orElse((e) => (e.kind === 'NotFound' ? TE.left(revoked) : TE.left(e))),
          TE.chain((tenant) => (epochOf(tenant) === claims.ep ? TE.right(claims) : TE.left(revoked))),
        ),
      ),
    );
  };

/** POST /api/portal/session {"token"}: a link token becomes a session bearer that ends when the link would. */
export const openPortalSession =
  (deps: PortalDeps) =>
  (body: unknown): TE.TaskEither<AppError, PortalSessionView> =>
    pipe(
      TE.fromEither(decodeOrInvalid(PortalSessionRequest, body, { what: 'The body' })),
      TE.chain(({ token }) => checkToken(deps, 'link')(token)),
      TE.map((claims) => ({ token: signPortalToken({ keys: deps.keys, kind: 'session', claims }), tenantId: claims.tid, expiresAt: isoOf(claims.exp) })),
    );

/** A session bearer as the tenant's principal, never the admin's. */
export const portalSessionPrincipal =
  (deps: PortalDeps) =>
  (token: string): TE.TaskEither<AppError, Principal> =>
    pipe(
      checkToken(deps, 'session')(token),
      TE.map((claims): Principal => ({ kind: 'Tenant', tenantId: claims.tid })),
    );

/** The tenant a portal call acts for; the admin has none. */
export const portalTenantOf = (principal: Principal): E.Either<AppError, TenantId> =>
  principal.kind === 'Tenant' ? E.right(principal.tenantId) : E.left(forbidden('The admin key has no portal of its own: mint a portal link for a tenant (POST /api/tenants/{id}/portal-links)'));
