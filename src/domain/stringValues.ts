/*
 * Values spelled as strings (settings, query parameters, CLI flags), parsed one way everywhere.
 * This module imports nothing, so the local host (which is tied to nothing else in src/) may use
 * it too; the io-ts codecs built on it are in src/domain/stringCodecs.ts.
 */

/** Optional minus sign and decimal digits, nothing else (no spaces, signs, exponents or fractions). */
const INTEGER = /^-?[0-9]+$/;

/** A whole number from `min` to `max`, or undefined. Surrounding spaces are the caller's to trim. */
export const integerIn = (text: string, bounds: { readonly min: number; readonly max: number }): number | undefined => {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return n >= bounds.min && n <= bounds.max ? n : undefined;
};

/** "true" or "false", exactly. */
export const booleanOf = (text: string): boolean | undefined => (text === 'true' ? true : text === 'false' ? false : undefined);

/** A comma-separated list: items trimmed, empty items dropped ('' is the empty list). */
export const listOf = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
