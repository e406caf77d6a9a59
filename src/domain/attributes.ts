import { boundedRecord } from './codecs';
import { checkedString } from './strings';

/*
 * Webhook attributes: the routing data of a webhook (`name`, `serviceId`), matched against event
 * payload fields. Routing grants hold values of the same kind, so both read the limits from here.
 */

export const MAX_ATTRIBUTES = 16;
export const MAX_ATTRIBUTE_VALUE_LENGTH = 256;

/** Attribute names are payload field names (`name`, `serviceId`), so they look like identifiers. */
export const AttributeName = checkedString('an attribute name (a letter or _, then letters, digits or _, at most 64 characters)', (s) => /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(s));
export const AttributeValue = checkedString(`a string of at most ${MAX_ATTRIBUTE_VALUE_LENGTH} characters`, (s) => s.length <= MAX_ATTRIBUTE_VALUE_LENGTH);

export const Attributes = boundedRecord(AttributeName, AttributeValue, { max: MAX_ATTRIBUTES, description: `an object of at most ${MAX_ATTRIBUTES} string attributes` });
export type Attributes = Readonly<Record<string, string>>;
