/*
 * Pure builders for generated identifiers; the random bytes and the time come from the caller,
 * so tests can fix them.
 */

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const ULID_RANDOM_BYTES = 10;
export const SECRET_BYTES = 32;
export const SECRET_PREFIX = 'whsec_';

/** What `ulid` makes; every id codec that holds a ULID (webhooks, tenants) checks it with this. */
export const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/**
 * A ULID: 48 bits of milliseconds then 80 random bits, 26 Crockford base-32 characters. Ids sort by
 * creation time, which keeps table listings in creation order.
 */
export const ulid = (timeMs: number, random: Uint8Array): string => {
  if (random.length !== ULID_RANDOM_BYTES) throw new Error(`ulid needs ${ULID_RANDOM_BYTES} random bytes`);
  let time = '';
  let ms = Math.floor(timeMs);
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
  let rest = '';
  for (let i = 0; i < 16; i++) {
    rest = CROCKFORD[Number(bits & 31n)] + rest;
    bits >>= 5n;
  }
  return time + rest;
};

/** A Standard Webhooks signing secret: `whsec_` + base64 of the key bytes. */
export const signingSecret = (key: Uint8Array): string => {
  if (key.length < 24) throw new Error('a signing secret needs at least 24 random bytes');
  return SECRET_PREFIX + Buffer.from(key).toString('base64');
};
