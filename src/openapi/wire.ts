import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { CATALOGUE, EVENT_NAMES, type EventName } from '../domain/catalogue';
import { DeliveryMessage, PoisonEntry } from '../domain/delivery';
import type { AppErrorKind } from '../domain/errors';
import { EventId } from '../domain/events';
import { AttemptResult } from '../domain/outcome';
import { RoutingGrants } from '../domain/routingGrants';
import { type TenantView as TenantViewType, TenantId } from '../domain/tenant';
import { IsoTimestamp } from '../domain/codecs';
import { HeaderName, Webhook, WebhookSecret } from '../domain/webhook';
import type { WebhookView as WebhookViewType } from '../domain/webhook';
import type { ErrorBody as ErrorBodyType } from '../functions/lib/responses';
import type { AttemptDecision, AttemptLogEntry } from '../ports/attemptLog';
import type { DispatchState as DispatchStateType } from '../ports/dispatch';
import type { DeliveryView as DeliveryViewType, EventStatusView as EventStatusViewType } from '../usecases/getEventStatus';
import type { PoisonView as PoisonViewType, RedriveReport as RedriveReportType } from '../usecases/redrivePoison';
import type { ResealReport as ResealReportType } from '../usecases/resealSecrets';
import type { ErasureReport as ErasureReportType } from '../usecases/eraseSubject';
import type { PurgeReport as PurgeReportType } from '../usecases/purgeEvents';

/*
 * Codecs of what the HTTP API answers. Requests are decoded by the domain's codecs; answers are
 * built from use-case types, so these codecs describe them for the OpenAPI document, the ops CLI
 * and the tests. Each one is tied to its use-case type below (a compile error if a field changes
 * type or appears as required), and the HTTP test decodes real answers with them, refusing fields
 * they do not name.
 */

const ERROR_KINDS: Record<AppErrorKind, null> = { Invalid: null, Unauthorized: null, Forbidden: null, NotFound: null, Conflict: null, TooLarge: null, Transient: null, Permanent: null };

export const ErrorBody = t.intersection([t.type({ error: t.keyof(ERROR_KINDS), message: t.string }), t.partial({ details: t.readonlyArray(t.string) })], 'ErrorBody');
export type ErrorBody = t.TypeOf<typeof ErrorBody>;

export const EventAccepted = t.type({ id: EventId }, 'EventAccepted');

/**
 * The ingest body, one shape per catalogue event (the handler decodes the envelope, then the payload
 * by name). A missing payload counts as `{}`, so it may be left out only where `{}` is a valid one.
 */
const incomingEventOf = (name: EventName): t.Mixed => {
  const payload = CATALOGUE[name].payload as t.Mixed;
  return E.isRight(payload.decode({}))
    ? t.intersection([t.type({ name: t.literal(name) }), t.partial({ payload, id: EventId })])
    : t.intersection([t.type({ name: t.literal(name), payload }), t.partial({ id: EventId })]);
};
export const IncomingEvent = t.union(EVENT_NAMES.map(incomingEventOf) as [t.Mixed, t.Mixed, ...t.Mixed[]], 'IncomingEvent');

/** The codec name of `headerNames` in answers, documented in annotations.ts. */
export const HEADER_NAMES = 'the names of the headers';

/** The fields toView leaves out of every answer but the create (and rotate) one. */
export const SECRET_FIELDS = ['secret', 'previousSecrets'] as const;

/** A codec without some fields, through the combinators a record codec is built from. */
const withoutFields = (codec: t.Mixed, fields: readonly string[], name?: string): t.Mixed => {
  const keep = (props: t.Props): t.Props => Object.fromEntries(Object.entries(props).filter(([k]) => !fields.includes(k)));
  if (codec instanceof t.InterfaceType) return t.type(keep(codec.props as t.Props), name);
  if (codec instanceof t.PartialType) return t.partial(keep(codec.props as t.Props), name);
  if (codec instanceof t.IntersectionType) return t.intersection((codec.types as t.Mixed[]).map((c) => withoutFields(c, fields)) as [t.Mixed, t.Mixed], name);
  throw new Error(`withoutFields: ${codec.name} is not built from t.type, t.partial and t.intersection`);
};

export type WebhookView = WebhookViewType;
/** Header values are write-only: answers name the headers (`headerNames`), never their values. */
export const WebhookView = t.intersection([withoutFields(Webhook, [...SECRET_FIELDS, 'headers']), t.type({ headerNames: t.array(HeaderName, HEADER_NAMES) })], 'WebhookView') as t.Type<WebhookView, unknown, unknown>;
export const WebhookPage = t.intersection([t.type({ items: t.array(WebhookView) }), t.partial({ continuationToken: t.string })], 'WebhookPage');

export const DispatchState = t.intersection(
  [
    t.type({ status: t.keyof({ NotStarted: null, Pending: null, Running: null, Completed: null, Failed: null, Terminated: null, ContinuedAsNew: null, Suspended: null, Unknown: null }) }),
    t.partial({ deliveries: t.number, pages: t.number, error: t.string, lastUpdatedAt: IsoTimestamp }),
  ],
  'DispatchState',
);

const DeliveryState = t.keyof({ delivered: null, retrying: null, poisoned: null, gone: null, skipped: null }, 'DeliveryState');

export const DeliveryView = t.intersection(
  [
    t.type({ deliveryId: t.string, webhookId: t.string, state: DeliveryState, attempts: t.number, lastAttemptAt: IsoTimestamp }),
    t.partial({ lastResult: t.union([t.type({ status: t.number }), t.type({ error: t.string })]), nextAttemptAt: IsoTimestamp }),
  ],
  'DeliveryView',
);

export const EventStatusView = t.type(
  {
    id: EventId,
    name: t.string,
    payload: t.UnknownRecord,
    receivedAt: IsoTimestamp,
    dispatch: DispatchState,
    summary: t.type({ delivered: t.number, retrying: t.number, poisoned: t.number, gone: t.number, skipped: t.number, pending: t.number }),
    deliveries: t.readonlyArray(DeliveryView),
  },
  'EventStatusView',
);
export type EventStatusView = t.TypeOf<typeof EventStatusView>;

export const EventSummary = t.type({ id: EventId, name: t.string, payload: t.UnknownRecord, receivedAt: IsoTimestamp }, 'EventSummary');
export const EventList = t.type({ items: t.array(EventSummary) }, 'EventList');

const DECISIONS: Record<AttemptDecision, null> = { Delivered: null, RetryLater: null, WebhookDisabledByGone: null, Poisoned: null, SkippedDisabledWebhook: null, SkippedDeletedWebhook: null, SkippedErasedEvent: null, Requeued: null };

export const AttemptLogEntryView = t.intersection(
  [
    t.type({ eventId: t.string, deliveryId: t.string, webhookId: t.string, attempt: t.number, at: IsoTimestamp, decision: t.keyof(DECISIONS) }),
    t.partial({ result: AttemptResult, nextAttemptAt: IsoTimestamp }),
  ],
  'AttemptLogEntry',
);
export const AttemptList = t.type({ items: t.array(AttemptLogEntryView) }, 'AttemptList');

const PoisonItem = t.union(
  [
    t.type({ kind: t.literal('Undeliverable'), entry: PoisonEntry }),
    t.type({ kind: t.literal('FailedMessage'), message: DeliveryMessage }),
    t.type({ kind: t.literal('Unreadable'), excerpt: t.string }),
  ],
  'PoisonItem',
);
export const PoisonView = t.type({ messageId: t.string, insertedOn: IsoTimestamp, dequeueCount: t.number, item: PoisonItem }, 'PoisonView');
export const PoisonList = t.type({ items: t.array(PoisonView) }, 'PoisonList');

export const RedriveRequest = t.union([t.exact(t.type({ all: t.literal(true) })), t.exact(t.type({ messageId: t.string }))], 'RedriveRequest');
export const RedriveReport = t.type({ redriven: t.number, leftUnreadable: t.number, found: t.boolean, truncated: t.boolean }, 'RedriveReport');
export const ResealReport = t.type({ resealed: t.number, more: t.boolean }, 'ResealReport');

const Deleted = t.type({ events: t.number, attempts: t.number, poison: t.number });
/** DELETE /api/events?before=: what the purge deleted; `truncated`: a bound was reached, call again. */
export const PurgeReport = t.type({ deleted: Deleted, instances: t.number, truncated: t.boolean }, 'PurgeReport');
export { ErasureRequest } from '../usecases/eraseSubject';
export const ErasureReport = t.type({ deleted: Deleted, truncated: t.boolean }, 'ErasureReport');

const Check = t.keyof({ ok: null, down: null });
export const HealthReport = t.intersection(
  [t.type({ status: t.keyof({ ok: null, unavailable: null }), checks: t.record(t.string, Check) }), t.partial({ message: t.string, settings: t.array(t.string) })],
  'HealthReport',
);

export const CreatedWebhook = t.intersection([WebhookView, t.type({ secret: WebhookSecret }), t.partial({ verification: t.type({ detail: t.string }) })], 'CreatedWebhook');
export const RotatedWebhook = t.intersection([WebhookView, t.type({ secret: WebhookSecret }), t.partial({ previousSecretExpiresAt: IsoTimestamp })], 'RotatedWebhook');
export const VerificationOutcome = t.type({ verified: t.boolean, detail: t.string, webhook: WebhookView }, 'VerificationOutcome');

export const TenantView = t.intersection([t.type({ id: TenantId, name: t.string, hasKey: t.boolean, createdAt: IsoTimestamp }), t.partial({ keyCreatedAt: IsoTimestamp, routing: RoutingGrants })], 'TenantView');
export const TenantWithKey = t.intersection([TenantView, t.type({ apiKey: t.string })], 'TenantWithKey');
export const TenantPage = t.intersection([t.type({ items: t.array(TenantView) }), t.partial({ continuationToken: t.string })], 'TenantPage');

/* Compile-time ties: a use-case answer must be a value of its codec's type. */
type Assignable<From, To> = [From] extends [To] ? true : never;
const ties: [
  Assignable<ErrorBodyType, ErrorBody>,
  Assignable<WebhookViewType, WebhookView>,
  Assignable<TenantViewType, t.TypeOf<typeof TenantView>>,
  Assignable<DispatchStateType, t.TypeOf<typeof DispatchState>>,
  Assignable<DeliveryViewType, t.TypeOf<typeof DeliveryView>>,
  Assignable<EventStatusViewType, EventStatusView>,
  Assignable<AttemptLogEntry, t.TypeOf<typeof AttemptLogEntryView>>,
  Assignable<PoisonViewType, t.TypeOf<typeof PoisonView>>,
  Assignable<RedriveReportType, t.TypeOf<typeof RedriveReport>>,
  Assignable<ResealReportType, t.TypeOf<typeof ResealReport>>,
  Assignable<PurgeReportType, t.TypeOf<typeof PurgeReport>>,
  Assignable<ErasureReportType, t.TypeOf<typeof ErasureReport>>,
] = [true, true, true, true, true, true, true, true, true, true, true, true];
export const TIED_TYPES = ties.length;

