import * as E from 'fp-ts/Either';
import { Webhook } from 'standardwebhooks';
import { randomBytes } from 'node:crypto';
import { SECRET_BYTES, signingSecret } from '../ids';
import { sign, signatureHeaders } from '../signature';
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
    expect(() => new Webhook(secret).verify('{"a":1}', { ...headers, 'webhook-id': 'd2' })).toThrow('No matching signature');
  });
});

describe('a receiver using the standardwebhooks package', () => {
  const secret = generateSecret();
  const body = '{"name":"ping","payload":{"é":"✓"}}';
  const receiver = new Webhook(secret);

  it('accepts our signature with header names in any case', () => {
    const headers = signatureHeaders({ secrets: secret, id: 'd1', timestampSeconds: nowSeconds(), body });
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(receiver.verify(body, upper)).toEqual(JSON.parse(body));
  });

  it('accepts when one of several signatures matches, ignoring unknown versions', () => {
    const headers = signatureHeaders({ secrets: secret, id: 'd1', timestampSeconds: nowSeconds(), body });
    expect(() => receiver.verify(body, { ...headers, 'webhook-signature': `v2,abc v1,Zm9v ${headers['webhook-signature']}` })).not.toThrow();
  });

  it('makes the same signature we make', () => {
    const timestampSeconds = nowSeconds();
    expect(receiver.sign('d1', new Date(timestampSeconds * 1000), body)).toBe(sign({ secrets: secret, id: 'd1', timestampSeconds, body }));
  });

  it.each([
    ['ten minutes old', -600, 'Message timestamp too old'],
    ['ten minutes ahead', 600, 'Message timestamp too new'],
  ])('refuses a timestamp %s', (_label, offsetSeconds, message) => {
    const headers = signatureHeaders({ secrets: secret, id: 'd1', timestampSeconds: nowSeconds() + offsetSeconds, body });
    expect(() => receiver.verify(body, { ...headers })).toThrow(message);
  });
});
