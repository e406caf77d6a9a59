import * as t from 'io-ts';

/**
 * Readable messages for io-ts errors: `payload.fiscalCode: must be a fiscal code`. Values are never
 * echoed, because settings and bodies may hold secrets.
 */
const BUILTIN_DESCRIPTIONS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'a boolean',
  UnknownRecord: 'an object',
  UnknownArray: 'an array',
  null: 'null',
};

const describe = (type: t.Decoder<unknown, unknown>): string => {
  const builtin = BUILTIN_DESCRIPTIONS[type.name];
  if (builtin !== undefined) return builtin;
  if (type instanceof t.InterfaceType || type instanceof t.ExactType || type instanceof t.PartialType || type instanceof t.DictionaryType || type instanceof t.IntersectionType) return 'an object';
  if (type instanceof t.ArrayType || type instanceof t.ReadonlyArrayType) return 'an array';
  if (type instanceof t.KeyofType) return `one of ${Object.keys(type.keys as Record<string, unknown>).join(', ')}`;
  return type.name;
};

const pathOf = (context: t.Context): string =>
  context
    .slice(1)
    // Union members and intersection parts show up as numeric keys of a non-array parent: skip them.
    .filter((entry, i, all) => {
      const outer = all[i - 1]?.type ?? context[0]?.type;
      // An exact intersection (a payload with optional fields) validates its parts under its own context.
      const parent = outer instanceof t.ExactType ? (outer.type as unknown) : outer;
      return !(parent instanceof t.UnionType || parent instanceof t.IntersectionType);
    })
    .map((entry) => entry.key)
    .filter((key) => key !== '')
    .join('.');

export const formatValidationError = (error: t.ValidationError, prefix?: string): string => {
  const last = error.context[error.context.length - 1];
  const path = [prefix, pathOf(error.context)].filter((p) => p !== undefined && p !== '').join('.');
  const what = error.message ?? (last === undefined ? 'is invalid' : error.value === undefined ? `is required (${describe(last.type)})` : `must be ${describe(last.type)}`);
  return `${path === '' ? '(body)' : path}: ${what}`;
};

/** One message per distinct problem, in the order io-ts found them. */
export const formatValidationErrors = (errors: t.Errors, prefix?: string): string[] => [...new Set(errors.map((e) => formatValidationError(e, prefix)))];
