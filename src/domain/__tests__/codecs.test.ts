import * as E from 'fp-ts/Either';
import type * as t from 'io-ts';
import { decodePayload } from '../catalogue';
import { formatValidationErrors } from '../decodeErrors';
import { EventId, IncomingEventEnvelope } from '../events';
import { FiscalCode } from '../fiscalCode';
import { SECRET_BYTES, signingSecret, ulid } from '../ids';
import { applyPatch, WebhookId, WebhookInput, WebhookPatch, WebhookSecret } from '../webhook';
import { aWebhook, FISCAL_CODE } from './fixtures';

const errorsOf = <A>(codec: t.Decoder<unknown, A>, input: unknown): string[] => {
  const result = codec.decode(input);
  return E.isLeft(result) ? formatValidationErrors(result.left) : [];
};

const validInput = { url: 'https://receiver.example/hook', subscriptions: ['ping'] };

describe('FiscalCode', () => {
  it.each([FISCAL_CODE, 'RSSMRA80A01H501U', 'RSSMRA80A01H5LMU'])('accepts %s', (code) => expect(FiscalCode.is(code)).toBe(true));
  it.each(['', 'AAABBB00A00A000', 'aaabbb00a00a000b', 'AAABBB00A00A000BB', '1AABBB00A00A000B', 'AAABBB00Z00A000B'])('refuses %j', (code) => expect(E.isLeft(FiscalCode.decode(code))).toBe(true));
});

describe('event payloads', () => {
  it('decodes every event of the catalogue with a good payload', () => {
    expect(E.isRight(decodePayload('ping', { name: 'wh1' }))).toBe(true);
    expect(E.isRight(decodePayload('service:subscribed', { serviceId: 's', fiscalCode: FISCAL_CODE }))).toBe(true);
    expect(E.isRight(decodePayload('ping:all', undefined))).toBe(true);
    expect(E.isRight(decodePayload('profile:completed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'LEGACY' }))).toBe(true);
    expect(E.isRight(decodePayload('profile:service-preferences-changed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'AUTO', oldServicePreferencesMode: 'MANUAL' }))).toBe(true);
  });

  it.each([
    ['ping', {}, 'payload.name: is required (a non-empty string)'],
    ['ping', { name: '' }, 'payload.name: must be a non-empty string'],
    ['service:subscribed', { serviceId: 's', fiscalCode: 'nope' }, 'payload.fiscalCode: must be a fiscal code (16 characters, e.g. AAABBB00A00A000B)'],
    ['profile:completed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'SOMETIMES' }, 'payload.servicePreferencesMode: must be one of LEGACY, AUTO, MANUAL'],
    ['profile:service-preferences-changed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'AUTO' }, 'payload.oldServicePreferencesMode: is required (one of LEGACY, AUTO, MANUAL)'],
    ['ping:all', 'text', 'payload: must be an object'],
  ] as const)('%s with %j fails with "%s"', (name, payload, message) => {
    const decoded = decodePayload(name, payload);
    expect(E.isLeft(decoded) ? formatValidationErrors(decoded.left, 'payload') : []).toContain(message);
  });

  it('the envelope needs a string name and accepts a safe id', () => {
    expect(errorsOf(IncomingEventEnvelope, { payload: {} })).toEqual(['name: is required (a string)']);
    expect(errorsOf(IncomingEventEnvelope, { name: 'ping', id: 'ok_id.1:2-3' })).toEqual([]);
    expect(errorsOf(IncomingEventEnvelope, { name: 'ping', id: 'a/b' })).toEqual(['id: must be an event id (1-128 characters: letters, digits, _ . : -, not dots alone)']);
    expect(errorsOf(IncomingEventEnvelope, [])).toEqual(['(body): must be an object']);
  });

  it('event ids: 1 to 128 characters of the safe set', () => {
    expect(EventId.is('a'.repeat(128))).toBe(true);
    expect(EventId.is('a'.repeat(129))).toBe(false);
    expect(EventId.is('')).toBe(false);
    expect(EventId.is('a#b')).toBe(false);
    // Dots alone are URL path steps in the Durable client's unencoded instance URLs.
    expect(['.', '..', '...'].map((id) => EventId.is(id))).toEqual([false, false, false]);
    expect(['a.b', '.a', '..a'].map((id) => EventId.is(id))).toEqual([true, true, true]);
  });
});

describe('WebhookInput', () => {
  it('accepts a minimal and a full webhook', () => {
    expect(errorsOf(WebhookInput, validInput)).toEqual([]);
    expect(
      errorsOf(WebhookInput, { ...validInput, subscriptions: ['*', 'service:subscribed'], attributes: { serviceId: 's' }, headers: { Authorization: 'Bearer x', 'X-Tenant': 'a' }, disabled: true }),
    ).toEqual([]);
  });

  it.each([
    'ftp://receiver.example/hook',
    '/relative/path',
    'https://user:pass@receiver.example/hook',
    'https://user@receiver.example/hook',
    'https://receiver.example/hook#fragment',
    'https://receiver.example/ho ok',
    `https://receiver.example/${'a'.repeat(2048)}`,
    'not a url',
  ])('refuses the url %j', (url) => {
    expect(errorsOf(WebhookInput, { ...validInput, url })[0]).toMatch(/^url: must be an absolute http or https URL/);
  });

  it('refuses unknown subscriptions, an empty list, and names the non-public events as unknown', () => {
    expect(errorsOf(WebhookInput, { ...validInput, subscriptions: ['ping:all'] })).toEqual([
      'subscriptions.0: must be a public event name (ping, service:subscribed), a pattern such as service:*, *, or an alert (webhook.disabled, delivery.exhausted)',
    ]);
    expect(errorsOf(WebhookInput, { ...validInput, subscriptions: [] })).toEqual(['subscriptions: must be a list of 1 to 16 subscriptions']);
  });

  it.each([
    'connection',
    'Keep-Alive',
    'transfer-encoding',
    'TE',
    'trailer',
    'upgrade',
    'proxy-authorization',
    'Host',
    'content-length',
    'Content-Type',
    'webhook-signature',
    'Webhook-Id',
    'bad header',
    'x\u00e9',
  ])('refuses the header name %j', (name) => {
    expect(errorsOf(WebhookInput, { ...validInput, headers: { [name]: 'v' } })[0]).toMatch(new RegExp(`^headers\\.${name.replace(/[-]/g, '\\-')}: must be a header name`));
  });

  it('refuses header values with line breaks, and names that differ only by case', () => {
    expect(errorsOf(WebhookInput, { ...validInput, headers: { 'X-A': 'a\r\nInjected: 1' } })[0]).toMatch(/^headers\.X-A: must be a header value/);
    expect(errorsOf(WebhookInput, { ...validInput, headers: { 'X-A': '1', 'x-a': '2' } })).toEqual(['headers: must be an object of headers whose names differ by more than case']);
  });

  it('bounds attributes: names look like identifiers, values are strings, at most 16', () => {
    expect(errorsOf(WebhookInput, { ...validInput, attributes: { 'not ok': 'v' } })[0]).toMatch(/^attributes\.not ok: must be an attribute name/);
    expect(errorsOf(WebhookInput, { ...validInput, attributes: { name: 1 } })).toEqual(['attributes.name: must be a string of at most 256 characters']);
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`a${i}`, 'v']));
    expect(errorsOf(WebhookInput, { ...validInput, attributes: many })).toEqual(['attributes: must be an object of at most 16 string attributes']);
  });

  it('refuses unknown fields, reporting other problems too', () => {
    expect(errorsOf(WebhookInput, { ...validInput, url: 'ftp://x', disable: true })).toEqual([
      'disable: is not a known field (known: url, subscriptions, attributes, headers, disabled, fields, expiresAt, leaseSeconds, verify, timeoutMs, rateLimitPerSecond, maxAttempts, format)',
      'url: must be an absolute http or https URL, without credentials or fragment, at most 2048 characters',
    ]);
  });
});

describe('WebhookPatch and applyPatch', () => {
  it('merges attributes and headers (null removes; header names ignore case) and replaces the rest', () => {
    const current = aWebhook({ attributes: { name: 'a', serviceId: 's' }, headers: { Authorization: 'old', 'X-Keep': 'k' } });
    const patch = WebhookPatch.decode({ attributes: { serviceId: null, extra: 'e' }, headers: { authorization: 'new' }, disabled: true });
    if (E.isLeft(patch)) throw new Error('patch does not decode');
    expect(applyPatch(current, patch.right)).toEqual({
      url: current.url,
      subscriptions: current.subscriptions,
      attributes: { name: 'a', extra: 'e' },
      headers: { 'X-Keep': 'k', authorization: 'new' },
      disabled: true,
    });
  });
  it('refuses null for top-level fields and unknown fields', () => {
    expect(errorsOf(WebhookPatch, { url: null })[0]).toMatch(/^url: must be an absolute http/);
    expect(errorsOf(WebhookPatch, { secret: 'whsec_x' })).toEqual([
      'secret: is not a known field (known: url, subscriptions, attributes, headers, disabled, fields, expiresAt, leaseSeconds, verify, timeoutMs, rateLimitPerSecond, maxAttempts, format)',
    ]);
  });
});

describe('generated ids and secrets', () => {
  it('ulid: 26 Crockford characters, sorted by time', () => {
    const a = ulid(1_700_000_000_000, new Uint8Array(10).fill(255));
    const b = ulid(1_700_000_000_001, new Uint8Array(10));
    expect(WebhookId.is(a)).toBe(true);
    expect(WebhookId.is(b)).toBe(true);
    expect(a < b).toBe(true);
    expect(() => ulid(0, new Uint8Array(3))).toThrow(/10 random bytes/);
  });
  it('signing secret: whsec_ + base64 of the key bytes, at least 24 of them', () => {
    const key = new Uint8Array(SECRET_BYTES).map((_, i) => i);
    const secret = signingSecret(key);
    expect(WebhookSecret.is(secret)).toBe(true);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toEqual(Buffer.from(key));
    expect(() => signingSecret(new Uint8Array(16))).toThrow(/24/);
  });
});
