import { ADMIN_KEY, type Answer, INGEST_KEY, type Json, type OpsEnvironment, startOpsEnvironment } from '../../../cli/__tests__/opsEnvironment';
import { OPERATIONS, openApiDocument } from '../document';
import { validate } from './schemaValidator';

/*
 * The document against the running app: every route the app registers is documented (and every
 * documented route exists), and real answers, status and body, are what the document says, with
 * no field it does not name.
 */

const doc = openApiDocument();

/** `listEvents: [GET] http://127.0.0.1:1234/api/events` -> GET /api/events, from the host's start-up log. */
const routesOf = (env: OpsEnvironment): { method: string; path: string }[] =>
  env.host.logs
    .map((l) => /^\w+: \[([A-Z,]+)\] https?:\/\/[^/]+(\/api\/\S+)$/.exec(l.message))
    .filter((m): m is RegExpExecArray => m !== null)
    .flatMap((m) => (m[1] as string).split(',').map((method) => ({ method: method.toLowerCase(), path: m[2] as string })));

describe('the OpenAPI document and the running app', () => {
  let env: OpsEnvironment;
  beforeAll(async () => {
    env = await startOpsEnvironment('oas');
  });
  afterAll(async () => {
    await env?.stop();
  });

  /** Asserts the answer's status is documented for the operation and its body fits that response's schema. */
  const conforms = (operationId: string, answer: Answer): void => {
    const op = OPERATIONS.find((o) => o.operationId === operationId);
    expect(op).toBeDefined();
    const response = op?.responses[String(answer.status)];
    expect({ operationId, status: answer.status, documented: response !== undefined }).toEqual({ operationId, status: answer.status, documented: true });
    if (response !== undefined && 'schema' in response) {
      expect({ operationId, status: answer.status, errors: validate({ schema: { $ref: `#/components/schemas/${response.schema}` }, value: answer.body, root: doc, closed: true }) }).toEqual({
        operationId,
        status: answer.status,
        errors: [],
      });
    } else if (response !== undefined && 'contentType' in response) {
      expect(answer.contentType).toContain(response.contentType);
    } else expect(answer.text).toBe('');
  };

  it('serves the document without a key', async () => {
    const res = await env.call('GET', 'openapi.json');
    conforms('openApi', res);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('documents every route the app registers, and no route it does not', () => {
    const routes = routesOf(env);
    expect(routes.length).toBeGreaterThanOrEqual(10);
    const documented = OPERATIONS.map((o) => `${o.method} ${o.path}`).sort();
    const registered = [...new Set(routes.map((r) => `${r.method} ${r.path}`))].sort();
    expect(registered.filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((d) => !registered.includes(d))).toEqual([]);
  });

  it('answers as documented through a whole life: registry, ingest, status, attempts, poison, redrive', async () => {
    const ok = await env.receiver(200);
    const refusing = await env.receiver(400);
    conforms('health', await env.call('GET', 'health'));
    conforms('console', await env.call('GET', 'console'));

    const created = await env.call('POST', 'webhooks', { key: ADMIN_KEY, body: { url: ok.url('/hook'), subscriptions: ['ping'], attributes: { name: 'good' }, headers: { 'X-Tenant': 't1' } } });
    conforms('createWebhook', created);
    const goodId = created.body?.id as string;
    const bad = await env.call('POST', 'webhooks', { key: ADMIN_KEY, body: { url: refusing.url('/hook'), subscriptions: ['*'], attributes: { name: 'bad' } } });
    conforms('createWebhook', bad);
    const badId = bad.body?.id as string;
    conforms('createWebhook', await env.call('POST', 'webhooks', { key: ADMIN_KEY, body: { url: 'ftp://x', subscriptions: ['ping'] } }));
    conforms('createWebhook', await env.call('POST', 'webhooks', { key: 'wrong-key-0123456789', body: {} }));
    conforms('listWebhooks', await env.call('GET', 'webhooks?limit=1', { key: ADMIN_KEY }));
    conforms('listWebhooks', await env.call('GET', 'webhooks?limit=0', { key: ADMIN_KEY }));
    conforms('getWebhook', await env.call('GET', `webhooks/${goodId}`, { key: ADMIN_KEY }));
    conforms('getWebhook', await env.call('GET', 'webhooks/01J0Z7X3V1F6Q8R2T4W6Y8A0C9', { key: ADMIN_KEY }));
    conforms('patchWebhook', await env.call('PATCH', `webhooks/${goodId}`, { key: ADMIN_KEY, body: { headers: { 'X-Tenant': null } } }));
    conforms('patchWebhook', await env.call('PATCH', `webhooks/${goodId}`, { key: ADMIN_KEY, body: { disable: true } }));
    conforms('replaceWebhook', await env.call('PUT', `webhooks/${goodId}`, { key: ADMIN_KEY, body: { url: ok.url('/hook'), subscriptions: ['ping'], attributes: { name: 'good' } } }));

    conforms('ingestEvent', await env.call('POST', 'events', { key: INGEST_KEY, body: { name: 'ping', payload: {} } }));
    conforms('ingestEvent', await env.call('POST', 'events', { key: ADMIN_KEY, body: { name: 'ping:all' } }));
    const accepted = await env.call('POST', 'events', { key: INGEST_KEY, body: { id: 'oas-ping-all', name: 'ping:all' } });
    conforms('ingestEvent', accepted);
    conforms('ingestEvent', await env.call('POST', 'events', { key: INGEST_KEY, body: { id: 'oas-ping-all', name: 'ping', payload: { name: 'x' } } }));
    await env.settled('oas-ping-all', 2);
    conforms('getEventStatus', await env.call('GET', 'events/oas-ping-all', { key: ADMIN_KEY }));
    conforms('getEventStatus', await env.call('GET', 'events/no-such-event', { key: ADMIN_KEY }));
    const listed = await env.call('GET', 'events?limit=5', { key: ADMIN_KEY });
    conforms('listEvents', listed);
    expect((listed.body?.items as Json[]).map((e) => e.id)).toContain('oas-ping-all');
    conforms('listEvents', await env.call('GET', 'events?limit=1000', { key: ADMIN_KEY }));
    conforms('listEvents', await env.call('GET', 'events', { key: INGEST_KEY }));

    const attempts = await env.call('GET', `webhooks/${badId}/attempts`, { key: ADMIN_KEY });
    conforms('listWebhookAttempts', attempts);
    expect((attempts.body?.items as Json[]).length).toBeGreaterThan(0);
    conforms('listWebhookAttempts', await env.call('GET', `webhooks/${badId}/attempts?limit=x`, { key: ADMIN_KEY }));

    const poison = await env.call('GET', 'poison', { key: ADMIN_KEY });
    conforms('listPoison', poison);
    const messageId = (poison.body?.items as Json[])[0]?.messageId as string;
    expect(messageId).toBeDefined();
    conforms('redrivePoison', await env.call('POST', 'poison/redrive', { key: ADMIN_KEY, body: { messageId } }));
    conforms('redrivePoison', await env.call('POST', 'poison/redrive', { key: ADMIN_KEY, body: { messageId: 'not-there' } }));
    conforms('redrivePoison', await env.call('POST', 'poison/redrive', { key: ADMIN_KEY, body: { all: false } }));
    conforms('redrivePoison', await env.call('POST', 'poison/redrive', { key: ADMIN_KEY, body: { all: true } }));

    conforms('resealSecrets', await env.call('POST', 'secrets/reseal', { key: ADMIN_KEY }));
    conforms('resealSecrets', await env.call('POST', 'secrets/reseal', { key: INGEST_KEY }));

    conforms('deleteWebhook', await env.call('DELETE', `webhooks/${goodId}`, { key: ADMIN_KEY }));
    conforms('deleteWebhook', await env.call('DELETE', `webhooks/${goodId}`, { key: ADMIN_KEY }));
  });

  it('answers as documented on the privacy routes', async () => {
    conforms('purgeEvents', await env.call('DELETE', 'events?before=2000-01-01T00:00:00Z', { key: ADMIN_KEY }));
    conforms('purgeEvents', await env.call('DELETE', 'events?before=tomorrow', { key: ADMIN_KEY }));
    conforms('purgeEvents', await env.call('DELETE', 'events?before=2000-01-01T00:00:00Z', { key: 'wrong-key-0123456789' }));
    conforms('eraseSubject', await env.call('POST', 'erasure', { key: ADMIN_KEY, body: { fiscalCode: 'ZZZZZZ00A00A000Z' } }));
    conforms('eraseSubject', await env.call('POST', 'erasure', { key: ADMIN_KEY, body: { fiscalCode: 'nope' } }));
    conforms('eraseSubject', await env.call('POST', 'erasure', { key: 'wrong-key-0123456789', body: {} }));
  });

  it('answers as documented on the tenant routes, secret rotation and endpoint verification', async () => {
    const ok = await env.receiver(200);
    const created = await env.call('POST', 'tenants', { key: ADMIN_KEY, body: { name: 'Payments team' } });
    conforms('createTenant', created);
    const tenantId = created.body?.id as string;
    conforms('createTenant', await env.call('POST', 'tenants', { key: ADMIN_KEY, body: { title: 'x' } }));
    conforms('createTenant', await env.call('POST', 'tenants', { key: INGEST_KEY, body: { name: 'x' } }));
    conforms('listTenants', await env.call('GET', 'tenants?limit=10', { key: ADMIN_KEY }));
    conforms('listTenants', await env.call('GET', 'tenants?limit=0', { key: ADMIN_KEY }));
    conforms('getTenant', await env.call('GET', `tenants/${tenantId}`, { key: ADMIN_KEY }));
    conforms('getTenant', await env.call('GET', 'tenants/01J0Z7X3V1F6Q8R2T4W6Y8A0C9', { key: ADMIN_KEY }));
    const rotated = await env.call('POST', `tenants/${tenantId}/rotate-key`, { key: ADMIN_KEY });
    conforms('rotateTenantKey', rotated);

    const tenantKey = rotated.body?.apiKey as string;
    const own = await env.call('POST', 'webhooks', { key: tenantKey, body: { url: ok.url('/tenant'), subscriptions: ['ping'], attributes: { name: 'tenant-hook' } } });
    conforms('createWebhook', own);
    const ownId = own.body?.id as string;
    conforms('listWebhooks', await env.call('GET', 'webhooks', { key: tenantKey }));
    conforms('listTenantWebhooks', await env.call('GET', `tenants/${tenantId}/webhooks`, { key: ADMIN_KEY }));
    conforms('listTenantWebhooks', await env.call('GET', 'tenants/01J0Z7X3V1F6Q8R2T4W6Y8A0C9/webhooks', { key: ADMIN_KEY }));
    conforms('rotateWebhookSecret', await env.call('POST', `webhooks/${ownId}/rotate-secret`, { key: tenantKey }));
    conforms('rotateWebhookSecret', await env.call('POST', `webhooks/${ownId}/rotate-secret`, { key: ADMIN_KEY, body: { overlapSeconds: 60 } }));
    conforms('rotateWebhookSecret', await env.call('POST', `webhooks/${ownId}/rotate-secret`, { key: ADMIN_KEY, body: { overlapSeconds: -1 } }));
    conforms('verifyWebhook', await env.call('POST', `webhooks/${ownId}/verify`, { key: tenantKey }));
    conforms('verifyWebhook', await env.call('POST', 'webhooks/01J0Z7X3V1F6Q8R2T4W6Y8A0C9/verify', { key: ADMIN_KEY }));
    conforms('listWebhookAttempts', await env.call('GET', `webhooks/${ownId}/attempts`, { key: tenantKey }));

    conforms('revokeTenantKey', await env.call('DELETE', `tenants/${tenantId}/key`, { key: ADMIN_KEY }));
    conforms('listWebhooks', await env.call('GET', 'webhooks', { key: tenantKey }));
    conforms('deleteTenant', await env.call('DELETE', `tenants/${tenantId}`, { key: ADMIN_KEY }));
    conforms('deleteWebhook', await env.call('DELETE', `webhooks/${ownId}`, { key: ADMIN_KEY }));
    conforms('deleteTenant', await env.call('DELETE', `tenants/${tenantId}`, { key: INGEST_KEY }));
    conforms('deleteTenant', await env.call('DELETE', `tenants/${tenantId}`, { key: ADMIN_KEY }));
    conforms('deleteTenant', await env.call('DELETE', `tenants/${tenantId}`, { key: ADMIN_KEY }));
  });

  it('answers as documented on the portal routes', async () => {
    const created = await env.call('POST', 'tenants', { key: ADMIN_KEY, body: { name: 'Portal team', routing: { name: ['portal'] } } });
    const tenantId = created.body?.id as string;
    const link = await env.call('POST', `tenants/${tenantId}/portal-links`, { key: ADMIN_KEY, body: { ttlSeconds: 600 } });
    conforms('mintPortalLink', link);
    conforms('mintPortalLink', await env.call('POST', `tenants/${tenantId}/portal-links`, { key: ADMIN_KEY }));
    conforms('mintPortalLink', await env.call('POST', `tenants/${tenantId}/portal-links`, { key: ADMIN_KEY, body: { ttlSeconds: 86_401 } }));
    conforms('mintPortalLink', await env.call('POST', `tenants/${tenantId}/portal-links`, { key: INGEST_KEY }));
    conforms('mintPortalLink', await env.call('POST', 'tenants/01J0Z7X3V1F6Q8R2T4W6Y8A0C9/portal-links', { key: ADMIN_KEY }));
    const token = decodeURIComponent((link.body?.url as string).split('#token=')[1] ?? '');
    const session = await env.call('POST', 'portal/session', { body: { token } });
    conforms('openPortalSession', session);
    conforms('openPortalSession', await env.call('POST', 'portal/session', { body: {} }));
    conforms('openPortalSession', await env.call('POST', 'portal/session', { body: { token: `${token}x` } }));
    conforms('portalMe', await env.call('GET', 'portal/me', { key: session.body?.token as string }));
    conforms('portalMe', await env.call('GET', 'portal/me', { key: ADMIN_KEY }));
    conforms('portalMe', await env.call('GET', 'portal/me'));
    conforms('portal', await env.call('GET', 'portal'));
    conforms('revokePortalLinks', await env.call('DELETE', `tenants/${tenantId}/portal-links`, { key: ADMIN_KEY }));
    conforms('revokePortalLinks', await env.call('DELETE', `tenants/${tenantId}/portal-links`, { key: session.body?.token as string }));
    conforms('revokePortalLinks', await env.call('DELETE', 'tenants/01J0Z7X3V1F6Q8R2T4W6Y8A0C9/portal-links', { key: ADMIN_KEY }));
    conforms('openPortalSession', await env.call('POST', 'portal/session', { body: { token } }));
  });
});
