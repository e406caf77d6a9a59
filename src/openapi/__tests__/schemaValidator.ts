import type { JsonSchema } from '../jsonSchema';

/*
 * A JSON Schema validator for the keywords the generated document uses (the installed ajv is 6,
 * which does not read 2020-12). An unknown keyword throws, so a schema is never half-checked.
 * `closed` treats every object schema as `additionalProperties: false`: answers of the real app
 * must not carry fields the document does not name.
 */

const IGNORED = new Set(['description', 'examples', 'title']);

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

export const validate = (options: { schema: JsonSchema; value: unknown; root: JsonSchema; closed?: boolean }): string[] => {
  const errors: string[] = [];
  const check = (schema: JsonSchema, value: unknown, at: string): void => {
    for (const [keyword, arg] of Object.entries(schema)) {
      switch (keyword) {
        case '$ref': {
          const name = /^#\/components\/schemas\/(.+)$/.exec(String(arg))?.[1];
          const target = name === undefined ? undefined : ((options.root.components as JsonSchema).schemas as Record<string, JsonSchema>)[name];
          if (target === undefined) throw new Error(`unresolvable $ref ${String(arg)}`);
          check(target, value, at);
          break;
        }
        case 'type': {
          const actual = typeOf(value);
          const ok = arg === 'integer' ? Number.isInteger(value) : actual === arg;
          if (!ok) errors.push(`${at}: is ${actual}, not ${String(arg)}`);
          break;
        }
        case 'const':
          if (value !== arg) errors.push(`${at}: is not ${JSON.stringify(arg)}`);
          break;
        case 'enum':
          if (!(arg as unknown[]).includes(value)) errors.push(`${at}: is not one of ${JSON.stringify(arg)}`);
          break;
        case 'pattern':
          if (typeof value === 'string' && !new RegExp(String(arg), 'u').test(value)) errors.push(`${at}: does not match ${String(arg)}`);
          break;
        case 'minLength':
          if (typeof value === 'string' && value.length < Number(arg)) errors.push(`${at}: shorter than ${String(arg)}`);
          break;
        case 'maxLength':
          if (typeof value === 'string' && value.length > Number(arg)) errors.push(`${at}: longer than ${String(arg)}`);
          break;
        case 'format':
          if (typeof value === 'string' && arg === 'date-time' && Number.isNaN(Date.parse(value))) errors.push(`${at}: not a date-time`);
          if (typeof value === 'string' && arg === 'uri' && !URL.canParse(value)) errors.push(`${at}: not a URI`);
          break;
        case 'minItems':
          if (Array.isArray(value) && value.length < Number(arg)) errors.push(`${at}: fewer than ${String(arg)} items`);
          break;
        case 'maxItems':
          if (Array.isArray(value) && value.length > Number(arg)) errors.push(`${at}: more than ${String(arg)} items`);
          break;
        case 'items':
          if (Array.isArray(value)) value.forEach((v, i) => check(arg as JsonSchema, v, `${at}[${i}]`));
          break;
        case 'maxProperties':
          if (typeOf(value) === 'object' && Object.keys(value as object).length > Number(arg)) errors.push(`${at}: more than ${String(arg)} properties`);
          break;
        case 'required':
          if (typeOf(value) === 'object') for (const k of arg as string[]) if (!(k in (value as object))) errors.push(`${at}.${k}: is required`);
          break;
        case 'properties':
          if (typeOf(value) === 'object') {
            for (const [k, s] of Object.entries(arg as Record<string, JsonSchema>)) {
              const v = (value as Record<string, unknown>)[k];
              if (v !== undefined) check(s, v, `${at}.${k}`);
            }
          }
          break;
        case 'propertyNames':
          if (typeOf(value) === 'object') for (const k of Object.keys(value as object)) check(arg as JsonSchema, k, `${at}{${k}}`);
          break;
        case 'additionalProperties':
          if (typeOf(value) === 'object') {
            const known = Object.keys((schema.properties as object | undefined) ?? {});
            for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
              if (known.includes(k)) continue;
              if (arg === false) errors.push(`${at}.${k}: is not allowed`);
              else check(arg as JsonSchema, v, `${at}.${k}`);
            }
          }
          break;
        case 'anyOf': {
          const branches = (arg as JsonSchema[]).map((s) => validate({ ...options, schema: s, value }).map((e) => e.replace(/^\$/, at)));
          if (!branches.some((b) => b.length === 0)) errors.push(`${at}: matches no alternative (${branches.map((b) => b[0]).join(' / ')})`);
          break;
        }
        case 'allOf':
          for (const s of arg as JsonSchema[]) check(s, value, at);
          break;
        default:
          if (!IGNORED.has(keyword)) throw new Error(`the validator does not know the keyword "${keyword}"`);
      }
    }
    if (options.closed === true && schema.properties !== undefined && schema.additionalProperties === undefined && typeOf(value) === 'object') {
      const known = Object.keys(schema.properties as object);
      for (const k of Object.keys(value as object)) if (!known.includes(k)) errors.push(`${at}.${k}: is not in the document`);
    }
  };
  check(options.schema, options.value, '$');
  return errors;
};
