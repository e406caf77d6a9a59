import * as t from 'io-ts';

/** A nominal type: a string that passed a codec's check. */
export type Branded<A, B extends string> = A & { readonly __brand: B };

/**
 * A string codec with a check and a description used in error messages
 * (`payload.fiscalCode: must be a fiscal code ...`).
 */
export const refinedString = <B extends string>(description: string, check: (s: string) => boolean): t.Type<Branded<string, B>, string, unknown> =>
  new t.Type<Branded<string, B>, string, unknown>(
    description,
    (u): u is Branded<string, B> => typeof u === 'string' && check(u),
    (u, c) => (typeof u === 'string' && check(u) ? t.success(u as Branded<string, B>) : t.failure(u, c)),
    (a) => a,
  );

export const NonEmptyString = refinedString<'NonEmptyString'>('a non-empty string', (s) => s.length > 0);
export type NonEmptyString = t.TypeOf<typeof NonEmptyString>;

export const patternString = <B extends string>(description: string, pattern: RegExp): t.Type<Branded<string, B>, string, unknown> =>
  refinedString<B>(description, (s) => pattern.test(s));

/** Like refinedString, without a brand: for record keys and values, where brands only get in the way. */
export const checkedString = (description: string, check: (s: string) => boolean): t.Type<string, string, unknown> =>
  new t.Type<string, string, unknown>(
    description,
    (u): u is string => typeof u === 'string' && check(u),
    (u, c) => (typeof u === 'string' && check(u) ? t.success(u) : t.failure(u, c)),
    (a) => a,
  );
