import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { type PortalMe, portalKeysOf } from '../../domain/portalToken';
import type { Clock } from '../../ports/clock';
import type { TenantStore } from '../../ports/tenantStore';
import type { WebhookStore } from '../../ports/webhookStore';
import { PORTAL_HEADERS, PORTAL_HTML } from '../../portal/page';
import { mintPortalLink, openPortalSession, portalTenantOf, revokePortalLinks } from '../../usecases/portalLinks';
import { getTenantWithGrants } from '../../usecases/tenantGrants';
import type { Handler } from '../lib/responses';
import { adminOrTenant, anyone, bearerKey, byMethod, route } from '../lib/route';

/** Portal bodies are one token or one number. */
const MAX_PORTAL_BODY_BYTES = 4 * 1024;

export type PortalHandlerDeps = {
  readonly adminApiKey: string;
  readonly tenants: TenantStore;
  readonly webhooks: Pick<WebhookStore, 'list'>;
  readonly clock: Clock;
};

const portalDeps = (deps: PortalHandlerDeps) => ({ tenants: deps.tenants, clock: deps.clock, keys: portalKeysOf(deps.adminApiKey) });

/** /api/tenants/{id}/portal-links (admin): POST {"ttlSeconds"?} mints (201 {"url","expiresAt"}); DELETE revokes every link and session (204). */
export const portalLinksHandler = (deps: PortalHandlerDeps): Handler =>
  byMethod({
    POST: route({
      auth: bearerKey(deps.adminApiKey),
      body: { limitBytes: MAX_PORTAL_BODY_BYTES, optional: true },
      run: ({ id, body, request }) =>
        pipe(
          mintPortalLink(portalDeps(deps))({ id, body, origin: new URL(request.url).origin }),
          TE.map((link) => ({ status: 201, body: link })),
        ),
    }),
    DELETE: route({
      auth: bearerKey(deps.adminApiKey),
      run: ({ id }) =>
        pipe(
          revokePortalLinks(deps)(id),
          TE.map(() => ({ status: 204 })),
        ),
    }),
  });

/** POST /api/portal/session {"token"} (no key: the token is the credential): 201 {"token","tenantId","expiresAt"}. */
export const portalSessionHandler = (deps: PortalHandlerDeps): Handler =>
  route({
    auth: anyone,
    body: { limitBytes: MAX_PORTAL_BODY_BYTES },
    run: ({ body }) =>
      pipe(
        openPortalSession(portalDeps(deps))(body),
        TE.map((session) => ({ status: 201, body: session })),
      ),
  });

/** GET /api/portal/me (a session bearer or a tenant key): who the portal acts for, and the routing values it may use. */
export const portalMeHandler = (deps: PortalHandlerDeps): Handler =>
  route({
    auth: adminOrTenant(deps),
    run: ({ caller }) =>
      pipe(
        TE.fromEither(portalTenantOf(caller)),
        TE.chain(getTenantWithGrants({ tenants: deps.tenants, webhooks: deps.webhooks, log: () => undefined })),
        TE.map((tenant) => {
          const me: PortalMe = { tenantId: tenant.id, name: tenant.name, routing: tenant.routing ?? {} };
          return { status: 200, body: me };
        }),
      ),
  });

/** GET /api/portal: the static page; it holds no data and reads its token from the URL fragment. */
export const portalPageHandler = (): Handler => async () => ({ status: 200, headers: { ...PORTAL_HEADERS }, body: PORTAL_HTML });
