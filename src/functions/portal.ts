import { app } from '@azure/functions';
import { portalLinksHandler, portalMeHandler, portalPageHandler, portalSessionHandler } from './handlers/portalHandlers';
import { portalRecord } from './lib/composition';
import { configuredHttp } from './lib/configured';
import { noStore } from './lib/responses';

/* The subscriber portal (docs/portal.md): links minted by the admin, the session exchange, the page. */
app.http('tenantPortalLinks', { route: 'tenants/{id}/portal-links', methods: ['POST', 'DELETE'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => portalLinksHandler(portalRecord()))) });
app.http('portalSession', { route: 'portal/session', methods: ['POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => portalSessionHandler(portalRecord()))) });
app.http('portalMe', { route: 'portal/me', methods: ['GET'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => portalMeHandler(portalRecord()))) });
// The page holds no data and needs no settings: served like the console, without a key.
app.http('portal', { route: 'portal', methods: ['GET'], authLevel: 'anonymous', handler: portalPageHandler() });
