import * as t from 'io-ts';
import { AttributeName, Attributes, AttributeValue } from './attributes';
import { PUBLIC_EVENT_NAMES, PublicEventName } from './catalogue';
import { boundedArray, boundedRecord, checkedRecord, IsoTimestamp, withoutExtraFields } from './codecs';
import { DisabledReason, FailingStreak } from './endpointHealth';
import { BodyFormat, MaxAttempts, RateLimitPerSecond } from './endpointControls';
import { ULID_PATTERN } from './ids';
import { type Branded, checkedString, patternString, refinedString } from './strings';
import { TenantId } from './tenant';

/*
 * A registered webhook and the rules its fields obey. Limits are named here so that the docs and the
 * error messages agree with the checks.
 */

export const MAX_URL_LENGTH = 2048;
export const MAX_SUBSCRIPTIONS = 16;
export const MAX_HEADERS = 16;
export const MAX_HEADER_VALUE_LENGTH = 1024;
export const WILDCARD = '*' as const;

const isWebhookUrl = (s: string): boolean => {
  if (s.length > MAX_URL_LENGTH || /\s/.test(s)) return false;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.username === '' && url.password === '' && url.hash === '';
};

export const WebhookUrl = refinedString<'WebhookUrl'>(`an absolute http or https URL, without credentials or fragment, at most ${MAX_URL_LENGTH} characters`, isWebhookUrl);
export type WebhookUrl = t.TypeOf<typeof WebhookUrl>;

/**
 * A pattern: a prefix of colon-separated segments then `:*` (`service:*`), matching every public
 * event under that prefix, present and future (`service:subscribed`, not `services:x`).
 */
export type SubscriptionPattern = Branded<string, 'SubscriptionPattern'>;
const PATTERN = /^[a-z][a-z0-9-]{0,31}(:[a-z][a-z0-9-]{0,31}){0,3}:\*$/;
export const isSubscriptionPattern = (s: string): s is SubscriptionPattern => PATTERN.test(s);
/** `service:*` -> `service:`: an event name matches when it starts with this. */
export const patternPrefix = (pattern: SubscriptionPattern): string => pattern.slice(0, -1);
/**
 * Operational events a webhook may subscribe to by name (never through `*` or a pattern): they
 * arrive about the other webhooks of the same tenant (docs/delivery.md, "Per-tenant alerts").
 */
export const OWNER_ALERT_NAMES = ['webhook.disabled', 'delivery.exhausted'] as const;
export type OwnerAlertName = (typeof OWNER_ALERT_NAMES)[number];
export const isOwnerAlertName = (u: unknown): u is OwnerAlertName => (OWNER_ALERT_NAMES as readonly unknown[]).includes(u);
/** A public event name, a pattern (`service:*`), `*` for every public event (present and future), or an owner alert. */
export type Subscription = PublicEventName | SubscriptionPattern | typeof WILDCARD | OwnerAlertName;
const isSubscription = (u: unknown): u is Subscription => u === WILDCARD || PublicEventName.is(u) || isOwnerAlertName(u) || (typeof u === 'string' && isSubscriptionPattern(u));
export const Subscription = new t.Type<Subscription, string, unknown>(
  `a public event name (${PUBLIC_EVENT_NAMES.join(', ')}), a pattern such as service:*, ${WILDCARD}, or an alert (${OWNER_ALERT_NAMES.join(', ')})`,
  isSubscription,
  (u, c) => (isSubscription(u) ? t.success(u) : t.failure(u, c)),
  (a) => a,
);

export const Subscriptions = boundedArray(Subscription, { min: 1, max: MAX_SUBSCRIPTIONS, description: `a list of 1 to ${MAX_SUBSCRIPTIONS} subscriptions` });
export type Subscriptions = t.TypeOf<typeof Subscriptions>;

/**
 * Headers the dispatcher sets itself or that belong to one connection: a webhook may not override
 * them (hop-by-hop headers would break the request; `webhook-*` would forge the signature).
 */
const RESERVED_HEADER_NAMES = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', 'content-type', 'content-encoding', 'expect']);
const RESERVED_HEADER_PREFIXES = ['proxy-', 'webhook-'];
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

export const isReservedHeaderName = (name: string): boolean => {
  const lower = name.toLowerCase();
  return RESERVED_HEADER_NAMES.has(lower) || RESERVED_HEADER_PREFIXES.some((p) => lower.startsWith(p));
};

export const HeaderName = checkedString(
  'a header name (an HTTP token of at most 64 characters) that the dispatcher does not set itself (not hop-by-hop, proxy-*, host, content-*, expect or webhook-*)',
  (s) => HEADER_TOKEN.test(s) && !isReservedHeaderName(s),
);
const HEADER_VALUE = new RegExp(`^[\\t\\x20-\\x7E]{0,${MAX_HEADER_VALUE_LENGTH}}$`);
export const HeaderValue = checkedString(`a header value (visible ASCII, spaces and tabs, at most ${MAX_HEADER_VALUE_LENGTH} characters)`, (s) => HEADER_VALUE.test(s));

const hasNoCaseDuplicates = (r: Record<string, string>): boolean => new Set(Object.keys(r).map((k) => k.toLowerCase())).size === Object.keys(r).length;

export const Headers = t.refinement(
  boundedRecord(HeaderName, HeaderValue, { max: MAX_HEADERS, description: `an object of at most ${MAX_HEADERS} headers` }),
  hasNoCaseDuplicates,
  'an object of headers whose names differ by more than case',
);
export type Headers = Readonly<Record<string, string>>;

/** Webhook ids are ULIDs (26 Crockford base-32 characters), generated on create. */
export const WebhookId = patternString<'WebhookId'>('a webhook id', ULID_PATTERN);
export type WebhookId = t.TypeOf<typeof WebhookId>;

export const WebhookSecret = patternString<'WebhookSecret'>('a signing secret (whsec_ + base64)', /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/);
export type WebhookSecret = t.TypeOf<typeof WebhookSecret>;

/** A secret replaced by a rotation, still used to sign (beside the new one) until `expiresAt`. */
export const PreviousSecret = t.type({ secret: WebhookSecret, expiresAt: IsoTimestamp }, 'PreviousSecret');
export type PreviousSecret = t.TypeOf<typeof PreviousSecret>;

export const MAX_PROJECTED_FIELDS = 32;
/** Payload fields a webhook wants (projection): it receives only these. */
export const ProjectedFields = t.refinement(t.array(AttributeName), (a) => a.length >= 1 && a.length <= MAX_PROJECTED_FIELDS, `a list of 1 to ${MAX_PROJECTED_FIELDS} payload field names`);

export const MIN_TIMEOUT_MS = 1_000;
export const MAX_TIMEOUT_MS = 30_000;
/** A webhook's own receiver timeout (Standard Webhooks recommends 15-30 s; DELIVERY_TIMEOUT_MS is the default). */
export const TimeoutMs = t.refinement(
  t.number,
  (n) => Number.isInteger(n) && n >= MIN_TIMEOUT_MS && n <= MAX_TIMEOUT_MS,
  `a timeout in whole milliseconds from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}`,
);

export const MIN_LEASE_SECONDS = 60;
export const MAX_LEASE_SECONDS = 366 * 24 * 3600;
export const LeaseSeconds = t.refinement(
  t.number,
  (n) => Number.isInteger(n) && n >= MIN_LEASE_SECONDS && n <= MAX_LEASE_SECONDS,
  `a lease in whole seconds from ${MIN_LEASE_SECONDS} to ${MAX_LEASE_SECONDS}`,
);

const requiredFields = {
  id: WebhookId,
  url: WebhookUrl,
  subscriptions: Subscriptions,
  attributes: Attributes,
  headers: Headers,
  disabled: t.boolean,
  createdAt: IsoTimestamp,
  updatedAt: IsoTimestamp,
};

// Added with tenants (docs/tenants.md) and after; absent on webhooks stored before, with the old meaning.
const optionalFields = t.partial({
  /** The owner of a webhook created with a tenant key; absent = the admin's. */
  tenantId: TenantId,
  /** The lease: after this the webhook receives nothing until renewed. */
  expiresAt: IsoTimestamp,
  fields: ProjectedFields,
  /** false while endpoint verification has not succeeded; absent = no verification asked. */
  verified: t.boolean,
  /** The WebSub topic, for subscriptions made through /api/websub (one topic, one callback). */
  websubTopic: t.string,
  /** Set when the dispatcher disabled the webhook (docs/delivery.md, "Endpoint health"). */
  disabledReason: DisabledReason,
  /** The current streak of failed attempts, if one runs. */
  failing: FailingStreak,
  /** The receiver timeout of this webhook's attempts; absent = DELIVERY_TIMEOUT_MS. */
  timeoutMs: TimeoutMs,
  /** Per-endpoint controls (./endpointControls); absent = unlimited, the whole schedule, the pagopa body. */
  rateLimitPerSecond: RateLimitPerSecond,
  maxAttempts: MaxAttempts,
  format: BodyFormat,
});

/** A webhook as the fan-out reads it from the registry's index rows, which carry no secrets. */
export const WebhookWithoutSecrets = t.intersection([t.type(requiredFields), optionalFields], 'WebhookWithoutSecrets');
export type WebhookWithoutSecrets = t.TypeOf<typeof WebhookWithoutSecrets>;

export const Webhook = t.intersection(
  [
    WebhookWithoutSecrets,
    t.type({ secret: WebhookSecret }),
    /** Secrets of a rotation's overlap window. */
    t.partial({ previousSecrets: t.array(PreviousSecret) }),
  ],
  'Webhook',
);
export type Webhook = t.TypeOf<typeof Webhook>;

/**
 * What the registry API shows: everything but the secrets, which only the create (and rotate) answer
 * holds, and the names of the webhook's headers without their values (often a receiver's credential:
 * write-only, docs/api.md).
 */
export const HEADER_NAMES = 'the names of the headers';
const { headers: _headerValues, ...viewFields } = requiredFields;
export const WebhookView = t.intersection([t.type(viewFields), optionalFields, t.type({ headerNames: t.array(HeaderName, HEADER_NAMES) })], 'WebhookView');
export type WebhookView = t.TypeOf<typeof WebhookView>;
export const toView = ({ secret: _secret, previousSecrets: _previous, headers, ...view }: Webhook): WebhookView => ({ ...view, headerNames: Object.keys(headers) });

/** Whether the webhook may receive anything, whatever the time: enabled, and verified when verification was asked. */
export const canReceive = (webhook: WebhookWithoutSecrets): boolean => !webhook.disabled && webhook.verified !== false;

/** Whether the webhook receives deliveries now: it can receive, and its lease (if any) is not over. */
export const isActive = (webhook: WebhookWithoutSecrets, now: Date): boolean => canReceive(webhook) && (webhook.expiresAt === undefined || Date.parse(webhook.expiresAt) > now.getTime());

/** The secrets deliveries are signed with now: the current one first, then those still in their overlap. */
export const signingSecrets = (webhook: Webhook, now: Date): WebhookSecret[] => [
  webhook.secret,
  ...(webhook.previousSecrets ?? []).filter((p) => Date.parse(p.expiresAt) > now.getTime()).map((p) => p.secret),
];

const WEBHOOK_INPUT_FIELDS = [
  'url',
  'subscriptions',
  'attributes',
  'headers',
  'disabled',
  'fields',
  'expiresAt',
  'leaseSeconds',
  'verify',
  'timeoutMs',
  'rateLimitPerSecond',
  'maxAttempts',
  'format',
] as const;

/** The body of a create (POST) or a replace (PUT). */
export const WebhookInput = withoutExtraFields(
  t.intersection([
    t.type({ url: WebhookUrl, subscriptions: Subscriptions }),
    t.partial({
      attributes: Attributes,
      headers: Headers,
      disabled: t.boolean,
      fields: ProjectedFields,
      expiresAt: IsoTimestamp,
      leaseSeconds: LeaseSeconds,
      /** Endpoint verification before the webhook receives anything (default: VERIFY_ENDPOINTS_DEFAULT). */
      verify: t.boolean,
      timeoutMs: TimeoutMs,
      rateLimitPerSecond: RateLimitPerSecond,
      maxAttempts: MaxAttempts,
      format: BodyFormat,
    }),
  ]),
  WEBHOOK_INPUT_FIELDS,
  'WebhookInput',
);
export type WebhookInput = t.TypeOf<typeof WebhookInput>;

/**
 * The body of a PATCH: JSON merge patch (RFC 7396). Top-level fields replace; inside `attributes`
 * and `headers` a string sets one entry and `null` removes it.
 */
export const WebhookPatch = withoutExtraFields(
  t.partial({
    url: WebhookUrl,
    subscriptions: Subscriptions,
    attributes: checkedRecord(AttributeName, t.union([AttributeValue, t.null])),
    headers: checkedRecord(HeaderName, t.union([HeaderValue, t.null])),
    disabled: t.boolean,
    fields: t.union([ProjectedFields, t.null]),
    expiresAt: t.union([IsoTimestamp, t.null]),
    /** Renews the lease: expiresAt = now + leaseSeconds. */
    leaseSeconds: LeaseSeconds,
    verify: t.boolean,
    /** null goes back to DELIVERY_TIMEOUT_MS. */
    timeoutMs: t.union([TimeoutMs, t.null]),
    /** null goes back to the default (unlimited, the whole schedule, pagopa). */
    rateLimitPerSecond: t.union([RateLimitPerSecond, t.null]),
    maxAttempts: t.union([MaxAttempts, t.null]),
    format: t.union([BodyFormat, t.null]),
  }),
  WEBHOOK_INPUT_FIELDS,
  'WebhookPatch',
);
export type WebhookPatch = t.TypeOf<typeof WebhookPatch>;

const mergeEntries = (current: Readonly<Record<string, string>>, patch: Readonly<Record<string, string | null>> | undefined, caseInsensitive: boolean): Record<string, string> => {
  if (patch === undefined) return { ...current };
  const norm = (k: string): string => (caseInsensitive ? k.toLowerCase() : k);
  const result: Record<string, string> = {};
  for (const [k, v] of Object.entries(current)) if (!Object.keys(patch).some((p) => norm(p) === norm(k))) result[k] = v;
  for (const [k, v] of Object.entries(patch)) if (v !== null) result[k] = v;
  return result;
};

/** Applies a patch and yields the input to validate again (limits apply to the merged result). */
export const applyPatch = (current: Webhook, patch: WebhookPatch): WebhookInput => {
  const fields = patch.fields === null ? undefined : (patch.fields ?? current.fields);
  const expiresAt = patch.expiresAt === null ? undefined : (patch.expiresAt ?? current.expiresAt);
  const timeoutMs = patch.timeoutMs === null ? undefined : (patch.timeoutMs ?? current.timeoutMs);
  const controls = patchedControls(current, patch);
  return {
    url: patch.url ?? current.url,
    subscriptions: patch.subscriptions ?? current.subscriptions,
    attributes: mergeEntries(current.attributes, patch.attributes, false),
    // Header names are case-insensitive: patching `authorization` replaces `Authorization`.
    headers: mergeEntries(current.headers, patch.headers, true),
    disabled: patch.disabled ?? current.disabled,
    ...(fields === undefined ? {} : { fields }),
    // A new lease replaces the stored expiry; without one the expiry stays (or goes, with null).
    ...(patch.leaseSeconds !== undefined ? { leaseSeconds: patch.leaseSeconds } : expiresAt === undefined ? {} : { expiresAt }),
    ...(patch.verify === undefined ? {} : { verify: patch.verify }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...controls,
  };
};

const CONTROL_FIELDS = ['rateLimitPerSecond', 'maxAttempts', 'format'] as const;
type Controls = Pick<WebhookInput, (typeof CONTROL_FIELDS)[number]>;

/** The controls after a merge patch: null removes one, absent keeps the stored one. */
const patchedControls = (current: Controls, patch: { readonly [K in keyof Controls]?: Controls[K] | null }): Controls => {
  const result: Record<string, unknown> = {};
  for (const key of CONTROL_FIELDS) {
    const value = patch[key] === null ? undefined : (patch[key] ?? current[key]);
    if (value !== undefined) result[key] = value;
  }
  return result as Controls;
};

/** Subscriptions without repeats, in the order given. */
export const normalizeSubscriptions = (subscriptions: readonly Subscription[]): Subscription[] => [...new Set(subscriptions)];

/** True when the subscription covers the event: the name itself, a pattern over it, or `*`. */
export const coversEvent = (subscription: Subscription, eventName: string): boolean =>
  subscription === WILDCARD || subscription === eventName || (isSubscriptionPattern(subscription) && eventName.startsWith(patternPrefix(subscription)));
