import { createHmac } from 'node:crypto';
import * as t from 'io-ts';
import { checkedString } from './strings';
import * as E from 'fp-ts/Either';
import { Attributes } from './attributes';
import { SECRET_PREFIX } from './ids';
import { isOwnerAlertName, MAX_LEASE_SECONDS, MIN_LEASE_SECONDS, Subscription, WebhookId, WebhookUrl } from './webhook';

/*
 * WebSub (W3C Recommendation, 2018) as a front door to the registry: a subscription request is a
 * form POST with `hub.*` fields; the hub answers 202 and later verifies the subscriber's intent with
 * a GET to the callback carrying `hub.challenge`, which the callback must echo. Here a topic is a
 * public event name, a pattern (`service:*`) or `*`, and a subscription is a webhook.
 */

export const DEFAULT_WEBSUB_LEASE_SECONDS = 10 * 24 * 3600;
/** WebSub: "hub.secret ... MUST be less than 200 bytes"; a signing key needs at least 24. */
export const MIN_HUB_SECRET_BYTES = 24;
export const MAX_HUB_SECRET_BYTES = 199;

export const LeaseSecondsText = checkedString(
  `a whole number of seconds from ${MIN_LEASE_SECONDS} to ${MAX_LEASE_SECONDS}`,
  (s) => /^[0-9]{1,9}$/.test(s) && Number(s) >= MIN_LEASE_SECONDS && Number(s) <= MAX_LEASE_SECONDS,
);
export const HubSecret = checkedString(
  `${MIN_HUB_SECRET_BYTES} to ${MAX_HUB_SECRET_BYTES} bytes`,
  (s) => Buffer.byteLength(s, 'utf8') >= MIN_HUB_SECRET_BYTES && Buffer.byteLength(s, 'utf8') <= MAX_HUB_SECRET_BYTES,
);

/**
 * A topic: a subscription (`ping`, `service:*`, `*`) and, after `?`, the webhook attributes that
 * route events to it, as a query string: `service:subscribed?serviceId=svc-1`, `ping?name=wh1`.
 */
export type Topic = { readonly subscription: Subscription; readonly attributes: Attributes };
export const parseTopic = (text: string): Topic | undefined => {
  const [head, query, ...rest] = text.split('?');
  // Alerts (webhook.disabled, ...) are the registry's, about a tenant's own webhooks: not WebSub topics.
  if (rest.length > 0 || !Subscription.is(head) || isOwnerAlertName(head)) return undefined;
  const attributes = Attributes.decode(Object.fromEntries(new URLSearchParams(query ?? '')));
  return E.isRight(attributes) ? { subscription: head, attributes: attributes.right } : undefined;
};
export const TopicText = checkedString('a topic: a public event name, a pattern such as service:*, or *, then optionally ?attribute=value&...', (s) => s.length <= 1024 && parseTopic(s) !== undefined);

/** The form fields of a subscription request, as decoded from application/x-www-form-urlencoded. */
export const WebSubRequest = t.intersection(
  [
    t.type({ 'hub.mode': t.keyof({ subscribe: null, unsubscribe: null }, '"subscribe" or "unsubscribe"'), 'hub.topic': TopicText, 'hub.callback': WebhookUrl }),
    t.partial({ 'hub.lease_seconds': LeaseSecondsText, 'hub.secret': HubSecret }),
  ],
  'WebSubRequest',
);
export type WebSubRequest = t.TypeOf<typeof WebSubRequest>;

/** The job of intent verification, queued after the 202: no secret travels in it. */
export const WebSubVerification = t.intersection(
  [t.type({ v: t.literal(1), mode: t.keyof({ subscribe: null, unsubscribe: null }), webhookId: WebhookId, topic: t.string }), t.partial({ leaseSeconds: t.number })],
  'WebSubVerification',
);
export type WebSubVerification = t.TypeOf<typeof WebSubVerification>;

/** The queue of verification jobs: named after the delivery queue, so no new setting is needed. */
export const websubQueueName = (deliveriesQueue: string): string => `${deliveriesQueue}-websub`;

/**
 * WebSub's content signature, `X-Hub-Signature: sha256=<hex HMAC of the body>`, keyed by the
 * subscriber's hub.secret (the bytes behind the webhook's `whsec_` secret), sent beside the Standard
 * Webhooks headers to subscriptions made through /api/websub.
 */
export const hubSignature = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64'))
    .update(body, 'utf8')
    .digest('hex')}`;
