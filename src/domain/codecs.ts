import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { checkedString } from './strings';

/*
 * Generic codec helpers, tied to no entity: webhooks, tenants, routing grants and request bodies all
 * build on them, so they live below every entity module (no import cycles between those).
 */

export const IsoTimestamp = checkedString('an ISO 8601 timestamp', (s) => !Number.isNaN(Date.parse(s)));

export const boundedArray = <C extends t.Mixed>(item: C, options: { min: number; max: number; description: string }) =>
  t.refinement(t.array(item), (a) => a.length >= options.min && a.length <= options.max, options.description);

/**
 * A string-keyed record whose keys are checked (io-ts `t.record` silently drops keys its domain
 * refuses, which would turn a forbidden header into a quiet no-op).
 */
export const checkedRecord = <V extends t.Mixed>(key: t.Decoder<unknown, string>, value: V): t.Type<Record<string, t.TypeOf<V>>, Record<string, t.OutputOf<V>>, unknown> =>
  new t.Type<Record<string, t.TypeOf<V>>, Record<string, t.OutputOf<V>>, unknown>(
    `an object of ${value.name}`,
    (u): u is Record<string, t.TypeOf<V>> => t.UnknownRecord.is(u) && Object.entries(u).every(([k, v]) => E.isRight(key.decode(k)) && value.is(v)),
    (u, c) => {
      if (!t.UnknownRecord.is(u)) return t.failure(u, c);
      const errors: t.ValidationError[] = [];
      const result: Record<string, t.TypeOf<V>> = {};
      for (const [k, v] of Object.entries(u)) {
        const keyResult = key.validate(k, [...c, { key: k, type: key, actual: k }]);
        if (E.isLeft(keyResult)) {
          errors.push(...keyResult.left);
          continue;
        }
        const valueResult = value.validate(v, [...c, { key: k, type: value, actual: v }]);
        if (E.isLeft(valueResult)) errors.push(...valueResult.left);
        else result[k] = valueResult.right;
      }
      return errors.length > 0 ? t.failures(errors) : t.success(result);
    },
    (a) => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, value.encode(v)])),
  );

export const boundedRecord = <V extends t.Mixed>(key: t.Decoder<unknown, string>, value: V, options: { max: number; description: string }) =>
  t.refinement(checkedRecord(key, value), (r) => Object.keys(r).length <= options.max, options.description);

/** Fails on fields a codec does not name, so a typo (`"disable": true`) is an error, not a no-op. */
export const withoutExtraFields = <C extends t.Mixed>(codec: C, fields: readonly string[], name: string): t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> =>
  new t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown>(
    name,
    codec.is,
    (u, c) => {
      const validated = codec.validate(u, [...c, { key: '', type: codec, actual: u }]);
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return validated;
      const record = u as Record<string, unknown>;
      const extra: t.Errors = Object.keys(record)
        .filter((k) => !fields.includes(k))
        .map((k) => ({ value: record[k], context: [...c, { key: k, type: t.never, actual: record[k] }], message: `is not a known field (known: ${fields.join(', ')})` }));
      if (extra.length === 0) return validated;
      return t.failures(E.isLeft(validated) ? [...extra, ...validated.left] : extra);
    },
    codec.encode,
  );
