import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { Webhook, WebhookInput, WebhookPatch } from '../domain/webhook';
import { DEFAULT_ATTEMPTS_LIMIT, MAX_ATTEMPTS_LIMIT } from '../functions/handlers/opsHandlers';
import { decodeIncomingEvent } from '../usecases/ingestEvent';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from '../usecases/listWebhooks';
import { DEFAULT_EVENTS_LIMIT, DEFAULT_EVENTS_SINCE_HOURS, MAX_EVENTS_LIMIT, MAX_EVENTS_SINCE_HOURS } from '../usecases/listRecentEvents';
import { ANNOTATIONS } from './annotations';
import { type JsonSchema, toJsonSchema } from './jsonSchema';
import { TenantInput } from '../domain/tenant';
import { RoutingGrants } from '../domain/routingGrants';
import { RotateSecretInput } from '../usecases/rotateWebhookSecret';
import { TenantView } from '../domain/tenant';
import { WebhookView } from '../domain/webhook';
import { AttemptList, CreatedWebhook, ErrorBody, EventAccepted, EventList, HealthReport, RotatedWebhook, TenantPage, TenantWithKey, VerificationOutcome, WebhookPage } from '../domain/views';
import { ErasureReport, ErasureRequest } from '../usecases/eraseSubject';
import { EventStatusView } from '../usecases/getEventStatus';
import { PurgeReport } from '../usecases/purgeEvents';
import { PoisonList, RedriveReport } from '../usecases/redrivePoison';
import { ResealReport } from '../usecases/resealSecrets';
import { IncomingEvent, RedriveRequest } from './wire';
import * as X from './examples';
import { WebSubRequest } from '../domain/websub';
import { WebhookStats } from '../domain/deliveryStats';
import { EventTypeList, openApiWebhooks } from './eventTypes';
import { ReplayAccepted, ReplayRequest, ReplayStatusView, ResendAccepted, ResendRequest, TestSendAnswer } from '../domain/replay';
import { PortalLink, PortalLinkRequest, PortalMe, PortalSessionRequest, PortalSessionView } from '../domain/portalToken';

/*
 * The OpenAPI 3.1 document of every HTTP route. Schemas are generated from the codecs the handlers
 * decode with (requests) and the codecs of their answers, the types use cases return (responses); every example is decoded
 * by the same codec in src/openapi/__tests__/document.test.ts, and the HTTP test checks that each
 * route the app registers is documented here.
 */

/** `registry`: the admin key, or a tenant's key for that tenant's own webhooks. */
type Security = 'admin' | 'registry' | 'ingest' | 'none';

/** A named codec published under components/schemas, referenced by name. */
const COMPONENTS = {
  ErrorBody,
  IncomingEvent,
  EventAccepted,
  EventStatusView,
  EventList,
  Webhook,
  WebhookView,
  WebhookPage,
  WebhookInput,
  WebhookPatch,
  AttemptList,
  PoisonList,
  RedriveRequest,
  RedriveReport,
  ResealReport,
  HealthReport,
  CreatedWebhook,
  RotatedWebhook,
  RotateSecretInput,
  VerificationOutcome,
  TenantInput,
  TenantView,
  TenantWithKey,
  TenantPage,
  RoutingGrants,
  WebSubRequest,
  WebhookStats,
  EventTypeList,
  ReplayRequest,
  ReplayAccepted,
  ReplayStatusView,
  ResendRequest,
  ResendAccepted,
  TestSendAnswer,
  PurgeReport,
  ErasureRequest,
  ErasureReport,
  PortalLinkRequest,
  PortalLink,
  PortalSessionRequest,
  PortalSessionView,
  PortalMe,
} as const satisfies Record<string, t.Decoder<unknown, unknown>>;
export type ComponentName = keyof typeof COMPONENTS;

export type JsonResponse = { readonly description: string; readonly schema: ComponentName; readonly examples: Readonly<Record<string, unknown>> };
export type OtherResponse = { readonly description: string; readonly contentType: string };

export type Operation = {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly security: Security;
  readonly parameters?: readonly JsonSchema[];
  /** The request body, decoded by `decode`: the decoder the handler itself uses. */
  readonly request?: {
    readonly schema: ComponentName;
    readonly decode: (body: unknown) => E.Either<unknown, unknown>;
    readonly examples: Readonly<Record<string, unknown>>;
    /** application/json unless said (a form body is described as the object of its fields). */
    readonly contentType?: 'application/json' | 'application/x-www-form-urlencoded';
  };
  readonly responses: Readonly<Record<string, JsonResponse | OtherResponse | { readonly description: string }>>;
};

const idParam = (what: string): JsonSchema => ({ name: 'id', in: 'path', required: true, description: `The ${what} id`, schema: { type: 'string' } });
const intQuery = (o: { name: string; min: number; max: number; fallback: number; description: string }): JsonSchema => ({
  name: o.name,
  in: 'query',
  required: false,
  description: o.description,
  schema: { type: 'string', pattern: '^[0-9]+$', description: `An integer from ${o.min} to ${o.max} (default ${o.fallback})` },
});

const error = (description: string, examples: Record<string, unknown>): JsonResponse => ({ description, schema: 'ErrorBody', examples });
const unauthorized = error('No `Authorization: Bearer`, or a wrong key', { unauthorized: X.unauthorized });
const unavailable = error('Storage cannot answer now; try again (Retry-After)', { unavailable: X.unavailable });
const notFound = (what: string) => error(`No ${what} with that id`, { notFound: { error: 'NotFound', message: `No ${what} with id "01J0Z7X3V1F6Q8R2T4W6Y8A0C9"` } });
const invalid = (examples: Record<string, unknown>) => error('A bad body, field or query parameter; `details` names each problem', examples);
const tooLarge = error('The body is over the size limit', { tooLarge: X.tooLarge });
const forbidden = error('A tenant key named a routing value its tenant holds no grant for, or turned endpoint verification off; nothing was stored', { forbiddenValue: X.forbiddenValue });

const decodeWith =
  (codec: t.Decoder<unknown, unknown>) =>
  (body: unknown): E.Either<unknown, unknown> =>
    codec.decode(body);

export const OPERATIONS: readonly Operation[] = [
  {
    method: 'post',
    path: '/api/events',
    operationId: 'ingestEvent',
    summary: 'Ingest an event (idempotent by id)',
    tag: 'events',
    security: 'ingest',
    request: { schema: 'IncomingEvent', decode: decodeIncomingEvent, examples: X.incomingEvents },
    responses: {
      202: { description: 'Stored durably; the fan-out starts', schema: 'EventAccepted', examples: { accepted: { id: '01J0Z7X3V1F6Q8R2T4W6Y8A0C2' } } },
      400: invalid({ badField: X.invalidEvent }),
      401: unauthorized,
      409: error('The id was already received with another event', { conflict: { error: 'Conflict', message: 'Event "profile-42-completed" was already received with a different name or payload' } }),
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/events',
    operationId: 'listEvents',
    summary: 'The newest events (a bounded scan, for the ops console)',
    tag: 'events',
    security: 'admin',
    parameters: [
      intQuery({ name: 'limit', min: 1, max: MAX_EVENTS_LIMIT, fallback: DEFAULT_EVENTS_LIMIT, description: 'At most this many events, newest first' }),
      intQuery({ name: 'sinceHours', min: 1, max: MAX_EVENTS_SINCE_HOURS, fallback: DEFAULT_EVENTS_SINCE_HOURS, description: 'Only events received in the last hours' }),
    ],
    responses: {
      200: { description: 'Newest first', schema: 'EventList', examples: { events: X.eventList } },
      400: invalid({ badLimit: X.badLimit }),
      401: unauthorized,
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/events/{id}',
    operationId: 'getEventStatus',
    summary: 'An event, its fan-out and the state of each delivery',
    tag: 'events',
    security: 'admin',
    parameters: [idParam('event')],
    responses: {
      200: { description: 'The event and its deliveries', schema: 'EventStatusView', examples: { delivering: X.eventStatus } },
      401: unauthorized,
      404: notFound('event'),
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/webhooks',
    operationId: 'createWebhook',
    summary: 'Register a webhook; the answer holds its signing secret (shown only here)',
    tag: 'webhooks',
    security: 'registry',
    request: { schema: 'WebhookInput', decode: decodeWith(WebhookInput), examples: { serviceHook: X.webhookInput } },
    responses: {
      201: { description: 'The stored webhook with its secret (and the verification outcome, when one was asked)', schema: 'CreatedWebhook', examples: { created: X.webhook } },
      400: invalid({ badUrl: X.invalidWebhook }),
      401: unauthorized,
      403: forbidden,
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/webhooks',
    operationId: 'listWebhooks',
    summary: 'Registered webhooks, in creation order, a page at a time',
    tag: 'webhooks',
    security: 'registry',
    parameters: [
      intQuery({ name: 'limit', min: 1, max: MAX_LIST_LIMIT, fallback: DEFAULT_LIST_LIMIT, description: 'Page size' }),
      { name: 'continuationToken', in: 'query', required: false, description: 'From the previous page', schema: { type: 'string' } },
    ],
    responses: {
      200: { description: 'One page', schema: 'WebhookPage', examples: { page: X.webhookPage } },
      400: invalid({ badLimit: X.badLimit }),
      401: unauthorized,
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/webhooks/{id}',
    operationId: 'getWebhook',
    summary: 'One webhook (without its secret)',
    tag: 'webhooks',
    security: 'registry',
    parameters: [idParam('webhook')],
    responses: { 200: { description: 'The webhook', schema: 'WebhookView', examples: { webhook: X.webhookView } }, 401: unauthorized, 404: notFound('webhook'), 503: unavailable },
  },
  {
    method: 'put',
    path: '/api/webhooks/{id}',
    operationId: 'replaceWebhook',
    summary: 'Replace every field but id, secret and createdAt (omitted optional fields reset)',
    tag: 'webhooks',
    security: 'registry',
    parameters: [idParam('webhook')],
    request: { schema: 'WebhookInput', decode: decodeWith(WebhookInput), examples: { serviceHook: X.webhookInput } },
    responses: {
      200: { description: 'The webhook', schema: 'WebhookView', examples: { webhook: X.webhookView } },
      400: invalid({ badUrl: X.invalidWebhook }),
      401: unauthorized,
      403: forbidden,
      404: notFound('webhook'),
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'patch',
    path: '/api/webhooks/{id}',
    operationId: 'patchWebhook',
    summary: 'Change some fields (JSON merge patch)',
    tag: 'webhooks',
    security: 'registry',
    parameters: [idParam('webhook')],
    request: { schema: 'WebhookPatch', decode: decodeWith(WebhookPatch), examples: { disable: { disabled: true }, headers: { headers: { 'X-Tenant': 't1', Authorization: null } } } },
    responses: {
      200: { description: 'The webhook', schema: 'WebhookView', examples: { webhook: X.webhookView } },
      400: invalid({ unknownField: X.unknownField }),
      401: unauthorized,
      403: forbidden,
      404: notFound('webhook'),
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'delete',
    path: '/api/webhooks/{id}',
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook',
    tag: 'webhooks',
    security: 'registry',
    parameters: [idParam('webhook')],
    responses: { 204: { description: 'Deleted' }, 401: unauthorized, 404: notFound('webhook'), 503: unavailable },
  },
  {
    method: 'post',
    path: '/api/webhooks/{id}/rotate-secret',
    operationId: 'rotateWebhookSecret',
    summary: 'A new signing secret; the old one keeps signing (beside it) for overlapSeconds (default a day)',
    tag: 'webhooks',
    security: 'registry',
    parameters: [idParam('webhook')],
    request: { schema: 'RotateSecretInput', decode: decodeWith(RotateSecretInput), examples: { default: {}, overlap: { overlapSeconds: 3600 } } },
    responses: {
      200: { description: 'The webhook with its new secret (shown only here)', schema: 'RotatedWebhook', examples: { rotated: X.rotatedWebhook } },
      400: invalid({ badOverlap: X.badOverlap }),
      401: unauthorized,
      404: notFound('webhook'),
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/webhooks/{id}/verify',
    operationId: 'verifyWebhook',
    summary: 'Challenge the endpoint again (endpoint verification)',
    tag: 'webhooks',
    security: 'registry',
    parameters: [idParam('webhook')],
    responses: {
      200: { description: 'Whether the endpoint answered the challenge', schema: 'VerificationOutcome', examples: { verified: X.verification } },
      401: unauthorized,
      404: notFound('webhook'),
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/tenants',
    operationId: 'createTenant',
    summary: 'Create a tenant; the answer holds its API key (shown only here and on rotation)',
    tag: 'tenants',
    security: 'admin',
    request: { schema: 'TenantInput', decode: decodeWith(TenantInput), examples: { tenant: { name: 'Payments team' }, withRouting: { name: 'Payments team', routing: X.routingGrants } } },
    responses: {
      201: { description: 'The tenant and its key', schema: 'TenantWithKey', examples: { created: X.tenantWithKey } },
      400: invalid({ unknownField: X.badTenant }),
      401: unauthorized,
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/tenants',
    operationId: 'listTenants',
    summary: 'Tenants, a page at a time',
    tag: 'tenants',
    security: 'admin',
    parameters: [
      intQuery({ name: 'limit', min: 1, max: 100, fallback: 50, description: 'Page size' }),
      { name: 'continuationToken', in: 'query', required: false, description: 'From the previous page', schema: { type: 'string' } },
    ],
    responses: {
      200: { description: 'One page', schema: 'TenantPage', examples: { page: { items: [X.tenantView] } } },
      400: invalid({ badLimit: X.badLimit }),
      401: unauthorized,
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/tenants/{id}',
    operationId: 'getTenant',
    summary: 'One tenant (never its key)',
    tag: 'tenants',
    security: 'admin',
    parameters: [idParam('tenant')],
    responses: { 200: { description: 'The tenant', schema: 'TenantView', examples: { tenant: X.tenantView } }, 401: unauthorized, 404: notFound('tenant'), 503: unavailable },
  },
  {
    method: 'delete',
    path: '/api/tenants/{id}',
    operationId: 'deleteTenant',
    summary: 'Delete a tenant that owns no webhooks; every key of it stops working',
    tag: 'tenants',
    security: 'admin',
    parameters: [idParam('tenant')],
    responses: {
      204: { description: 'Deleted' },
      401: unauthorized,
      404: notFound('tenant'),
      409: error('The tenant still owns webhooks; delete them first', {
        ownsWebhooks: { error: 'Conflict', message: 'Tenant "01J0Z7X3V1F6Q8R2T4W6Y8A0C9" still owns 2 webhooks; delete them first (GET /api/tenants/01J0Z7X3V1F6Q8R2T4W6Y8A0C9/webhooks lists them)' },
      }),
      503: unavailable,
    },
  },
  {
    method: 'put',
    path: '/api/tenants/{id}/routing',
    operationId: 'setTenantRouting',
    summary: "Replace the tenant's routing grants: the values its webhooks may route on (docs/tenants.md)",
    tag: 'tenants',
    security: 'admin',
    parameters: [idParam('tenant')],
    request: { schema: 'RoutingGrants', decode: decodeWith(RoutingGrants), examples: { grants: X.routingGrants } },
    responses: {
      200: { description: 'The tenant with its new grants', schema: 'TenantView', examples: { tenant: X.tenantView } },
      400: invalid({ unknownAttribute: X.badRouting }),
      401: unauthorized,
      404: notFound('tenant'),
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/tenants/{id}/rotate-key',
    operationId: 'rotateTenantKey',
    summary: 'A new key for the tenant; the old one stops at once',
    tag: 'tenants',
    security: 'admin',
    parameters: [idParam('tenant')],
    responses: { 200: { description: 'The tenant and its new key', schema: 'TenantWithKey', examples: { rotated: X.tenantWithKey } }, 401: unauthorized, 404: notFound('tenant'), 503: unavailable },
  },
  {
    method: 'delete',
    path: '/api/tenants/{id}/key',
    operationId: 'revokeTenantKey',
    summary: "Revoke the tenant's key (the tenant and its webhooks stay)",
    tag: 'tenants',
    security: 'admin',
    parameters: [idParam('tenant')],
    responses: { 200: { description: 'The tenant, now without a key', schema: 'TenantView', examples: { revoked: X.revokedTenant } }, 401: unauthorized, 404: notFound('tenant'), 503: unavailable },
  },
  {
    method: 'get',
    path: '/api/tenants/{id}/webhooks',
    operationId: 'listTenantWebhooks',
    summary: "One tenant's webhooks (the admin's view)",
    tag: 'tenants',
    security: 'admin',
    parameters: [
      idParam('tenant'),
      intQuery({ name: 'limit', min: 1, max: MAX_LIST_LIMIT, fallback: DEFAULT_LIST_LIMIT, description: 'Page size' }),
      { name: 'continuationToken', in: 'query', required: false, description: 'From the previous page', schema: { type: 'string' } },
    ],
    responses: {
      200: { description: 'One page', schema: 'WebhookPage', examples: { page: X.webhookPage } },
      400: invalid({ badLimit: X.badLimit }),
      401: unauthorized,
      404: notFound('tenant'),
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/webhooks/{id}/attempts',
    operationId: 'listWebhookAttempts',
    summary: 'Recent attempts of a webhook that were not first-try successes, newest first',
    tag: 'ops',
    security: 'registry',
    parameters: [idParam('webhook'), intQuery({ name: 'limit', min: 1, max: MAX_ATTEMPTS_LIMIT, fallback: DEFAULT_ATTEMPTS_LIMIT, description: 'At most this many attempts' })],
    responses: {
      200: { description: 'Attempts', schema: 'AttemptList', examples: { attempts: X.attemptList } },
      400: invalid({ badLimit: X.badLimit }),
      401: unauthorized,
      404: notFound('webhook'),
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/webhooks/{id}/replay',
    operationId: 'replayWebhook',
    summary: "Re-send a webhook's deliveries of the events received in a time window (by default those that ended poisoned or gone), with their original webhook-id",
    tag: 'ops',
    security: 'registry',
    parameters: [idParam('webhook')],
    request: {
      schema: 'ReplayRequest',
      decode: decodeWith(ReplayRequest),
      examples: { failed: { since: '2026-12-04T08:00:00.000Z', until: '2026-12-05T08:00:00.000Z' }, all: { since: '2026-12-04T08:00:00.000Z', only: 'all' } },
    },
    responses: {
      202: {
        description: 'The replay runs; its progress is at GET .../replays/{replayId}. The same request while it runs answers the same id',
        schema: 'ReplayAccepted',
        examples: { accepted: { id: 'rpl_5f0c2b8e9a7d4c3b1a0f9e8d7c6b5a49' } },
      },
      400: invalid({ future: { error: 'Invalid', message: 'The replay window is invalid', details: ['since: is in the future'] } }),
      401: unauthorized,
      404: notFound('webhook'),
      409: error('The webhook is disabled or not verified', {
        disabled: { error: 'Conflict', message: 'Webhook 01J0Z7X3V1F6Q8R2T4W6Y8A0C9 is disabled or not verified: enable it first (PATCH {"disabled": false})' },
      }),
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/webhooks/{id}/replays/{replayId}',
    operationId: 'getReplay',
    summary: 'Progress of a replay',
    tag: 'ops',
    security: 'registry',
    parameters: [idParam('webhook'), { name: 'replayId', in: 'path', required: true, description: 'From POST .../replay', schema: { type: 'string' } }],
    responses: {
      200: {
        description: 'The replay',
        schema: 'ReplayStatusView',
        examples: { running: { id: 'rpl_5f0c2b8e9a7d4c3b1a0f9e8d7c6b5a49', status: 'Running', deliveries: 120, since: '2026-12-04T08:00:00.000Z', until: '2026-12-05T08:00:00.000Z', only: 'failed' } },
      },
      401: unauthorized,
      404: notFound('replay'),
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/webhooks/{id}/resend',
    operationId: 'resendDelivery',
    summary: "Send one event's delivery to this webhook again, whatever its state, with its original webhook-id",
    tag: 'ops',
    security: 'registry',
    parameters: [idParam('webhook')],
    request: { schema: 'ResendRequest', decode: decodeWith(ResendRequest), examples: { one: { eventId: 'evt-2026-12-05-0001' } } },
    responses: {
      202: { description: 'Enqueued', schema: 'ResendAccepted', examples: { accepted: { deliveryIds: ['msg_2b7e151628aed2a6abf7158809cf4f3c'] } } },
      400: invalid({ badEventId: { error: 'Invalid', message: 'The resend request is invalid', details: ['eventId: is required'] } }),
      401: unauthorized,
      404: notFound('webhook, event, or delivery of that event to this webhook'),
      409: error('The webhook is disabled or not verified', {
        disabled: { error: 'Conflict', message: 'Webhook 01J0Z7X3V1F6Q8R2T4W6Y8A0C9 is disabled or not verified: enable it first (PATCH {"disabled": false})' },
      }),
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/webhooks/{id}/test',
    operationId: 'testWebhook',
    summary: 'Send one signed {"name":"webhook.test","payload":{}} to this webhook only, and answer with the attempt (never retried)',
    tag: 'ops',
    security: 'registry',
    parameters: [idParam('webhook')],
    responses: {
      200: {
        description: "The attempt: the receiver's status (null when none came), the duration, the first bytes of its answer",
        schema: 'TestSendAnswer',
        examples: {
          delivered: { deliveryId: 'msg_2b7e151628aed2a6abf7158809cf4f3c', ok: true, status: 200, durationMs: 42, body: 'ok' },
          timedOut: { deliveryId: 'msg_2b7e151628aed2a6abf7158809cf4f3c', ok: false, status: null, durationMs: 15000, body: '', error: 'Timeout: no complete answer within 15000 ms' },
        },
      },
      401: unauthorized,
      404: notFound('webhook'),
      409: error('The webhook has not passed endpoint verification', {
        unverified: { error: 'Conflict', message: 'Webhook 01J0Z7X3V1F6Q8R2T4W6Y8A0C9 has not passed endpoint verification; POST /api/webhooks/{id}/verify first' },
      }),
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/webhooks/{id}/stats',
    operationId: 'getWebhookStats',
    summary: "A webhook's delivery counters from the hour holding `since` (default: a day ago) on, from counters kept as deliveries finish",
    tag: 'webhooks',
    security: 'registry',
    parameters: [
      idParam('webhook'),
      { name: 'since', in: 'query', required: false, description: 'An ISO 8601 date-time with a zone, not in the future', schema: { type: 'string', format: 'date-time' } },
    ],
    responses: {
      200: { description: 'The counters', schema: 'WebhookStats', examples: { stats: X.webhookStats } },
      400: invalid({ futureSince: X.futureSince }),
      401: unauthorized,
      404: notFound('webhook'),
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/event-types',
    operationId: 'listEventTypes',
    summary: "Every body the dispatcher sends, with its JSON Schema and an example (also in this document's `webhooks`)",
    tag: 'ops',
    security: 'none',
    responses: { 200: { description: 'The event types', schema: 'EventTypeList', examples: { eventTypes: X.eventTypeList } } },
  },
  {
    method: 'get',
    path: '/api/poison',
    operationId: 'listPoison',
    summary: 'The oldest poison messages (up to 32), classified',
    tag: 'ops',
    security: 'admin',
    parameters: [intQuery({ name: 'limit', min: 1, max: 32, fallback: 32, description: 'At most this many messages' })],
    responses: {
      200: { description: 'Poison messages', schema: 'PoisonList', examples: { poison: X.poisonList } },
      400: invalid({ badLimit: X.badLimit }),
      401: unauthorized,
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/poison/redrive',
    operationId: 'redrivePoison',
    summary: 'Move poisoned deliveries back to the deliveries queue with a fresh attempt count',
    tag: 'ops',
    security: 'admin',
    request: { schema: 'RedriveRequest', decode: decodeWith(RedriveRequest), examples: { all: { all: true }, one: { messageId: '5c3f0c1e-2a7b-4d53-9a3e-1f2b3c4d5e6f' } } },
    responses: {
      200: { description: 'What was moved', schema: 'RedriveReport', examples: { report: { redriven: 3, leftUnreadable: 0, found: true, truncated: false } } },
      400: invalid({ badBody: X.badRedrive }),
      401: unauthorized,
      404: notFound('poison message'),
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'delete',
    path: '/api/events',
    operationId: 'purgeEvents',
    summary: 'The retention purge now: events received before `before`, their attempts, index rows, poison entries and finished orchestrations (docs/privacy.md)',
    tag: 'privacy',
    security: 'admin',
    parameters: [{ name: 'before', in: 'query', required: true, description: 'The cutoff: an ISO 8601 time with its zone, not in the future', schema: { type: 'string', format: 'date-time' } }],
    responses: {
      200: { description: 'What was deleted; `truncated`: a bound was reached, call again', schema: 'PurgeReport', examples: { purged: X.purgeReport } },
      400: invalid({ badBefore: X.badBefore }),
      401: unauthorized,
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/erasure',
    operationId: 'eraseSubject',
    summary: 'Erasure of one person (GDPR art. 17): the events holding that fiscal code, their attempts and poison entries; owed deliveries are not sent',
    tag: 'privacy',
    security: 'admin',
    request: { schema: 'ErasureRequest', decode: decodeWith(ErasureRequest), examples: { erasure: { fiscalCode: 'AAABBB00A00A000B' } } },
    responses: {
      200: { description: 'What was deleted; `truncated`: a bound was reached, call again', schema: 'ErasureReport', examples: { erased: X.erasureReport } },
      400: invalid({ badFiscalCode: X.badErasure }),
      401: unauthorized,
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/secrets/reseal',
    operationId: 'resealSecrets',
    summary: 'After a SECRETS_KEY rotation: re-encrypt up to 500 webhooks still under an older key (call again while more is true)',
    tag: 'ops',
    security: 'admin',
    responses: {
      200: { description: 'How many were re-encrypted, and whether more remain', schema: 'ResealReport', examples: { report: { resealed: 120, more: false } } },
      401: unauthorized,
      503: unavailable,
    },
  },
  {
    method: 'post',
    path: '/api/websub',
    operationId: 'websub',
    summary: 'WebSub subscribe or unsubscribe (form POST); intent is verified by a GET to the callback with hub.challenge',
    tag: 'webhooks',
    security: 'registry',
    request: {
      schema: 'WebSubRequest',
      decode: decodeWith(WebSubRequest),
      contentType: 'application/x-www-form-urlencoded',
      examples: {
        subscribe: {
          'hub.mode': 'subscribe',
          'hub.topic': 'ping?name=wh1',
          'hub.callback': 'https://subscriber.example/callback',
          'hub.lease_seconds': '86400',
          'hub.secret': 'a-subscriber-secret-of-24-bytes-or-more',
        },
      },
    },
    responses: {
      202: { description: 'Accepted; the callback gets the intent verification next' },
      400: invalid({ badField: { error: 'Invalid', message: 'The subscription request is invalid', details: ['hub.callback: must be an absolute http or https URL'] } }),
      401: unauthorized,
      403: forbidden,
      404: notFound('subscription'),
      413: tooLarge,
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/health',
    operationId: 'health',
    summary: 'Whether the app runs and storage answers',
    tag: 'ops',
    security: 'none',
    responses: {
      200: { description: 'Up', schema: 'HealthReport', examples: { ok: { status: 'ok', checks: { tables: 'ok', queues: 'ok', blobs: 'ok' } } } },
      503: {
        description: 'Storage does not answer, or a setting is invalid (named with what it must be, never its value)',
        schema: 'HealthReport',
        examples: {
          down: { status: 'unavailable', message: 'Not answering: queues', checks: { tables: 'ok', queues: 'down', blobs: 'ok' } },
          misconfigured: {
            status: 'unavailable',
            message: 'Invalid settings: INGEST_API_KEY',
            checks: { settings: 'down' },
            settings: ['INGEST_API_KEY: is required (a secret of at least 16 characters, without spaces)'],
          },
        },
      },
    },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openApi',
    summary: 'This document',
    tag: 'ops',
    security: 'none',
    responses: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } },
  },
  {
    method: 'post',
    path: '/api/tenants/{id}/portal-links',
    operationId: 'mintPortalLink',
    summary: "A link to the tenant's portal (docs/portal.md): the signed token rides in the URL fragment; it ends at expiresAt or when the tenant's links are revoked",
    tag: 'tenants',
    security: 'admin',
    parameters: [idParam('tenant')],
    request: { schema: 'PortalLinkRequest', decode: decodeWith(PortalLinkRequest), examples: { defaultHour: {}, day: { ttlSeconds: 86_400 } } },
    responses: {
      201: { description: 'The link and when it expires', schema: 'PortalLink', examples: { link: X.portalLink } },
      400: invalid({ badTtl: X.badPortalTtl }),
      401: unauthorized,
      404: notFound('tenant'),
      503: unavailable,
    },
  },
  {
    method: 'delete',
    path: '/api/tenants/{id}/portal-links',
    operationId: 'revokePortalLinks',
    summary: 'Revoke every portal link and session of the tenant at once (links minted afterwards work)',
    tag: 'tenants',
    security: 'admin',
    parameters: [idParam('tenant')],
    responses: { 204: { description: 'Revoked' }, 401: unauthorized, 404: notFound('tenant'), 503: unavailable },
  },
  {
    method: 'post',
    path: '/api/portal/session',
    operationId: 'openPortalSession',
    summary: "Exchange a portal link's token for a session bearer: that tenant's rights on the API, until the link's expiry or a revocation",
    tag: 'tenants',
    security: 'none',
    request: { schema: 'PortalSessionRequest', decode: decodeWith(PortalSessionRequest), examples: { fromLink: { token: X.portalLinkToken } } },
    responses: {
      201: { description: 'The session bearer (whps_...)', schema: 'PortalSessionView', examples: { session: X.portalSession } },
      400: invalid({ noToken: X.noPortalToken }),
      401: error('The link is not one this dispatcher signed, has expired, or was revoked; the message says which', X.portalLinkRefusals),
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/portal/me',
    operationId: 'portalMe',
    summary: 'Who the portal acts for (a session bearer or a tenant key), with the routing values it may use',
    tag: 'tenants',
    security: 'registry',
    responses: {
      200: { description: 'The tenant', schema: 'PortalMe', examples: { me: X.portalMe } },
      401: unauthorized,
      403: error('The admin key has no portal of its own', { admin: X.adminHasNoPortal }),
      503: unavailable,
    },
  },
  {
    method: 'get',
    path: '/api/portal',
    operationId: 'portal',
    summary: "The subscriber portal (an HTML page; it reads a link's token from the URL fragment, or asks for the tenant key)",
    tag: 'tenants',
    security: 'none',
    responses: { 200: { description: 'The page', contentType: 'text/html' } },
  },
  {
    method: 'get',
    path: '/api/console',
    operationId: 'console',
    summary: 'The ops console (an HTML page; it asks for the admin key and sends it on its own calls)',
    tag: 'ops',
    security: 'none',
    responses: { 200: { description: 'The page', contentType: 'text/html' } },
  },
];

export const componentSchemas = (): Record<ComponentName, JsonSchema> =>
  Object.fromEntries(Object.entries(COMPONENTS).map(([name, codec]) => [name, toJsonSchema(codec, ANNOTATIONS)])) as Record<ComponentName, JsonSchema>;

export const codecOf = (name: ComponentName): t.Decoder<unknown, unknown> => COMPONENTS[name];

const ref = (name: ComponentName): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const exampleMap = (examples: Readonly<Record<string, unknown>>): JsonSchema => Object.fromEntries(Object.entries(examples).map(([k, value]) => [k, { value }]));

const SECURITY: Record<Security, readonly JsonSchema[]> = { admin: [{ adminKey: [] }], registry: [{ adminKey: [] }, { tenantKey: [] }], ingest: [{ ingestKey: [] }], none: [] };

const responseObject = (r: Operation['responses'][string]): JsonSchema => {
  if ('schema' in r) return { description: r.description, content: { 'application/json': { schema: ref(r.schema), examples: exampleMap(r.examples) } } };
  if ('contentType' in r) return { description: r.description, content: { [r.contentType]: { schema: r.contentType === 'text/html' ? { type: 'string' } : { type: 'object' } } } };
  return { description: r.description };
};

const operationObject = (op: Operation): JsonSchema => ({
  operationId: op.operationId,
  summary: op.summary,
  tags: [op.tag],
  security: SECURITY[op.security],
  ...(op.parameters ? { parameters: op.parameters } : {}),
  ...(op.request
    ? { requestBody: { required: true, content: { [op.request.contentType ?? 'application/json']: { schema: ref(op.request.schema), examples: exampleMap(op.request.examples) } } } }
    : {}),
  responses: Object.fromEntries(Object.entries(op.responses).map(([status, r]) => [status, responseObject(r)])),
});

let cached: JsonSchema | undefined;

/** The whole document, built once (it depends on code only). */
export const openApiDocument = (): JsonSchema => {
  if (cached !== undefined) return cached;
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of OPERATIONS) paths[op.path] = { ...paths[op.path], [op.method]: operationObject(op) };
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Webhook dispatcher',
      version: '0.1.0',
      description: 'Ingest domain events, fan them out to registered webhooks, deliver signed requests with retries. See docs/api.md.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: [{ url: '/' }],
    tags: [
      { name: 'events', description: 'Ingest and event status' },
      { name: 'webhooks', description: 'The webhook registry' },
      { name: 'tenants', description: 'Tenants and their keys (admin only)' },
      { name: 'ops', description: 'Attempts, poison, health, this document and the console' },
    ],
    paths,
    // The requests receivers get (OpenAPI 3.1): GET /api/event-types lists the same bodies.
    webhooks: openApiWebhooks(),
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        ingestKey: { type: 'http', scheme: 'bearer', description: 'INGEST_API_KEY: POST /api/events only' },
        adminKey: { type: 'http', scheme: 'bearer', description: 'ADMIN_API_KEY: every route but ingest' },
        tenantKey: {
          type: 'http',
          scheme: 'bearer',
          description: "A tenant's key (whtk_...), or a portal session bearer (whps_..., POST /api/portal/session): that tenant's own webhooks only (registry routes and attempts)",
        },
      },
    },
  };
  return cached;
};
