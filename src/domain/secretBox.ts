import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';

/*
 * Secrets at rest (docs/secrets.md): AES-256-GCM under a key from the settings, a random 12-byte IV
 * per encryption, and associated data (the webhook id and the field) so a ciphertext copied to
 * another row or field fails its tag check. The key id travels beside the ciphertext so that a row
 * written under an older key still opens after a rotation.
 */

export const CIPHERTEXT_PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SECRETS_KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** One key: its id (written beside every ciphertext) and its 32 bytes. */
export type SecretsKey = { readonly id: string; readonly key: Buffer };

const parseKey = (text: string): SecretsKey | undefined => {
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const id = text.slice(0, colon);
  const base64 = text.slice(colon + 1);
  if (!KEY_ID.test(id) || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const key = Buffer.from(base64, 'base64');
  return key.length === SECRETS_KEY_BYTES ? { id, key } : undefined;
};

const KEY_DESCRIPTION = `<key id>:<base64 of ${SECRETS_KEY_BYTES} random bytes> (key id: 1-32 letters, digits, _ or -)`;

/** `SECRETS_KEY`: `<keyId>:<base64 of 32 bytes>`. The description never includes the value. */
export const SecretsKey = new t.Type<SecretsKey, string, unknown>(
  KEY_DESCRIPTION,
  (u): u is SecretsKey => typeof u === 'object' && u !== null && 'id' in u && 'key' in u && Buffer.isBuffer((u as SecretsKey).key),
  (u, c) => {
    const parsed = typeof u === 'string' ? parseKey(u.trim()) : undefined;
    return parsed === undefined ? t.failure(u, c) : t.success(parsed);
  },
  (k) => `${k.id}:${k.key.toString('base64')}`,
);

/** `SECRETS_KEYS_PREVIOUS`: comma-separated keys of the same form ('' = none), kept to open older rows. */
export const SecretsKeyList = new t.Type<readonly SecretsKey[], string, unknown>(
  `a comma-separated list of ${KEY_DESCRIPTION}`,
  (u): u is readonly SecretsKey[] => Array.isArray(u) && u.every((k) => SecretsKey.is(k)),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c);
    const parts = u
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const keys = parts.map(parseKey);
    return keys.every((k): k is SecretsKey => k !== undefined) ? t.success(keys) : t.failure(u, c);
  },
  (keys) => keys.map((k) => SecretsKey.encode(k)).join(','),
);

/** The key that encrypts, and every key that may decrypt (the current one included). */
export type Keyring = { readonly current: SecretsKey; readonly byId: ReadonlyMap<string, Buffer> };

export const keyring = (current: SecretsKey, previous: readonly SecretsKey[] = []): Keyring => ({
  current,
  byId: new Map([...previous.map((k): [string, Buffer] => [k.id, k.key]), [current.id, current.key]]),
});

/** What a ciphertext is bound to: moved to another webhook or field, it no longer opens. */
export type SealContext = { readonly webhookId: string; readonly field: string };
const aad = ({ webhookId, field }: SealContext): Buffer => Buffer.from(`${webhookId}|${field}`, 'utf8');

/** `enc:v1:<keyId>:<base64 of iv | tag | ciphertext>`, under the current key. */
export const seal = (ring: Keyring, plaintext: string, context: SealContext): string => {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', ring.current.key, iv);
  cipher.setAAD(aad(context));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${CIPHERTEXT_PREFIX}${ring.current.id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
};

export const isSealed = (stored: string): boolean => stored.startsWith(CIPHERTEXT_PREFIX);

/** The key id a stored value was sealed under; undefined for a plain (pre-encryption) value. */
export const keyIdOf = (stored: string): string | undefined => {
  if (!isSealed(stored)) return undefined;
  const rest = stored.slice(CIPHERTEXT_PREFIX.length);
  const colon = rest.indexOf(':');
  return colon < 0 ? undefined : rest.slice(0, colon);
};

/**
 * Opens a sealed value. A value without the prefix was stored before encryption and is returned as
 * it is (the next write seals it). The error says why, never what the value was.
 */
export const open = (ring: Keyring, stored: string, context: SealContext): E.Either<string, string> => {
  if (!isSealed(stored)) return E.right(stored);
  const keyId = keyIdOf(stored);
  const key = keyId === undefined ? undefined : ring.byId.get(keyId);
  if (keyId === undefined || key === undefined) return E.left(`is sealed under key "${keyId ?? '?'}", which is neither SECRETS_KEY nor in SECRETS_KEYS_PREVIOUS`);
  const packed = Buffer.from(stored.slice(CIPHERTEXT_PREFIX.length + keyId.length + 1), 'base64');
  if (packed.length < IV_BYTES + TAG_BYTES) return E.left('is not a complete ciphertext');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, packed.subarray(0, IV_BYTES));
    decipher.setAAD(aad(context));
    decipher.setAuthTag(packed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return E.right(Buffer.concat([decipher.update(packed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8'));
  } catch {
    // The tag check failed: another key with the same id, a changed value, or one moved from another row.
    return E.left(`does not open under key "${keyId}" (wrong key, changed value, or copied from another row)`);
  }
};
