import * as t from 'io-ts';
import { IsoTimestamp } from './codecs';
import type { AppErrorKind } from './errors';
import { EventId } from './events';
import { AttemptResult } from './outcome';
import { TenantView } from './tenant';
import { WebhookSecret, WebhookView } from './webhook';

/*
 * What the HTTP API answers, where no single use case owns the shape (the views a use case returns
 * sit beside it: getEventStatus, redrivePoison, ...). Each codec is the one definition: its TypeOf
 * is what ports, use cases and handlers build, the OpenAPI document is generated from it, and the
 * HTTP test and the ops CLI decode real answers with it.
 */

const ERROR_KINDS: Record<AppErrorKind, null> = { Invalid: null, Unauthorized: null, Forbidden: null, NotFound: null, Conflict: null, TooLarge: null, Transient: null, Permanent: null };

/** The body of every error answer: the kind, a sentence, and one line per problem when there are several. */
export const ErrorBody = t.intersection([t.type({ error: t.keyof(ERROR_KINDS), message: t.string }), t.partial({ details: t.readonlyArray(t.string) })], 'ErrorBody');
export type ErrorBody = t.TypeOf<typeof ErrorBody>;

/** `disabled`: the event's name is in DISABLED_EVENTS, so it was stored but will not be dispatched. */
export const EventAccepted = t.intersection([t.type({ id: EventId }), t.partial({ disabled: t.boolean })], 'EventAccepted');
export type EventAccepted = t.TypeOf<typeof EventAccepted>;

/** Where the fan-out of one event stands (ports/dispatch.ts reads it). */
export const DispatchState = t.intersection(
  [
    /** NotStarted: no orchestration exists for the event (yet). */
    t.type({ status: t.keyof({ NotStarted: null, Pending: null, Running: null, Completed: null, Failed: null, Terminated: null, ContinuedAsNew: null, Suspended: null, Unknown: null }) }),
    /** Deliveries enqueued so far, and webhook pages read. */
    t.partial({ deliveries: t.number, pages: t.number, error: t.string, lastUpdatedAt: IsoTimestamp }),
  ],
  'DispatchState',
);
export type DispatchState = t.TypeOf<typeof DispatchState>;

export const EventSummary = t.type({ id: EventId, name: t.string, payload: t.UnknownRecord, receivedAt: IsoTimestamp }, 'EventSummary');
export const EventList = t.type({ items: t.array(EventSummary) }, 'EventList');
export type EventList = t.TypeOf<typeof EventList>;

/**
 * What became of a delivery after one attempt (or why no attempt was made). `Requeued` (attempt 0):
 * a replay or resend enqueued it again, so a second replay leaves it alone (docs/delivery.md).
 */
const DECISIONS = {
  Delivered: null,
  RetryLater: null,
  WebhookDisabledByGone: null,
  Poisoned: null,
  SkippedDisabledWebhook: null,
  SkippedDeletedWebhook: null,
  SkippedErasedEvent: null,
  Requeued: null,
};
export type AttemptDecision = keyof typeof DECISIONS;

/** One attempt-log entry, as the attempt log stores it and GET /api/webhooks/{id}/attempts shows it. */
export const AttemptLogEntry = t.intersection(
  [
    /** `attempt`: 1 for the first attempt; 0 when the delivery was skipped without an attempt. */
    t.type({ eventId: t.string, deliveryId: t.string, webhookId: t.string, attempt: t.number, at: IsoTimestamp, decision: t.keyof(DECISIONS) }),
    /** `nextAttemptAt`: when the next attempt is due, for RetryLater; `tenantId`: the webhook's owner, when a tenant owns it. */
    t.partial({ result: AttemptResult, nextAttemptAt: IsoTimestamp, tenantId: t.string }),
  ],
  'AttemptLogEntry',
);
export type AttemptLogEntry = t.TypeOf<typeof AttemptLogEntry>;
export const AttemptList = t.type({ items: t.array(AttemptLogEntry) }, 'AttemptList');
export type AttemptList = t.TypeOf<typeof AttemptList>;

const Check = t.keyof({ ok: null, down: null });
/** GET /api/health: what storage answered, or which settings are invalid (names, never values). */
export const HealthReport = t.intersection(
  [t.type({ status: t.keyof({ ok: null, unavailable: null }), checks: t.record(t.string, Check) }), t.partial({ message: t.string, settings: t.readonlyArray(t.string) })],
  'HealthReport',
);
export type HealthReport = t.TypeOf<typeof HealthReport>;

export const WebhookPage = t.intersection([t.type({ items: t.array(WebhookView) }), t.partial({ continuationToken: t.string })], 'WebhookPage');
export type WebhookPage = t.TypeOf<typeof WebhookPage>;
/** The create answer: the only one, with rotation's, that holds the signing secret. */
export const CreatedWebhook = t.intersection([WebhookView, t.type({ secret: WebhookSecret }), t.partial({ verification: t.type({ detail: t.string }) })], 'CreatedWebhook');
export type CreatedWebhook = t.TypeOf<typeof CreatedWebhook>;
export const RotatedWebhook = t.intersection([WebhookView, t.type({ secret: WebhookSecret }), t.partial({ previousSecretExpiresAt: IsoTimestamp })], 'RotatedWebhook');
export type RotatedWebhook = t.TypeOf<typeof RotatedWebhook>;
export const VerificationOutcome = t.type({ verified: t.boolean, detail: t.string, webhook: WebhookView }, 'VerificationOutcome');
export type VerificationOutcome = t.TypeOf<typeof VerificationOutcome>;

export const TenantWithKey = t.intersection([TenantView, t.type({ apiKey: t.string })], 'TenantWithKey');
export type TenantWithKey = t.TypeOf<typeof TenantWithKey>;
export const TenantPage = t.intersection([t.type({ items: t.array(TenantView) }), t.partial({ continuationToken: t.string })], 'TenantPage');
export type TenantPage = t.TypeOf<typeof TenantPage>;
