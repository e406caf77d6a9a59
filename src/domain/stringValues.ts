/*
 * Values spelled as strings (settings, query parameters, CLI flags), parsed one way everywhere.
 * This module imports nothing, so the local host (which is tied to nothing else in src/) may use
 * it too; the io-ts codecs built on it are in src/domain/stringCodecs.ts.
 */

/** Optional minus sign and decimal digits, nothing else (no spaces, signs, exponents or fractions). */
const INTEGER = /^-?[0-9]+$/;

/** Decimal digits without a sign or leading zeros: how a number is written in a URL or on a command line. */
const CANONICAL = /^(?:0|[1-9][0-9]*)$/;

const within = (n: number, bounds: { readonly min: number; readonly max: number }): number | undefined => (n >= bounds.min && n <= bounds.max && !Object.is(n, -0) ? n : undefined);

/** A whole number from `min` to `max`, or undefined (settings: leading zeros and a minus sign are read). Spaces are the caller's to trim. */
export const integerIn = (text: string, bounds: { readonly min: number; readonly max: number }): number | undefined => (INTEGER.test(text) ? within(Number(text), bounds) : undefined);

/**
 * A whole number from `min` (at least 0) to `max` written plainly: no sign, spaces or leading zeros.
 * For query parameters, CLI flags and the local host's limits (the strictest of the parsers these replaced).
 */
export const plainIntegerIn = (text: string, bounds: { readonly min: number; readonly max: number }): number | undefined => (CANONICAL.test(text) ? within(Number(text), bounds) : undefined);

/** "true" or "false", exactly. */
export const booleanOf = (text: string): boolean | undefined => (text === 'true' ? true : text === 'false' ? false : undefined);

/** A comma-separated list: items trimmed, empty items dropped ('' is the empty list). */
export const listOf = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
