import type { HttpRequest } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../../domain/errors';
import { type PortalMe, portalKeysOf } from '../../domain/portalToken';
import type { Clock } from '../../ports/clock';
import type { TenantStore } from '../../ports/tenantStore';
import type { WebhookStore } from '../../ports/webhookStore';
import { PORTAL_HEADERS, PORTAL_HTML } from '../../portal/page';
import { mintPortalLink, openPortalSession, portalTenantOf, revokePortalLinks } from '../../usecases/portalLinks';
import { getTenantWithGrants } from '../../usecases/tenantGrants';
import { requireBearer } from '../lib/auth';
import { readBodyBytes, readJsonBody } from '../lib/body';
import { authenticate } from '../lib/principal';
import { errorResponse, type Handler, json } from '../lib/responses';

/** Portal bodies are one token or one number. */
const MAX_PORTAL_BODY_BYTES = 4 * 1024;

export type PortalHandlerDeps = {
  readonly adminApiKey: string;
  readonly tenants: TenantStore;
  readonly webhooks: Pick<WebhookStore, 'list'>;
  readonly clock: Clock;
};

type Answer = { status: number; body?: unknown };

const answer =
  (run: (request: HttpRequest) => TE.TaskEither<AppError, Answer>): Handler =>
  async (request, context) =>
    pipe(
      run(request),
      TE.match(
        (error) => errorResponse(error, context),
        (a) => (a.body === undefined ? { status: a.status } : json(a.status, a.body)),
      ),
    )();

const admin = (deps: PortalHandlerDeps, run: (request: HttpRequest) => TE.TaskEither<AppError, Answer>): Handler =>
  answer((request) => pipe(TE.fromEither(requireBearer(request, deps.adminApiKey)), TE.chain(() => run(request))));

/** An optional JSON body: none at all reads as `{}` (the default TTL). */
const optionalJson = (request: HttpRequest): TE.TaskEither<AppError, unknown> => async () => {
  const copy = request.clone();
  const bytes = await readBodyBytes(request, MAX_PORTAL_BODY_BYTES);
  if (E.isLeft(bytes)) return bytes;
  return bytes.right.length === 0 ? E.right({}) : readJsonBody(copy, MAX_PORTAL_BODY_BYTES);
};

const portalDeps = (deps: PortalHandlerDeps) => ({ tenants: deps.tenants, clock: deps.clock, keys: portalKeysOf(deps.adminApiKey) });

/** POST /api/tenants/{id}/portal-links {"ttlSeconds"?} (admin): 201 {"url","expiresAt"}. */
export const mintPortalLinkHandler = (deps: PortalHandlerDeps): Handler =>
  admin(deps, (request) =>
    pipe(
      optionalJson(request),
      TE.chain((body) => mintPortalLink(portalDeps(deps))({ id: request.params.id ?? '', body, origin: new URL(request.url).origin })),
      TE.map((link) => ({ status: 201, body: link })),
    ),
  );

/** DELETE /api/tenants/{id}/portal-links (admin): 204; every link and session of the tenant stops. */
export const revokePortalLinksHandler = (deps: PortalHandlerDeps): Handler =>
  admin(deps, (request) => pipe(revokePortalLinks(deps)(request.params.id ?? ''), TE.map(() => ({ status: 204 }))));

/** POST /api/portal/session {"token"} (no key: the token is the credential): 201 {"token","tenantId","expiresAt"}. */
export const openPortalSessionHandler = (deps: PortalHandlerDeps): Handler =>
  answer((request) =>
    pipe(
      () => readJsonBody(request, MAX_PORTAL_BODY_BYTES),
      TE.chain(openPortalSession(portalDeps(deps))),
      TE.map((session) => ({ status: 201, body: session })),
    ),
  );

/** GET /api/portal/me (a session bearer or a tenant key): who the portal acts for, and the routing values it may use. */
export const portalMeHandler = (deps: PortalHandlerDeps): Handler =>
  answer((request) =>
    pipe(
      authenticate(deps)(request),
      TE.chainEitherK(portalTenantOf),
      TE.chain(getTenantWithGrants({ tenants: deps.tenants, webhooks: deps.webhooks, log: () => undefined })),
      TE.map((tenant) => {
        const me: PortalMe = { tenantId: tenant.id, name: tenant.name, routing: tenant.routing ?? {} };
        return { status: 200, body: me };
      }),
    ),
  );

/** GET /api/portal: the static page; it holds no data and reads its token from the URL fragment. */
export const portalPageHandler = (): Handler => async () => ({ status: 200, headers: { ...PORTAL_HEADERS }, body: PORTAL_HTML });
