import * as t from 'io-ts';

/** A nominal type: a string that passed a codec's check. */
export type Branded<A, B extends string> = A & { readonly __brand: B };

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * False for ill-formed UTF-16 (a lone surrogate such as `\ud800`, which JSON escapes allow):
 * stored, it would break strict JSON and UTF-8 readers of every list that includes it.
 */
export const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);

export const NOT_WELL_FORMED = 'must be well-formed Unicode text (it holds a lone surrogate such as \\ud800)';

/** Succeeds with a string that is well formed and passes `check`; the message says which failed. */
const validateString =
  <A extends string>(check: (s: string) => boolean) =>
  (u: unknown, c: t.Context): t.Validation<A> => {
    if (typeof u !== 'string') return t.failure(u, c);
    if (!isWellFormed(u)) return t.failure(u, c, NOT_WELL_FORMED);
    return check(u) ? t.success(u as A) : t.failure(u, c);
  };

/**
 * A string codec with a check and a description used in error messages
 * (`payload.fiscalCode: must be a fiscal code ...`). Every one refuses ill-formed Unicode.
 */
export const refinedString = <B extends string>(description: string, check: (s: string) => boolean): t.Type<Branded<string, B>, string, unknown> =>
  new t.Type<Branded<string, B>, string, unknown>(
    description,
    (u): u is Branded<string, B> => typeof u === 'string' && isWellFormed(u) && check(u),
    validateString<Branded<string, B>>(check),
    (a) => a,
  );

/** Any well-formed string: use it instead of `t.string` for input from outside. */
export const WellFormedString = new t.Type<string, string, unknown>('a string', (u): u is string => typeof u === 'string' && isWellFormed(u), validateString<string>(() => true), (a) => a);
export type WellFormedString = t.TypeOf<typeof WellFormedString>;

export const NonEmptyString = refinedString<'NonEmptyString'>('a non-empty string', (s) => s.length > 0);
export type NonEmptyString = t.TypeOf<typeof NonEmptyString>;

export const patternString = <B extends string>(description: string, pattern: RegExp): t.Type<Branded<string, B>, string, unknown> =>
  refinedString<B>(description, (s) => pattern.test(s));

/** Like refinedString, without a brand: for record keys and values, where brands only get in the way. */
export const checkedString = (description: string, check: (s: string) => boolean): t.Type<string, string, unknown> =>
  new t.Type<string, string, unknown>(
    description,
    (u): u is string => typeof u === 'string' && isWellFormed(u) && check(u),
    validateString<string>(check),
    (a) => a,
  );

/**
 * Where in a parsed JSON value a string or an object key is ill-formed (`payload.name`, `(body)`),
 * or undefined when there is none: checked once for a whole body, including fields no codec reads.
 */
export const illFormedPath = (value: unknown, path: string[] = []): string | undefined => {
  const here = (key?: string): string => [...path, ...(key === undefined ? [] : [key])].join('.') || '(body)';
  if (typeof value === 'string') return isWellFormed(value) ? undefined : here();
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = illFormedPath(item, [...path, String(i)]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (!isWellFormed(key)) return `${here()} (a key)`;
      const found = illFormedPath(item, [...path, key]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
};
