import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { EventId } from '../../domain/events';
import { FiscalCode } from '../../domain/fiscalCode';
import { DeliveryId } from '../../domain/delivery';
import { AttributeName } from '../../domain/attributes';
import { HeaderName, HeaderValue, Subscription, WebhookId, WebhookInput, WebhookPatch, WebhookSecret } from '../../domain/webhook';
import { TenantInput } from '../../domain/tenant';
import { RotateSecretInput } from '../../usecases/rotateWebhookSecret';
import { ANNOTATIONS } from '../annotations';
import { codecOf, type ComponentName, OPERATIONS, openApiDocument } from '../document';
import { type JsonSchema, MissingAnnotationError, toJsonSchema } from '../jsonSchema';
import { validate } from './schemaValidator';

const doc = openApiDocument();
const schemas = (doc.components as { schemas: Record<ComponentName, JsonSchema> }).schemas;
const schemaOk = (name: ComponentName, value: unknown, closed = false): string[] => validate({ schema: { $ref: `#/components/schemas/${name}` }, value, root: doc, closed });

type Example = { where: string; schema: ComponentName; decode: (u: unknown) => E.Either<unknown, unknown>; value: unknown };

const requestExamples: Example[] = OPERATIONS.flatMap((op) =>
  op.request === undefined ? [] : Object.entries(op.request.examples).map(([k, value]) => ({ where: `${op.operationId} request ${k}`, schema: op.request!.schema, decode: op.request!.decode, value })),
);
const responseExamples: (Example & { status: string })[] = OPERATIONS.flatMap((op) =>
  Object.entries(op.responses).flatMap(([status, r]) =>
    'schema' in r
      ? Object.entries(r.examples).map(([k, value]) => ({ where: `${op.operationId} ${status} ${k}`, status, schema: r.schema, decode: (u: unknown) => codecOf(r.schema).decode(u), value }))
      : [],
  ),
);
const allExamples: Example[] = [...requestExamples, ...responseExamples];

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with bearer schemes (ingest, admin, tenant), and every operation says which key it needs', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect((doc.components as JsonSchema).securitySchemes).toEqual({
      ingestKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      adminKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      tenantKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    const paths = doc.paths as Record<string, Record<string, JsonSchema>>;
    const expected = { none: [], ingest: [{ ingestKey: [] }], admin: [{ adminKey: [] }], registry: [{ adminKey: [] }, { tenantKey: [] }] };
    for (const op of OPERATIONS) expect(paths[op.path]?.[op.method]?.security).toEqual(expected[op.security]);
    expect(paths['/api/events']?.post?.security).toEqual([{ ingestKey: [] }]);
    expect(paths['/api/webhooks']?.get?.security).toEqual([{ adminKey: [] }, { tenantKey: [] }]);
    expect(paths['/api/tenants']?.post?.security).toEqual([{ adminKey: [] }]);
  });

  it('has unique operation ids, and every referenced schema exists', () => {
    expect(new Set(OPERATIONS.map((o) => o.operationId)).size).toBe(OPERATIONS.length);
    const refs = JSON.stringify(doc).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? [];
    for (const r of refs) expect(Object.keys(schemas)).toContain(r.split('/').pop());
  });

  it('lists the requests and answers it claims (at least one example each)', () => {
    expect(requestExamples.length).toBeGreaterThanOrEqual(6);
    expect(responseExamples.length).toBeGreaterThanOrEqual(40);
  });

  describe.each(allExamples.map((e) => [e.where, e] as const))('example %s', (_where, example) => {
    it('is decoded by the codec the handler uses, and is valid against the generated schema', () => {
      expect(example.decode(example.value)).toEqual(expect.objectContaining({ _tag: 'Right' }));
      expect(schemaOk(example.schema, example.value)).toEqual([]);
    });

    it('codec and schema agree when each field is removed, or an unknown one is added', () => {
      if (typeof example.value !== 'object' || example.value === null) return;
      const record = example.value as Record<string, unknown>;
      const variants = [...Object.keys(record).map((k) => Object.fromEntries(Object.entries(record).filter(([key]) => key !== k))), { ...record, zzUnknownField: 1 }];
      for (const variant of variants) {
        const codecAccepts = E.isRight(example.decode(variant));
        const schemaAccepts = schemaOk(example.schema, variant).length === 0;
        expect({ variant, codecAccepts }).toEqual({ variant, codecAccepts: schemaAccepts });
      }
    });
  });

  it('error examples carry the kind of their status', () => {
    const KIND: Record<string, string> = { 400: 'Invalid', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 413: 'TooLarge', 503: 'Transient' };
    const errors = responseExamples.filter((e) => e.schema === 'ErrorBody');
    expect(errors.length).toBeGreaterThan(10);
    for (const e of errors) expect({ where: e.where, kind: (e.value as { error: string }).error }).toEqual({ where: e.where, kind: KIND[e.status] });
  });

  it('answers are described closed: an answer with an undocumented field fails the check', () => {
    const view = (responseExamples.find((e) => e.schema === 'EventStatusView') as Example).value as Record<string, unknown>;
    expect(schemaOk('EventStatusView', view, true)).toEqual([]);
    expect(schemaOk('EventStatusView', { ...view, secret: 'x' }, true)).toEqual(['$.secret: is not in the document']);
  });
});

describe('schemas generated from codecs', () => {
  it('follow the codec structure: required and optional fields, literals, unions', () => {
    expect(toJsonSchema(t.intersection([t.type({ a: t.string }), t.partial({ b: t.union([t.literal('x'), t.null]) })]), {})).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { anyOf: [{ const: 'x' }, { type: 'null' }] } },
      required: ['a'],
    });
    expect(toJsonSchema(t.record(t.string, t.array(t.number)), {})).toEqual({ type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'array', items: { type: 'number' } } });
  });

  it('refuse a hand-written codec without an annotation, naming it', () => {
    const opaque = new t.Type<string>('a mystery string', t.string.is, t.string.validate, t.identity);
    expect(() => toJsonSchema(t.type({ x: opaque }), {})).toThrow(new MissingAnnotationError('a mystery string'));
  });

  it('describe the bodies that refuse unknown fields with exactly the fields their codecs know', () => {
    for (const [codec, name] of [
      [WebhookInput, 'WebhookInput'],
      [WebhookPatch, 'WebhookPatch'],
      [TenantInput, 'TenantInput'],
      [RotateSecretInput, 'RotateSecretInput'],
    ] as const) {
      const decoded = codec.decode({ zzUnknownField: 1 });
      const message = E.isLeft(decoded) ? (decoded.left.map((e) => e.message).find((m) => m?.startsWith('is not a known field')) ?? '') : '';
      const known = /\(known: (.*)\)/.exec(message)?.[1]?.split(', ');
      expect(known).toBeDefined();
      expect(Object.keys(schemas[name].properties as object).sort()).toEqual([...(known ?? [])].sort());
      expect(schemas[name].additionalProperties).toBe(false);
    }
  });
});

describe('annotations agree with their codecs', () => {
  const cases: [t.Decoder<unknown, unknown>, string[], string[]][] = [
    [AttributeName, ['name', 'serviceId', '_x', 'a'.repeat(64)], ['', '1a', 'a-b', 'a'.repeat(65), 'é']],
    [HeaderName, ['X-Tenant', 'Authorization', "a!#$%&'*+.^_`|~"], ['', 'a b', 'x:y', 'a'.repeat(65)]],
    [HeaderValue, ['', 'Bearer x', '\tv', 'x'.repeat(1024)], ['a\nb', 'é', 'x'.repeat(1025)]],
    [WebhookId, ['01J0Z7X3V1F6Q8R2T4W6Y8A0C3'], ['01J0Z7X3V1F6Q8R2T4W6Y8A0CI', '01J0Z7X3V1F6Q8R2T4W6Y8A0C', 'x']],
    [WebhookSecret, ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6nh4Yh4Kx8o='], ['whsec_short', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6nh4Yh4Kx8o=']],
    [DeliveryId, ['msg_3f1c9a0e5b7d4c2a8e6f1b3d5a7c9e0f'], ['msg_3F1C9A0E5B7D4C2A8E6F1B3D5A7C9E0F', 'msg_', '']],
    [EventId, ['a', 'evt-1.2:3_x', 'a'.repeat(128)], ['', 'a/b', 'a#b', 'a'.repeat(129), '.', '..', '...']],
    [FiscalCode, ['AAABBB00A00A000B'], ['AAABBB00A00A000', 'aaabbb00a00a000b']],
    [Subscription, ['ping', 'service:subscribed', '*', 'service:*', 'a:b:c:d:*'], ['', 'pong', 'service', 'Service:*', 'a:b:c:d:e:*', '**']],
  ];
  it.each(cases.map(([codec, good, bad]) => [codec.name, codec, good, bad] as const))('%s', (_name, codec, good, bad) => {
    const schema = toJsonSchema(codec, ANNOTATIONS);
    for (const v of good) expect({ v, codec: E.isRight(codec.decode(v)), schema: validate({ schema, value: v, root: doc }) }).toEqual({ v, codec: true, schema: [] });
    for (const v of bad) expect({ v, codec: E.isRight(codec.decode(v)), schemaRefuses: validate({ schema, value: v, root: doc }).length > 0 }).toEqual({ v, codec: false, schemaRefuses: true });
  });
});
