import { createHmac } from 'node:crypto';
import { type KnownEvent, personalFieldsOf } from './catalogue';

/*
 * Personal data (docs/privacy.md): which values of an event identify a person, the keyed hash that
 * stands for them in storage keys, and the scrubber every log line goes through.
 */

/** A subject's key in the erasure index: HMAC-SHA256(SUBJECT_HASH_KEY, fiscal code), hex. The code itself is never a key. */
export const subjectHash = (options: { key: string; subject: string }): string => createHmac('sha256', options.key).update(options.subject, 'utf8').digest('hex');

/** The distinct values of an event's personal fields (catalogue data), e.g. its fiscal code. */
export const subjectsOf = (event: KnownEvent): string[] => [
  ...new Set(personalFieldsOf(event.name).flatMap((field) => (typeof event.payload[field] === 'string' && event.payload[field] !== '' ? [event.payload[field] as string] : []))),
];

/** The retention index's hour bucket of a time: `YYYYMMDDHH` (UTC), which sorts as time does. */
export const hourBucketOf = (iso: string): string => iso.slice(0, 13).replace(/[-T:]/g, '');

/** The cutoff of a retention of `days` days at `now`. */
export const retentionCutoff = (options: { now: Date; days: number }): Date => new Date(options.now.getTime() - options.days * 86_400_000);

/**
 * Anything shaped like a fiscal code, anywhere in a text (the pattern of domain/fiscalCode.ts, unanchored,
 * case-insensitive), or, tried first at each position, a whole ULID: a token of exactly 26 Crockford base32
 * characters, the shape of every id the dispatcher prints. About one ULID in 470 holds 16 characters
 * shaped like a fiscal code; redacting them made `ping-all --json` print an id no command could follow.
 */
const ULID_OR_FISCAL_CODE = /(?<![0-9A-Z])[0-7][0-9A-HJKMNP-TV-Z]{25}(?![0-9A-Z])|[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]/gi;

export const REDACTED_FISCAL_CODE = '[fiscal code]';

/** Replaces every fiscal code in a text, ULIDs kept whole: log lines, CLI output and error messages pass through it. */
export const redactFiscalCodes = (text: string): string => text.replace(ULID_OR_FISCAL_CODE, (found) => (found.length === 16 ? REDACTED_FISCAL_CODE : found));
