import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { PingAllPayload, PingPayload, ProfileCompletedPayload, ProfileServicePreferencesChangedPayload, ServiceSubscribedPayload } from './events';

/*
 * The event catalogue as data (DESIGN.md section 2). Adding a public event is one entry in
 * PUBLIC_EVENTS; adding an incoming event or a mapping is one entry in CATALOGUE.
 */

/**
 * Public events: delivered to webhooks, with the webhook attributes each one requires. The routing
 * attribute (one of the required ones) keys the registry's index: an event whose payload names its
 * value reads only the webhooks with that value (docs/registry-storage.md).
 */
export const PUBLIC_EVENTS = {
  ping: { payload: PingPayload, requiredAttributes: ['name'], routingAttribute: 'name', personalFields: [] },
  'service:subscribed': { payload: ServiceSubscribedPayload, requiredAttributes: ['serviceId'], routingAttribute: 'serviceId', personalFields: ['fiscalCode'] },
} as const satisfies Record<string, { payload: t.Decoder<unknown, Record<string, string>>; requiredAttributes: readonly string[]; routingAttribute?: string; personalFields: readonly string[] }>;

export type PublicEventName = keyof typeof PUBLIC_EVENTS;

/** The attribute a public event's subscribers are indexed by, if it has one. */
export const routingAttributeOf = (name: string): string | undefined =>
  Object.prototype.hasOwnProperty.call(PUBLIC_EVENTS, name) ? (PUBLIC_EVENTS[name as PublicEventName] as { routingAttribute?: string }).routingAttribute : undefined;
export const PUBLIC_EVENT_NAMES = Object.keys(PUBLIC_EVENTS) as PublicEventName[];
export const PublicEventName = t.keyof(Object.fromEntries(PUBLIC_EVENT_NAMES.map((n) => [n, null])) as Record<PublicEventName, null>, `a public event name (${PUBLIC_EVENT_NAMES.join(', ')})`);

/**
 * What one incoming event asks for: a public event, sent to the webhooks it matches. The payload
 * for a webhook is `basePayload` plus the fields named in `fromAttributes`, taken from the
 * webhook's attributes (that is how `ping:all` becomes one `ping` per named webhook).
 */
export type DeliveryPlan = {
  readonly publicEventName: PublicEventName;
  readonly basePayload: Readonly<Record<string, string>>;
  readonly fromAttributes: readonly string[];
};

type CatalogueEntry<P> = {
  readonly payload: t.Decoder<unknown, P>;
  /** True for the events subscribers receive; the others are only mapped. */
  readonly public: boolean;
  readonly plan: (payload: P) => readonly DeliveryPlan[];
  /** Payload fields holding a person's fiscal code: indexed for erasure, never logged (docs/privacy.md). */
  readonly personalFields: readonly string[];
};

/** A public event posted directly: delivered as it is to the webhooks it matches. */
const publicEntry = <N extends PublicEventName>(name: N): CatalogueEntry<Record<string, string>> => ({
  payload: PUBLIC_EVENTS[name].payload as t.Decoder<unknown, Record<string, string>>,
  public: true,
  plan: (payload) => [{ publicEventName: name, basePayload: payload, fromAttributes: [] }],
  personalFields: PUBLIC_EVENTS[name].personalFields,
});

const whenAuto = (mode: string, fiscalCode: string): readonly DeliveryPlan[] =>
  mode === 'AUTO' ? [{ publicEventName: 'service:subscribed', basePayload: { fiscalCode }, fromAttributes: ['serviceId'] }] : [];

const entry = <P>(e: CatalogueEntry<P>): CatalogueEntry<P> => e;

export const CATALOGUE = {
  ping: publicEntry('ping'),
  'service:subscribed': publicEntry('service:subscribed'),
  'ping:all': entry<PingAllPayload>({
    payload: PingAllPayload,
    public: false,
    plan: () => [{ publicEventName: 'ping', basePayload: {}, fromAttributes: ['name'] }],
    personalFields: [],
  }),
  'profile:completed': entry<ProfileCompletedPayload>({
    payload: ProfileCompletedPayload,
    public: false,
    plan: (p) => whenAuto(p.servicePreferencesMode, p.fiscalCode),
    personalFields: ['fiscalCode'],
  }),
  'profile:service-preferences-changed': entry<ProfileServicePreferencesChangedPayload>({
    payload: ProfileServicePreferencesChangedPayload,
    public: false,
    plan: (p) => whenAuto(p.servicePreferencesMode, p.fiscalCode),
    personalFields: ['fiscalCode'],
  }),
} as const;

export type EventName = keyof typeof CATALOGUE;
export const EVENT_NAMES = Object.keys(CATALOGUE) as EventName[];

export const isEventName = (name: string): name is EventName => Object.prototype.hasOwnProperty.call(CATALOGUE, name);

/** An event whose payload passed the codec of its catalogue entry. */
export type KnownEvent = { readonly name: EventName; readonly payload: Readonly<Record<string, unknown>> };

export type PayloadDecodeResult = E.Either<t.Errors, KnownEvent>;

/** Decodes a payload with the codec of its event; a missing payload counts as `{}`. */
export const decodePayload = (name: EventName, payload: unknown): PayloadDecodeResult =>
  pipe(
    (CATALOGUE[name].payload as t.Decoder<unknown, Record<string, unknown>>).decode(payload ?? {}),
    E.map((decoded) => ({ name, payload: decoded })),
  );

/** The deliveries an event asks for; the payload must have been decoded by `decodePayload`. */
export const planForEvent = (event: KnownEvent): readonly DeliveryPlan[] => (CATALOGUE[event.name].plan as (p: Readonly<Record<string, unknown>>) => readonly DeliveryPlan[])(event.payload);

/** The personal-data fields of an incoming event (catalogue data). */
export const personalFieldsOf = (name: EventName): readonly string[] => CATALOGUE[name].personalFields;

/** Whether a public event's delivered payload carries personal data (its deliveries check the event still exists). */
export const publicEventCarriesPersonalData = (name: string): boolean => Object.prototype.hasOwnProperty.call(PUBLIC_EVENTS, name) && PUBLIC_EVENTS[name as PublicEventName].personalFields.length > 0;
