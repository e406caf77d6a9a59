import * as E from 'fp-ts/Either';
import { keyIdOf, keyring, open, seal, SecretsKey, SecretsKeyList } from '../secretBox';

const k1 = { id: 'k1', key: Buffer.alloc(32, 1) };
const k2 = { id: 'k2', key: Buffer.alloc(32, 2) };
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6nh4Yh4Kx8o=';
const at = { webhookId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C3', field: 'secret' };

describe('secret box (AES-256-GCM)', () => {
  it('seals to enc:v1:<keyId>:..., hiding the secret, and opens back', () => {
    const sealed = seal(keyring(k1), SECRET, at);
    expect(sealed).toMatch(/^enc:v1:k1:[A-Za-z0-9+/]+={0,2}$/);
    expect(sealed).not.toContain(SECRET.slice(6));
    expect(Buffer.from(sealed.slice('enc:v1:k1:'.length), 'base64').toString('latin1')).not.toContain(SECRET.slice(6, 20));
    expect(keyIdOf(sealed)).toBe('k1');
    expect(open(keyring(k1), sealed, at)).toEqual(E.right(SECRET));
  });

  it('uses a fresh IV every time: the same secret never seals to the same text', () => {
    expect(seal(keyring(k1), SECRET, at)).not.toEqual(seal(keyring(k1), SECRET, at));
  });

  it('opens a value sealed under an older key kept in the ring, and seals new values under the current key', () => {
    const old = seal(keyring(k1), SECRET, at);
    const rotated = keyring(k2, [k1]);
    expect(open(rotated, old, at)).toEqual(E.right(SECRET));
    expect(keyIdOf(seal(rotated, SECRET, at))).toBe('k2');
  });

  it('refuses a value whose key id the ring lacks, naming the id and not the value', () => {
    const sealed = seal(keyring(k1), SECRET, at);
    const opened = open(keyring(k2), sealed, at);
    expect(opened).toEqual(E.left(expect.stringContaining('"k1"')));
    expect(E.isLeft(opened) && opened.left).not.toContain(sealed);
  });

  it('refuses a value moved to another webhook or field (associated data), a changed one, and a wrong key under the same id', () => {
    const sealed = seal(keyring(k1), SECRET, at);
    expect(E.isLeft(open(keyring(k1), sealed, { ...at, webhookId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C4' }))).toBe(true);
    expect(E.isLeft(open(keyring(k1), sealed, { ...at, field: 'previousSecrets' }))).toBe(true);
    const bytes = Buffer.from(sealed.slice('enc:v1:k1:'.length), 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    expect(E.isLeft(open(keyring(k1), `enc:v1:k1:${bytes.toString('base64')}`, at))).toBe(true);
    expect(E.isLeft(open(keyring({ id: 'k1', key: Buffer.alloc(32, 9) }), sealed, at))).toBe(true);
    expect(E.isLeft(open(keyring(k1), 'enc:v1:k1:AAAA', at))).toBe(true);
  });

  it('reads a value stored before encryption (plain whsec_) as it is', () => {
    expect(open(keyring(k1), SECRET, at)).toEqual(E.right(SECRET));
    expect(keyIdOf(SECRET)).toBeUndefined();
  });
});

describe('SECRETS_KEY and SECRETS_KEYS_PREVIOUS', () => {
  const text = (k: { id: string; key: Buffer }): string => `${k.id}:${k.key.toString('base64')}`;

  it('decode <keyId>:<base64 of 32 bytes>, and lists of them', () => {
    expect(SecretsKey.decode(text(k1))).toEqual(E.right(k1));
    expect(SecretsKeyList.decode(` ${text(k1)} , ${text(k2)} `)).toEqual(E.right([k1, k2]));
    expect(SecretsKeyList.decode('')).toEqual(E.right([]));
  });

  it.each([
    ['no key id', Buffer.alloc(32, 1).toString('base64')],
    ['16 bytes', `k1:${Buffer.alloc(16, 1).toString('base64')}`],
    ['33 bytes', `k1:${Buffer.alloc(33, 1).toString('base64')}`],
    ['a key id with a colon in it', `k:1:${Buffer.alloc(32, 1).toString('base64')}`],
    ['not base64', `k1:${'!'.repeat(44)}`],
  ])('refuse %s', (_what, value) => {
    expect(E.isLeft(SecretsKey.decode(value))).toBe(true);
    expect(E.isLeft(SecretsKeyList.decode(`${text(k2)},${value}`))).toBe(true);
  });
});
