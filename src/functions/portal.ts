import { app } from '@azure/functions';
import { mintPortalLinkHandler, openPortalSessionHandler, portalMeHandler, portalPageHandler, revokePortalLinksHandler } from './handlers/portalHandlers';
import { configuredHttp } from './lib/configured';
import { getDependencies } from './lib/dependencies';
import { noStore } from './lib/responses';

/* The subscriber portal (docs/portal.md): links minted by the admin, the session exchange, the page. */

const portalDeps = () => {
  const deps = getDependencies();
  return { adminApiKey: deps.config.ADMIN_API_KEY, tenants: deps.tenants, webhooks: deps.webhooks, clock: deps.clock };
};

app.http('tenantPortalLinks', {
  route: 'tenants/{id}/portal-links',
  methods: ['POST', 'DELETE'],
  authLevel: 'anonymous',
  handler: noStore(configuredHttp(() => {
    const deps = portalDeps();
    const [mint, revoke] = [mintPortalLinkHandler(deps), revokePortalLinksHandler(deps)];
    return (request, context) => (request.method.toUpperCase() === 'DELETE' ? revoke : mint)(request, context);
  })),
});
app.http('portalSession', { route: 'portal/session', methods: ['POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => openPortalSessionHandler(portalDeps()))) });
app.http('portalMe', { route: 'portal/me', methods: ['GET'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => portalMeHandler(portalDeps()))) });
// The page holds no data and needs no settings: served like the console, without a key.
app.http('portal', { route: 'portal', methods: ['GET'], authLevel: 'anonymous', handler: portalPageHandler() });
