import * as t from 'io-ts';
import { patternString } from './strings';

/** The usual pattern of an Italian fiscal code, omocodia letters included. */
export const FISCAL_CODE_PATTERN = /^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/;

export const FiscalCode = patternString<'FiscalCode'>('a fiscal code (16 characters, e.g. AAABBB00A00A000B)', FISCAL_CODE_PATTERN);
export type FiscalCode = t.TypeOf<typeof FiscalCode>;
