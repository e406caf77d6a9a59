import * as t from 'io-ts';

/** A nominal type: a string that passed a codec's check. */
export type Branded<A, B extends string> = A & { readonly __brand: B };

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * False for ill-formed UTF-16 (a lone surrogate such as `\ud800`, which JSON escapes allow):
 * stored, it would break strict JSON and UTF-8 readers of every list that includes it.
 */
// Any surrogate at all: most text has none, and this test is much cheaper than the one above.
const SURROGATE = /[\uD800-\uDFFF]/;

export const isWellFormed = (s: string): boolean => !SURROGATE.test(s) || !LONE_SURROGATE.test(s);

const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === Object.prototype || proto === null;
};

/** Whether `repairedText` would change anything: a walk that copies nothing. */
const needsRepair = (value: unknown): boolean => {
  if (typeof value === 'string') return !isWellFormed(value);
  if (Array.isArray(value)) return value.some(needsRepair);
  if (isPlainObject(value)) {
    for (const key in value) if (!isWellFormed(key) || needsRepair(value[key])) return true;
  }
  return false;
};

const repairedCopy = (value: unknown): unknown => {
  if (typeof value === 'string') return value.replace(LONE_SURROGATES, '\uFFFD');
  if (Array.isArray(value)) return value.map(repairedCopy);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [repairedCopy(k) as string, repairedCopy(v)]));
  return value;
};

/**
 * A value read from storage with each lone surrogate (in strings and keys) replaced by U+FFFD: rows
 * written before text had to be well formed stay readable (one planted value must not fail a whole
 * list), and what is served from them is well formed. A value that needs no repair comes back as it
 * is (the common case, on the delivery path for every row read); one that does, as a copy. Rows are
 * shallow: recursion is fine.
 */
export const repairedText = (value: unknown): unknown => (needsRepair(value) ? repairedCopy(value) : value);

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
export const WellFormedString = new t.Type<string, string, unknown>(
  'a string',
  (u): u is string => typeof u === 'string' && isWellFormed(u),
  validateString<string>(() => true),
  (a) => a,
);
export type WellFormedString = t.TypeOf<typeof WellFormedString>;

export const NonEmptyString = refinedString<'NonEmptyString'>('a non-empty string', (s) => s.length > 0);
export type NonEmptyString = t.TypeOf<typeof NonEmptyString>;

export const patternString = <B extends string>(description: string, pattern: RegExp): t.Type<Branded<string, B>, string, unknown> => refinedString<B>(description, (s) => pattern.test(s));

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
 * Iterative, so a deeply nested body cannot overflow the stack.
 */
export const illFormedPath = (value: unknown): string | undefined => {
  // Each entry links to its parent, so a deep body costs one entry per value, not a path each.
  type Entry = { readonly value: unknown; readonly key?: string; readonly parent?: Entry };
  const name = (entry: Entry): string => {
    const keys: string[] = [];
    for (let e: Entry | undefined = entry; e?.key !== undefined; e = e.parent) keys.unshift(e.key);
    return keys.join('.') || '(body)';
  };
  const pending: Entry[] = [{ value }];
  for (let entry = pending.pop(); entry !== undefined; entry = pending.pop()) {
    const here = entry.value;
    if (typeof here === 'string') {
      if (!isWellFormed(here)) return name(entry);
    } else if (Array.isArray(here)) {
      for (let i = here.length - 1; i >= 0; i--) pending.push({ value: here[i], key: String(i), parent: entry });
    } else if (typeof here === 'object' && here !== null) {
      const entries = Object.entries(here);
      if (entries.some(([key]) => !isWellFormed(key))) return `${name(entry)} (a key)`;
      for (const [key, item] of entries.reverse()) pending.push({ value: item, key, parent: entry });
    }
  }
  return undefined;
};
