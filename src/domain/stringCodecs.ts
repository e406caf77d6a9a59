import * as t from 'io-ts';
import { booleanOf, integerIn, plainIntegerIn } from './stringValues';

/*
 * The io-ts codecs of string-spelled values (src/domain/stringValues.ts parses them): settings,
 * query parameters and CLI flags all decode integers, booleans and limits through these.
 */

/** A whole number in a range, given as a string (settings are strings; surrounding spaces allowed). */
export const IntegerFromString = (bounds: { readonly min: number; readonly max: number }): t.Type<number, string, unknown> =>
  new t.Type<number, string, unknown>(
    `an integer from ${bounds.min} to ${bounds.max}`,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= bounds.min && u <= bounds.max,
    (u, c) => {
      const n = typeof u === 'string' ? integerIn(u.trim(), bounds) : undefined;
      return n === undefined ? t.failure(u, c) : t.success(n);
    },
    String,
  );

export const BooleanFromString = new t.Type<boolean, string, unknown>(
  '"true" or "false"',
  (u): u is boolean => typeof u === 'boolean',
  (u, c) => {
    const b = typeof u === 'string' ? booleanOf(u) : undefined;
    return b === undefined ? t.failure(u, c) : t.success(b);
  },
  String,
);

/** An integer in a query (`?sinceHours=`): plain digits (no sign, spaces or leading zeros) within the bounds; `fallback` when absent. */
export const IntegerParam = (bounds: { readonly min: number; readonly max: number; readonly fallback: number }): t.Type<number, string, unknown> =>
  new t.Type<number, string, unknown>(
    `an integer from ${bounds.min} to ${bounds.max}`,
    (u): u is number => typeof u === 'number',
    (u, c) => {
      if (u === null || u === undefined) return t.success(bounds.fallback);
      const n = typeof u === 'string' ? plainIntegerIn(u, bounds) : undefined;
      return n === undefined ? t.failure(u, c) : t.success(n);
    },
    String,
  );

/** A page size in a query (`?limit=`): 1 to `max`, `fallback` when absent. */
export const LimitParam = (bounds: { readonly max: number; readonly fallback: number }): t.Type<number, string, unknown> => IntegerParam({ min: 1, ...bounds });
