import * as E from 'fp-ts/Either';
import type * as t from 'io-ts';
import { PUBLIC_EVENT_NAMES } from '../domain/catalogue';
import { PayloadRef } from '../domain/claimCheck';
import { DeliveryId } from '../domain/delivery';
import { EVENT_ID_PATTERN, EventData, EventId } from '../domain/events';
import { FISCAL_CODE_PATTERN, FiscalCode } from '../domain/fiscalCode';
import { NonEmptyString } from '../domain/strings';
import { MAX_ROUTING_GRANTS_CHARS, MAX_ROUTING_VALUES_PER_ATTRIBUTE, ROUTING_ATTRIBUTES, RoutingGrants } from '../domain/routingGrants';
import { MAX_TENANT_NAME_LENGTH, TenantInput, TenantName } from '../domain/tenant';
import { RotateSecretInput } from '../usecases/rotateWebhookSecret';
import { HubSecret, LeaseSecondsText, MAX_HUB_SECRET_BYTES, MIN_HUB_SECRET_BYTES, TopicText } from '../domain/websub';
import { ReplayId, ReplayRequest, ResendRequest } from '../domain/replay';
import { DEFAULT_PORTAL_LINK_TTL_SECONDS, MAX_PORTAL_LINK_TTL_SECONDS, PortalLinkRequest, PortalLinkTtlSeconds, PortalSessionRequest } from '../domain/portalToken';
import { HEADER_NAMES, MAX_LEASE_SECONDS, MAX_TIMEOUT_MS, MIN_LEASE_SECONDS, MIN_TIMEOUT_MS, TimeoutMs } from '../domain/webhook';
import { BODY_FORMATS, BodyFormat, MAX_ATTEMPTS_ANY_SCHEDULE, MAX_RATE_LIMIT_PER_SECOND, MaxAttempts, MIN_RATE_LIMIT_PER_SECOND, RateLimitPerSecond } from '../domain/endpointControls';
import { AttributeName, Attributes, AttributeValue, MAX_ATTRIBUTE_VALUE_LENGTH, MAX_ATTRIBUTES } from '../domain/attributes';
import { IsoTimestamp } from '../domain/codecs';
import { ULID_PATTERN } from '../domain/ids';
import {
  HeaderName,
  Headers,
  HeaderValue,
  MAX_HEADER_VALUE_LENGTH,
  MAX_HEADERS,
  MAX_SUBSCRIPTIONS,
  MAX_URL_LENGTH,
  Subscription,
  Subscriptions,
  WebhookId,
  WebhookInput,
  WebhookPatch,
  WebhookSecret,
  WebhookUrl,
  WILDCARD,
  OWNER_ALERT_NAMES,
} from '../domain/webhook';
import { type Annotations, type JsonSchema, toJsonSchema } from './jsonSchema';

/*
 * Schemas of the hand-written codecs, keyed by codec name. Each pattern here is checked against the
 * codec by src/openapi/__tests__/annotations.test.ts (values the pattern accepts and refuses must be
 * accepted and refused by the codec), so an annotation cannot quietly disagree with its codec.
 */

/** Patterns of codecs that do not export theirs (webhook.ts keeps them private). */
export const ATTRIBUTE_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$";
export const HEADER_VALUE_PATTERN = `^[\\t\\x20-\\x7E]{0,${MAX_HEADER_VALUE_LENGTH}}$`;
export const WEBHOOK_ID_PATTERN = ULID_PATTERN.source;
export const WEBHOOK_SECRET_PATTERN = '^whsec_[A-Za-z0-9+/]{32,}={0,2}$';
export const DELIVERY_ID_PATTERN = '^msg_[0-9a-f]{32}$';
export const SUBSCRIPTION_PATTERN = '^[a-z][a-z0-9-]{0,31}(:[a-z][a-z0-9-]{0,31}){0,3}:\\*$';

const attributeName: JsonSchema = { type: 'string', pattern: ATTRIBUTE_NAME_PATTERN };
const attributeValue: JsonSchema = { type: 'string', maxLength: MAX_ATTRIBUTE_VALUE_LENGTH };
const headerName: JsonSchema = {
  type: 'string',
  pattern: HEADER_NAME_PATTERN,
  description: 'An HTTP token; not hop-by-hop, proxy-*, host, content-*, expect or webhook-* (the dispatcher sets those)',
};
const headerValue: JsonSchema = { type: 'string', pattern: HEADER_VALUE_PATTERN };
const orNull = (s: JsonSchema): JsonSchema => ({ anyOf: [s, { type: 'null' }] });

const base: Annotations = {
  [NonEmptyString.name]: { type: 'string', minLength: 1 },
  [FiscalCode.name]: { type: 'string', pattern: FISCAL_CODE_PATTERN.source, examples: ['AAABBB00A00A000B'] },
  [EventId.name]: { type: 'string', pattern: EVENT_ID_PATTERN.source },
  [PayloadRef.name]: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of a large payload kept in a blob (the claim check): a reference, never a secret' },
  [EventData.name]: { type: 'string', description: 'Opaque data delivered as it is (JSON text, base64...): the whole event may reach MAX_EVENT_BODY_BYTES (up to 1 MB)' },
  [WebhookUrl.name]: { type: 'string', format: 'uri', maxLength: MAX_URL_LENGTH, description: 'Absolute http or https URL, without credentials or fragment' },
  [Subscription.name]: {
    anyOf: [
      { type: 'string', enum: [...PUBLIC_EVENT_NAMES, WILDCARD, ...OWNER_ALERT_NAMES] },
      { type: 'string', pattern: SUBSCRIPTION_PATTERN, description: 'Every public event under a prefix, present and future (service:*)' },
    ],
  },
  [Subscriptions.name]: (inner) => ({ ...inner, minItems: 1, maxItems: MAX_SUBSCRIPTIONS }),
  [AttributeName.name]: attributeName,
  [AttributeValue.name]: attributeValue,
  [`an object of ${AttributeValue.name}`]: { type: 'object', propertyNames: attributeName, additionalProperties: attributeValue },
  [Attributes.name]: (inner) => ({ ...inner, maxProperties: MAX_ATTRIBUTES }),
  [HeaderName.name]: headerName,
  [HeaderValue.name]: headerValue,
  [`an object of ${HeaderValue.name}`]: { type: 'object', propertyNames: headerName, additionalProperties: headerValue },
  [`an object of at most ${MAX_HEADERS} headers`]: (inner) => ({ ...inner, maxProperties: MAX_HEADERS }),
  [Headers.name]: (inner) => ({ ...inner, description: 'Header names must differ by more than case' }),
  // Answers name a webhook's headers without their values (write-only: often a receiver's credential).
  [HEADER_NAMES]: { type: 'array', items: headerName, description: 'The names of the custom headers sent with each delivery; their values are write-only and never shown' },
  [`an object of (${AttributeValue.name} | null)`]: { type: 'object', propertyNames: attributeName, additionalProperties: orNull(attributeValue) },
  [`an object of (${HeaderValue.name} | null)`]: { type: 'object', propertyNames: headerName, additionalProperties: orNull(headerValue) },
  [WebhookId.name]: { type: 'string', pattern: WEBHOOK_ID_PATTERN, description: 'A ULID' },
  [TenantName.name]: { type: 'string', minLength: 1, maxLength: MAX_TENANT_NAME_LENGTH, description: 'Visible characters' },
  'a tenant id': { type: 'string', pattern: WEBHOOK_ID_PATTERN, description: 'The owning tenant (a ULID); absent for the admin' },
  [WebhookSecret.name]: { type: 'string', pattern: WEBHOOK_SECRET_PATTERN },
  [IsoTimestamp.name]: { type: 'string', format: 'date-time' },
  [DeliveryId.name]: { type: 'string', pattern: DELIVERY_ID_PATTERN, description: 'The webhook-id header of the delivery' },
  [TopicText.name]: { type: 'string', maxLength: 1024, description: 'A public event name, a pattern (service:*) or *, then optionally ?attribute=value&... routing attributes (ping?name=wh1)' },
  [LeaseSecondsText.name]: { type: 'string', pattern: '^[0-9]{1,9}$', description: `Whole seconds, ${MIN_LEASE_SECONDS} to ${MAX_LEASE_SECONDS}` },
  [RoutingGrants.name]: {
    type: 'object',
    propertyNames: { type: 'string', enum: [...ROUTING_ATTRIBUTES] },
    additionalProperties: { type: 'array', maxItems: MAX_ROUTING_VALUES_PER_ATTRIBUTE, items: { type: 'string', minLength: 1, maxLength: MAX_ATTRIBUTE_VALUE_LENGTH } },
    description: `Routing grants: for each routing attribute of the catalogue, the values the tenant may route on (at most ${MAX_ROUTING_VALUES_PER_ATTRIBUTE} per attribute, ${MAX_ROUTING_GRANTS_CHARS} characters of JSON in all; repeats are dropped)`,
  },
  // Per-endpoint controls (docs/api.md): whole numbers in a range, absent = the default.
  [TimeoutMs.name]: { type: 'integer', minimum: MIN_TIMEOUT_MS, maximum: MAX_TIMEOUT_MS, description: 'Receiver timeout of each attempt, ms; absent = DELIVERY_TIMEOUT_MS' },
  [RateLimitPerSecond.name]: {
    type: 'integer',
    minimum: MIN_RATE_LIMIT_PER_SECOND,
    maximum: MAX_RATE_LIMIT_PER_SECOND,
    description: 'Deliveries per second to this webhook, across instances; what would exceed it is held back in the queue, never dropped or counted as an attempt; absent = unlimited',
  },
  [MaxAttempts.name]: {
    type: 'integer',
    minimum: 1,
    maximum: MAX_ATTEMPTS_ANY_SCHEDULE,
    description: "Attempts before a delivery is poisoned (AttemptsExhausted); at most the retry schedule's attempts (RETRY_SCHEDULE_SECONDS delays + 1, 8 by default); absent = the schedule",
  },
  [BodyFormat.name]: {
    type: 'string',
    enum: [...BODY_FORMATS],
    description:
      'The delivered body: pagopa {"name","payload"} (absent = this), standard {"type","timestamp","data"} (Standard Webhooks), cloudevents (CloudEvents 1.0 structured JSON, application/cloudevents+json, source urn:pagopa:webhook-dispatcher); all signed the same way',
  },
  [HubSecret.name]: { type: 'string', description: `${MIN_HUB_SECRET_BYTES} to ${MAX_HUB_SECRET_BYTES} bytes; deliveries are signed with it (X-Hub-Signature)` },
};

/**
 * WebhookInput and WebhookPatch refuse unknown fields through a wrapper (withoutExtraFields) that
 * keeps the codec it wraps private but puts it in the context of its errors: that is where it is
 * read from. The annotation test checks the resulting fields against the wrapper's own list.
 */
export const wrappedCodec = (outer: t.Decoder<unknown, unknown>): t.Mixed => {
  const result = outer.validate(undefined, []);
  const inner = E.isLeft(result) ? result.left[0]?.context[0]?.type : undefined;
  if (inner === undefined || inner === outer) throw new Error(`Cannot find the codec ${outer.name} wraps`);
  return inner as t.Mixed;
};

export const ANNOTATIONS: Annotations = {
  ...base,
  [ReplayId.name]: { type: 'string', pattern: '^rpl_[0-9a-f]{32}$' },
  [ReplayRequest.name]: { ...toJsonSchema(wrappedCodec(ReplayRequest), base), additionalProperties: false },
  [ResendRequest.name]: { ...toJsonSchema(wrappedCodec(ResendRequest), base), additionalProperties: false },
  [PortalLinkRequest.name]: {
    ...toJsonSchema(wrappedCodec(PortalLinkRequest), {
      ...base,
      [PortalLinkTtlSeconds.name]: { type: 'integer', description: `Seconds until the link and its sessions expire: 1 to ${MAX_PORTAL_LINK_TTL_SECONDS} (default ${DEFAULT_PORTAL_LINK_TTL_SECONDS})` },
    }),
    additionalProperties: false,
  },
  [PortalSessionRequest.name]: { ...toJsonSchema(wrappedCodec(PortalSessionRequest), base), additionalProperties: false },
  // These refuse unknown fields (a typo is an error, not a no-op).
  [TenantInput.name]: { ...toJsonSchema(wrappedCodec(TenantInput), base), additionalProperties: false },
  [RotateSecretInput.name]: { ...toJsonSchema(wrappedCodec(RotateSecretInput), base), additionalProperties: false },
  [WebhookInput.name]: { ...toJsonSchema(wrappedCodec(WebhookInput), base), additionalProperties: false },
  [WebhookPatch.name]: {
    ...toJsonSchema(wrappedCodec(WebhookPatch), base),
    additionalProperties: false,
    description: 'JSON merge patch: inside attributes and headers, a string sets one entry and null removes it',
  },
};
