import * as t from 'io-ts';
import { FiscalCode } from './fiscalCode';
import { NonEmptyString, patternString, refinedString, WellFormedString } from './strings';

/*
 * The payload of every event of the catalogue (DESIGN.md section 2). Payloads are exact: fields the
 * catalogue does not name are dropped at the edge, so nothing unexpected reaches a subscriber.
 */

/**
 * Opaque data a public event may carry to its subscribers (JSON text, base64: the sender's choice),
 * up to MAX_EVENT_BODY_BYTES; over 24 KB it travels by claim check (docs/delivery.md, "Large payloads").
 */
export const EventData = refinedString<'EventData'>('opaque event data (a string)', () => true);
export type EventData = t.TypeOf<typeof EventData>;

export const PingPayload = t.exact(t.intersection([t.type({ name: NonEmptyString }), t.partial({ data: EventData })]), 'PingPayload');
export type PingPayload = t.TypeOf<typeof PingPayload>;

export const ServiceSubscribedPayload = t.exact(t.intersection([t.type({ serviceId: NonEmptyString, fiscalCode: FiscalCode }), t.partial({ data: EventData })]), 'ServiceSubscribedPayload');
export type ServiceSubscribedPayload = t.TypeOf<typeof ServiceSubscribedPayload>;

/** `ping:all` carries nothing. */
export const PingAllPayload = t.exact(t.type({}), 'PingAllPayload');
export type PingAllPayload = t.TypeOf<typeof PingAllPayload>;

export const ServicePreferencesMode = t.keyof({ LEGACY: null, AUTO: null, MANUAL: null }, 'ServicePreferencesMode');
export type ServicePreferencesMode = t.TypeOf<typeof ServicePreferencesMode>;

export const ProfileCompletedPayload = t.exact(t.type({ fiscalCode: FiscalCode, servicePreferencesMode: ServicePreferencesMode }), 'ProfileCompletedPayload');
export type ProfileCompletedPayload = t.TypeOf<typeof ProfileCompletedPayload>;

export const ProfileServicePreferencesChangedPayload = t.exact(
  t.type({ fiscalCode: FiscalCode, servicePreferencesMode: ServicePreferencesMode, oldServicePreferencesMode: ServicePreferencesMode }),
  'ProfileServicePreferencesChangedPayload',
);
export type ProfileServicePreferencesChangedPayload = t.TypeOf<typeof ProfileServicePreferencesChangedPayload>;

/**
 * An event id becomes an orchestration instance id and a table key: letters, digits and `_ . : -`,
 * 1 to 128 characters (no `/ \ # ?`, which table keys refuse), and not dots alone: the Durable client
 * puts instance ids in its URLs unencoded, where `.` and `..` are path steps (`instances/..`).
 */
export const EVENT_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9_.:-]{1,128}$/;
export const EventId = patternString<'EventId'>('an event id (1-128 characters: letters, digits, _ . : -, not dots alone)', EVENT_ID_PATTERN);
export type EventId = t.TypeOf<typeof EventId>;

/** The envelope the backend posts; the payload is decoded afterwards, by the codec of its event. */
export const IncomingEventEnvelope = t.intersection([t.type({ name: WellFormedString }), t.partial({ payload: t.unknown, id: EventId })], 'IncomingEventEnvelope');
export type IncomingEventEnvelope = t.TypeOf<typeof IncomingEventEnvelope>;
