/*
 * Examples of the OpenAPI document. Each is decoded by the codec of its request or response in
 * src/openapi/__tests__/document.test.ts; the ids and secrets are made up but well formed.
 */

const WEBHOOK_ID = '01J0Z7X3V1F6Q8R2T4W6Y8A0C3';
const EVENT_ID = '01J0Z7X3V1F6Q8R2T4W6Y8A0C2';
const DELIVERY_ID = 'msg_3f1c9a0e5b7d4c2a8e6f1b3d5a7c9e0f';
const AT = '2025-01-15T10:30:00.000Z';

export const unauthorized = { error: 'Unauthorized', message: 'A valid bearer key is required (Authorization: Bearer <key>)' };
export const unavailable = { error: 'Transient', message: 'Storage is unavailable; try again later' };
export const tooLarge = { error: 'TooLarge', message: 'The body is larger than 32768 bytes' };
export const badLimit = { error: 'Invalid', message: 'The query is invalid', details: ['limit: must be an integer from 1 to 100'] };
export const badRedrive = { error: 'Invalid', message: 'The redrive request is invalid', details: ['(body): must be a body {"all": true} or {"messageId": "<id from GET /api/poison>"}'] };
export const unknownField = { error: 'Invalid', message: 'The webhook is invalid', details: ['disable: is not a known field (known: url, subscriptions, attributes, headers, disabled)'] };
export const invalidEvent = { error: 'Invalid', message: 'The event is invalid', details: ['payload.fiscalCode: must be a fiscal code (16 characters, e.g. AAABBB00A00A000B)'] };
export const invalidWebhook = {
  error: 'Invalid',
  message: 'The webhook is invalid',
  details: ['url: must be an absolute http or https URL, without credentials or fragment, at most 2048 characters'],
};

export const incomingEvents = {
  pingAll: { name: 'ping:all' },
  ping: { name: 'ping', payload: { name: 'wh1' } },
  profileCompleted: { id: 'profile-42-completed', name: 'profile:completed', payload: { fiscalCode: 'AAABBB00A00A000B', servicePreferencesMode: 'AUTO' } },
  servicePreferencesChanged: {
    name: 'profile:service-preferences-changed',
    payload: { fiscalCode: 'AAABBB00A00A000B', servicePreferencesMode: 'AUTO', oldServicePreferencesMode: 'MANUAL' },
  },
  serviceSubscribed: { name: 'service:subscribed', payload: { serviceId: 'svc-1', fiscalCode: 'AAABBB00A00A000B' } },
};

export const webhookInput = {
  url: 'https://receiver.example/hooks',
  subscriptions: ['service:subscribed'],
  attributes: { serviceId: 'svc-1' },
  headers: { Authorization: 'Bearer receiver-token' },
  disabled: false,
};

const { headers: _headers, ...webhookInputWithoutHeaders } = webhookInput;
export const webhookView = { id: WEBHOOK_ID, ...webhookInputWithoutHeaders, disabled: false, createdAt: AT, updatedAt: AT, headerNames: ['Authorization'] };
export const webhook = { ...webhookView, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6nh4Yh4Kx8o=' };
export const webhookPage = {
  items: [
    webhookView,
    { id: '01J0Z7X3V1F6Q8R2T4W6Y8A0C4', url: 'https://ops.example/ping', subscriptions: ['ping'], attributes: { name: 'wh1' }, disabled: false, createdAt: AT, updatedAt: AT, headerNames: [] },
  ],
  continuationToken: 'eyJuZXh0UGFydGl0aW9uS2V5IjoiMDFKMFo3WDNWMUY2UThSMlQ0VzZZOEEwQzUifQ',
};

export const eventList = { items: [{ id: EVENT_ID, name: 'ping:all', payload: {}, receivedAt: AT }] };

export const eventStatus = {
  id: EVENT_ID,
  name: 'ping:all',
  payload: {},
  receivedAt: AT,
  dispatch: { status: 'Completed', deliveries: 3, pages: 1, lastUpdatedAt: '2025-01-15T10:30:00.400Z' },
  summary: { delivered: 1, retrying: 1, poisoned: 0, gone: 0, skipped: 0, pending: 1 },
  deliveries: [
    { deliveryId: DELIVERY_ID, webhookId: WEBHOOK_ID, state: 'delivered', attempts: 1, lastAttemptAt: '2025-01-15T10:30:01.000Z', lastResult: { status: 200 } },
    {
      deliveryId: 'msg_0a1b2c3d4e5f60718293a4b5c6d7e8f9',
      webhookId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C4',
      state: 'retrying',
      attempts: 2,
      lastAttemptAt: '2025-01-15T10:30:06.000Z',
      lastResult: { error: 'Timeout' },
      nextAttemptAt: '2025-01-15T10:35:06.000Z',
    },
  ],
};

export const attemptList = {
  items: [
    {
      eventId: EVENT_ID,
      deliveryId: DELIVERY_ID,
      webhookId: WEBHOOK_ID,
      attempt: 1,
      at: AT,
      result: { kind: 'Response', status: 503, latencyMs: 12, excerpt: 'busy', bodyRead: 'Complete', retryAfter: '30' },
      decision: 'RetryLater',
      nextAttemptAt: '2025-01-15T10:30:30.000Z',
    },
  ],
};

export const poisonList = {
  items: [
    {
      messageId: '5c3f0c1e-2a7b-4d53-9a3e-1f2b3c4d5e6f',
      insertedOn: AT,
      dequeueCount: 0,
      item: {
        kind: 'Undeliverable',
        entry: {
          kind: 'undeliverable',
          v: 1,
          eventId: EVENT_ID,
          deliveryId: DELIVERY_ID,
          webhookId: WEBHOOK_ID,
          body: { name: 'ping', payload: {} },
          attempts: [{ at: AT, result: { kind: 'Response', status: 400, latencyMs: 8, excerpt: 'bad request', bodyRead: 'Complete' } }],
          reason: { kind: 'Rejected', status: 400 },
          poisonedAt: AT,
        },
      },
    },
  ],
};

export const rotatedWebhook = { ...webhookView, secret: 'whsec_Q2hhbmdlZFNlY3JldEZvclRoZUV4YW1wbGUwMDAwMDA=', previousSecretExpiresAt: '2025-01-16T10:30:00.000Z' };
export const verification = { verified: true, detail: 'the endpoint echoed the challenge', webhook: webhookView };
export const badOverlap = { error: 'Invalid', message: 'The rotation is invalid', details: ['overlapSeconds: must be whole seconds from 0 to 2592000'] };

const TENANT_ID = '01J0Z7X3V1F6Q8R2T4W6Y8A0C7';
export const tenantView = { id: TENANT_ID, name: 'Payments team', hasKey: true, keyCreatedAt: AT, createdAt: AT, routing: { serviceId: ['svc-1'], name: ['orders'] } };
export const revokedTenant = { id: TENANT_ID, name: 'Payments team', hasKey: false, createdAt: AT };
export const tenantWithKey = { ...tenantView, apiKey: 'whtk_3q2-7wEXAMPLEKEYnotrealAAAAAAAAAAAAAAAAAAAA' };
export const badTenant = { error: 'Invalid', message: 'The tenant is invalid', details: ['title: is not a known field (known: name, routing)'] };
export const routingGrants = { serviceId: ['svc-1', 'svc-2'], name: ['orders'] };
export const badRouting = { error: 'Invalid', message: 'The routing is invalid', details: ['color: must be a routing attribute (name, serviceId)'] };
export const forbiddenValue = {
  error: 'Forbidden',
  message: 'The tenant holds no routing grant for serviceId "svc-9"; nothing was stored (the admin grants values with PUT /api/tenants/{id}/routing)',
};

export const webhookStats = {
  since: '2025-01-14T10:00:00.000Z',
  delivered: 1180,
  failed: 20,
  retrying: 18,
  poisoned: 2,
  successRate: 0.9833333333333333,
  lastSuccessAt: '2025-01-15T10:29:58.120Z',
  lastFailureAt: '2025-01-15T09:12:03.004Z',
  p50Ms: 100,
  p99Ms: 1000,
};
export const futureSince = { error: 'Invalid', message: 'The query is invalid', details: ['since: is in the future'] };
export const eventTypeList = {
  items: [
    {
      name: 'ping',
      audience: 'webhooks',
      description: 'A ping to the webhook named by the attribute `name` (sent by `ping:all` to every named webhook).',
      schema: { type: 'object', properties: { name: { const: 'ping' }, payload: { type: 'object', properties: { name: { type: 'string', minLength: 1 } } } }, required: ['name', 'payload'] },
      example: { name: 'ping', payload: {} },
    },
  ],
};
export const purgeReport = { deleted: { events: 120, attempts: 131, poison: 2 }, instances: 1, truncated: false };
export const badBefore = { error: 'Invalid', message: 'The query is invalid', details: ['before: must not be in the future (now is 2026-12-05T14:00:00.000Z)'] };
export const erasureReport = { deleted: { events: 2, attempts: 3, poison: 1 }, truncated: false };
export const badErasure = { error: 'Invalid', message: 'The erasure request is invalid', details: ['fiscalCode: must be a fiscal code (16 characters, e.g. AAABBB00A00A000B)'] };

/* The subscriber portal (docs/portal.md). */
export const portalLinkToken = 'whpl_eyJ2IjoxLCJ0aWQiOiIwMUowWjdYM1YxRjZROFIyVDRXNlk4QTBDMSIsImVwIjowLCJleHAiOjE3MTQ1NjU2MDB9.3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
export const portalLink = { url: `https://dispatcher.example.org/api/portal#token=${portalLinkToken}`, expiresAt: '2024-05-01T12:00:00.000Z' };
export const badPortalTtl = { error: 'Invalid', message: 'The body is invalid', details: ['ttlSeconds: must be an integer number of seconds from 1 to 86400'] };
export const portalSession = {
  token: 'whps_eyJ2IjoxLCJ0aWQiOiIwMUowWjdYM1YxRjZROFIyVDRXNlk4QTBDMSIsImVwIjowLCJleHAiOjE3MTQ1NjU2MDB9.7a9-1QAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  tenantId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C1',
  expiresAt: '2024-05-01T12:00:00.000Z',
};
export const noPortalToken = { error: 'Invalid', message: 'The body is invalid', details: ['token: is required'] };
export const portalLinkRefusals = {
  expired: { error: 'Unauthorized', message: 'This portal link has expired; ask for a new link' },
  revoked: { error: 'Unauthorized', message: 'This portal link was revoked; ask for a new link' },
  notValid: { error: 'Unauthorized', message: 'This portal link is not valid (changed or cut short); ask for a new link' },
};
export const portalMe = { tenantId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C1', name: 'Payments team', routing: { serviceId: ['svc-1'], name: ['orders'] } };
export const adminHasNoPortal = { error: 'Forbidden', message: 'The admin key has no portal of its own: mint a portal link for a tenant (POST /api/tenants/{id}/portal-links)' };
