import * as t from 'io-ts';

/*
 * JSON Schema (2020-12, as OpenAPI 3.1 uses it) generated from io-ts codecs, so the published
 * contract and the decoders are one thing. io-ts combinators carry their structure at run time;
 * hand-written codecs (`new t.Type(...)`: patterns, checked records) do not, so each of those has an
 * annotation, looked up by the codec's name. A codec with neither throws: a new codec cannot reach
 * the document undescribed.
 */

export type JsonSchema = { [keyword: string]: unknown };

/** A fixed schema, or one built from the schema of the codec a refinement wraps. */
export type Annotation = JsonSchema | ((inner: JsonSchema) => JsonSchema);
export type Annotations = Readonly<Record<string, Annotation>>;

export class MissingAnnotationError extends Error {
  constructor(readonly codecName: string) {
    super(`No JSON schema for the codec "${codecName}": add an annotation in src/openapi/annotations.ts`);
    this.name = 'MissingAnnotationError';
  }
}

const PRIMITIVES: Record<string, JsonSchema> = {
  StringType: { type: 'string' },
  NumberType: { type: 'number' },
  BooleanType: { type: 'boolean' },
  NullType: { type: 'null' },
  UnknownType: {},
  AnyDictionaryType: { type: 'object' },
  AnyArrayType: { type: 'array' },
};

type Tagged = t.Mixed & { readonly _tag?: string };

const objectOf = (props: t.Props, required: boolean, walk: (c: t.Mixed) => JsonSchema): JsonSchema => {
  const names = Object.keys(props);
  return {
    type: 'object',
    properties: Object.fromEntries(names.map((n) => [n, walk(props[n] as t.Mixed)])),
    ...(required && names.length > 0 ? { required: names } : {}),
  };
};

/** Merges the object parts of an intersection into one object schema (what io-ts decodes). */
const mergeObjects = (parts: readonly JsonSchema[]): JsonSchema | undefined => {
  if (!parts.every((p) => p.type === 'object' && p.properties !== undefined)) return undefined;
  const required = parts.flatMap((p) => (p.required as string[] | undefined) ?? []);
  return { type: 'object', properties: Object.assign({}, ...parts.map((p) => p.properties)), ...(required.length > 0 ? { required } : {}) };
};

export const toJsonSchema = (codec: t.Decoder<unknown, unknown>, annotations: Annotations): JsonSchema => {
  const walk = (c: t.Mixed): JsonSchema => {
    const tagged = c as Tagged;
    const annotation = annotations[c.name];
    if (annotation !== undefined) {
      if (typeof annotation !== 'function') return annotation;
      const inner = tagged._tag === 'RefinementType' ? walk((c as unknown as t.RefinementC<t.Mixed>).type) : {};
      return annotation(inner);
    }
    switch (tagged._tag) {
      case 'InterfaceType':
        return objectOf((c as unknown as t.InterfaceType<t.Props>).props, true, walk);
      case 'PartialType':
        return objectOf((c as unknown as t.PartialType<t.Props>).props, false, walk);
      case 'ExactType':
      case 'StrictType':
        // Exact codecs drop unknown fields rather than refuse them: the schema stays open.
        return walk((c as unknown as t.ExactC<t.HasProps>).type);
      case 'ReadonlyType':
        return walk((c as unknown as t.ReadonlyC<t.Mixed>).type);
      case 'IntersectionType': {
        const parts = (c as unknown as t.IntersectionC<[t.Mixed, t.Mixed]>).types.map(walk);
        return mergeObjects(parts) ?? { allOf: parts };
      }
      case 'UnionType':
        return { anyOf: (c as unknown as t.UnionC<[t.Mixed, t.Mixed]>).types.map(walk) };
      case 'LiteralType':
        return { const: (c as unknown as t.LiteralC<string | number | boolean>).value };
      case 'KeyofType':
        return { type: 'string', enum: Object.keys((c as unknown as t.KeyofC<Record<string, unknown>>).keys) };
      case 'ArrayType':
      case 'ReadonlyArrayType':
        return { type: 'array', items: walk((c as unknown as t.ArrayC<t.Mixed>).type) };
      case 'DictionaryType': {
        const dict = c as unknown as t.RecordC<t.Mixed, t.Mixed>;
        return { type: 'object', propertyNames: walk(dict.domain), additionalProperties: walk(dict.codomain) };
      }
      case 'RefinementType':
        // A refinement without an annotation is documented by its base: the check stays a description.
        return { ...walk((c as unknown as t.RefinementC<t.Mixed>).type), description: c.name };
      default: {
        const primitive = tagged._tag === undefined ? undefined : PRIMITIVES[tagged._tag];
        if (primitive !== undefined) return primitive;
        throw new MissingAnnotationError(c.name);
      }
    }
  };
  return walk(codec as t.Mixed);
};
