import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { PUBLIC_EVENTS } from './catalogue';
import { type AppError, forbidden } from './errors';
import { MAX_ATTRIBUTE_VALUE_LENGTH } from './attributes';
import { checkedRecord } from './codecs';
import { checkedString } from './strings';

/*
 * Routing grants (docs/tenants.md): for each routing attribute of the catalogue, the values a tenant
 * may route on. A tenant key may register a webhook only with values it holds, and a tenant-owned
 * webhook receives an event only when its tenant holds, at fan-out time, the value the event
 * matched on. Without them, a tenant naming another tenant's serviceId received its citizens' data.
 */

/** Every public event's routing attribute: a public event added to the catalogue brings its own. */
export const ROUTING_ATTRIBUTES: readonly string[] = [
  ...new Set(Object.values(PUBLIC_EVENTS).flatMap((e) => ((e as { routingAttribute?: string }).routingAttribute === undefined ? [] : [(e as { routingAttribute: string }).routingAttribute]))),
];

export const MAX_ROUTING_VALUES_PER_ATTRIBUTE = 1000;
/**
 * The grants of a tenant as stored JSON. The tenant row holds them (entities hold at most 1 MiB,
 * strings 64 KiB = 32 K UTF-16 characters, so the JSON is split over several properties).
 */
export const MAX_ROUTING_GRANTS_CHARS = 256 * 1024;

export type RoutingGrants = Readonly<Record<string, readonly string[]>>;

export const RoutingAttribute = checkedString(`a routing attribute (${ROUTING_ATTRIBUTES.join(', ')})`, (s) => ROUTING_ATTRIBUTES.includes(s));
export const RoutingValue = checkedString(`a non-empty string of at most ${MAX_ATTRIBUTE_VALUE_LENGTH} characters`, (s) => s.length >= 1 && s.length <= MAX_ATTRIBUTE_VALUE_LENGTH);
const RoutingValues = t.refinement(
  t.array(RoutingValue),
  (a) => a.length <= MAX_ROUTING_VALUES_PER_ATTRIBUTE,
  `a list of at most ${MAX_ROUTING_VALUES_PER_ATTRIBUTE} values (MAX_ROUTING_VALUES_PER_ATTRIBUTE)`,
);

/** `{"serviceId": ["svc-1"], "name": ["orders"]}`; repeats are dropped, the order is kept. */
export const RoutingGrants = new t.Type<RoutingGrants, RoutingGrants, unknown>(
  `an object from routing attributes (${ROUTING_ATTRIBUTES.join(', ')}) to lists of values`,
  (u): u is RoutingGrants => t.UnknownRecord.is(u) && Object.entries(u).every(([k, v]) => RoutingAttribute.is(k) && RoutingValues.is(v)),
  (u, c) => {
    const decoded = checkedRecord(RoutingAttribute, RoutingValues).validate(u, c);
    if (E.isLeft(decoded)) return decoded;
    const grants = Object.fromEntries(Object.entries(decoded.right).map(([k, v]) => [k, [...new Set(v)]]));
    return JSON.stringify(grants).length > MAX_ROUTING_GRANTS_CHARS
      ? t.failure(u, c, `must hold at most ${MAX_ROUTING_GRANTS_CHARS} characters of JSON (MAX_ROUTING_GRANTS_CHARS)`)
      : t.success(grants);
  },
  (a) => a,
);

export const holds = (grants: RoutingGrants | undefined, attribute: string, value: string): boolean => grants?.[attribute]?.includes(value) === true;

/** The routing values a webhook's attributes carry (empty values route nothing: events require non-empty ones). */
export const routingValuesOf = (attributes: Readonly<Record<string, string>>): { attribute: string; value: string }[] =>
  ROUTING_ATTRIBUTES.flatMap((attribute) => {
    const value = attributes[attribute];
    return value === undefined || value === '' ? [] : [{ attribute, value }];
  });

/** Right when the tenant holds every routing value of these attributes; a Forbidden naming the first it does not. */
export const checkGrants = (grants: RoutingGrants, attributes: Readonly<Record<string, string>>): E.Either<AppError, void> => {
  const missing = routingValuesOf(attributes).find(({ attribute, value }) => !holds(grants, attribute, value));
  return missing === undefined
    ? E.right(undefined)
    : E.left(
        forbidden(
          `The tenant holds no routing grant for ${missing.attribute} "${missing.value.slice(0, MAX_ATTRIBUTE_VALUE_LENGTH)}"; nothing was stored (the admin grants values with PUT /api/tenants/{id}/routing)`,
        ),
      );
};

/** Migration: the grants a tenant stored before grants existed starts with, the values its webhooks use. */
export const grantsFromAttributes = (attributeSets: readonly Readonly<Record<string, string>>[]): RoutingGrants => {
  const grants: Record<string, string[]> = {};
  for (const attributes of attributeSets)
    for (const { attribute, value } of routingValuesOf(attributes)) {
      const values = (grants[attribute] ??= []);
      if (!values.includes(value)) values.push(value);
    }
  return grants;
};
