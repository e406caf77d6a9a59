import * as E from 'fp-ts/Either';
import { Webhook } from 'standardwebhooks';
import { randomBytes } from 'node:crypto';
import { SECRET_BYTES, signingSecret } from '../ids';
import { sign, signatureHeaders, TIMESTAMP_TOLERANCE_SECONDS, verify } from '../signature';
import { WebhookSecret } from '../webhook';

const secretOf = (text: string): WebhookSecret => {
  const decoded = WebhookSecret.decode(text);
  if (E.isLeft(decoded)) throw new Error(`not a secret: ${text}`);
  return decoded.right;
};

// The example from the Standard Webhooks specification.
const SPEC_SECRET = secretOf('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
// The registry's own generator, as createWebhook uses it.
const generateSecret = (): WebhookSecret => secretOf(signingSecret(randomBytes(SECRET_BYTES)));
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

describe('sign', () => {
  it('matches the specification example', () => {
    expect(
      sign({
        secrets: SPEC_SECRET,
        id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        timestampSeconds: 1614265330,
        body: '{"test": 2432232314}',
      }),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('is verified by the standardwebhooks receiver, unicode body included', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ name: 'ping', payload: { note: 'café ☕ 𝄞 — 日本語 \u2028' } });
    const headers = signatureHeaders({ secrets: secret, id: 'evt_1:wh_1', timestampSeconds: nowSeconds(), body });
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('signs with every secret during a rotation, and a receiver holding either accepts', () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const body = '{"name":"ping","payload":{}}';
    const headers = signatureHeaders({ secrets: [oldSecret, newSecret], id: 'd1', timestampSeconds: nowSeconds(), body });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(generateSecret()).verify(body, { ...headers })).toThrow('No matching signature');
  });

  it('is rejected by the receiver when the body or id changes', () => {
    const secret = generateSecret();
    const headers = signatureHeaders({ secrets: secret, id: 'd1', timestampSeconds: nowSeconds(), body: '{"a":1}' });
    expect(() => new Webhook(secret).verify('{"a":2}', { ...headers })).toThrow('No matching signature');
    expect(() => new Webhook(secret).verify('{"a":1}', { ...headers, 'webhook-id': 'd2' })).toThrow(
      'No matching signature',
    );
  });
});

describe('verify', () => {
  const secret = generateSecret();
  const body = '{"name":"ping","payload":{"é":"✓"}}';
  const now = 1_700_000_000;
  const headers = signatureHeaders({ secrets: secret, id: 'd1', timestampSeconds: now, body });

  it('accepts our own signature, header names in any case', () => {
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verify({ secrets: secret, headers: upper, body, nowSeconds: now })).toEqual(E.right(undefined));
  });

  it('accepts a signature made by the standardwebhooks package', () => {
    const signature = new Webhook(secret).sign('d1', new Date(now * 1000), body);
    expect(verify({ secrets: secret, headers: { ...headers, 'webhook-signature': signature }, body, nowSeconds: now })).toEqual(
      E.right(undefined),
    );
  });

  it('accepts when one of several signatures matches, ignoring unknown versions', () => {
    const signature = `v2,abc v1,Zm9v ${headers['webhook-signature']}`;
    expect(
      verify({ secrets: secret, headers: { ...headers, 'webhook-signature': signature }, body, nowSeconds: now }),
    ).toEqual(E.right(undefined));
  });

  it('accepts at the edges of the tolerance', () => {
    expect(E.isRight(verify({ secrets: secret, headers, body, nowSeconds: now + TIMESTAMP_TOLERANCE_SECONDS }))).toBe(true);
    expect(E.isRight(verify({ secrets: secret, headers, body, nowSeconds: now - TIMESTAMP_TOLERANCE_SECONDS }))).toBe(true);
  });

  it.each([
    ['a tampered body', { body: body + ' ' }, { kind: 'NoMatchingSignature' }],
    ['another secret', { secrets: generateSecret() }, { kind: 'NoMatchingSignature' }],
    ['an old timestamp', { nowSeconds: now + TIMESTAMP_TOLERANCE_SECONDS + 1 }, { kind: 'TimestampTooOld', timestampSeconds: now }],
    ['a future timestamp', { nowSeconds: now - TIMESTAMP_TOLERANCE_SECONDS - 1 }, { kind: 'TimestampTooNew', timestampSeconds: now }],
    ['a non-numeric timestamp', { headers: { ...headers, 'webhook-timestamp': '17e8' } }, { kind: 'InvalidTimestamp', value: '17e8' }],
    ['a missing id', { headers: { ...headers, 'webhook-id': undefined } }, { kind: 'MissingHeader', header: 'webhook-id' }],
    [
      'a missing timestamp',
      { headers: { 'webhook-id': 'd1', 'webhook-signature': headers['webhook-signature'] } },
      { kind: 'MissingHeader', header: 'webhook-timestamp' },
    ],
    [
      'a missing signature',
      { headers: { 'webhook-id': 'd1', 'webhook-timestamp': String(now) } },
      { kind: 'MissingHeader', header: 'webhook-signature' },
    ],
    ['a signature of another length', { headers: { ...headers, 'webhook-signature': 'v1,short' } }, { kind: 'NoMatchingSignature' }],
    ['a signature without a comma', { headers: { ...headers, 'webhook-signature': 'v1' } }, { kind: 'NoMatchingSignature' }],
  ])('rejects %s', (_label, override, error) => {
    expect(verify({ secrets: secret, headers, body, nowSeconds: now, ...override })).toEqual(E.left(error));
  });
});
