import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';

// Standard Webhooks signing (https://www.standardwebhooks.com): small and boring on purpose.

export const SECRET_PREFIX = 'whsec_';
export const SIGNATURE_VERSION = 'v1';
/** How far a receiver accepts a timestamp from its own clock, both ways (the spec's default). */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;
/** Random bytes in a generated secret: the spec asks for 24 to 64. */
export const SECRET_BYTES = 32;
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const secretKey = (secret: string): Buffer => Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');

interface WebhookSecretBrand {
  readonly WebhookSecret: unique symbol;
}

/** `whsec_` + canonical base64 of 24 to 64 bytes: decoded once at the edge, so signing cannot fail. */
export const WebhookSecret = t.brand(
  t.string,
  (s): s is t.Branded<string, WebhookSecretBrand> =>
    s.startsWith(SECRET_PREFIX) &&
    BASE64.test(s.slice(SECRET_PREFIX.length)) &&
    secretKey(s).length >= MIN_SECRET_BYTES &&
    secretKey(s).length <= MAX_SECRET_BYTES,
  'WebhookSecret',
);
export type WebhookSecret = t.TypeOf<typeof WebhookSecret>;

/** A fresh signing secret; `random` is injectable so tests can pin it. */
export const generateSecret = (random: (size: number) => Buffer = randomBytes): WebhookSecret =>
  `${SECRET_PREFIX}${random(SECRET_BYTES).toString('base64')}` as WebhookSecret;

export type SignInput = {
  /** One secret, or several while a secret is being rotated: each yields one signature. */
  readonly secrets: WebhookSecret | ReadonlyArray<WebhookSecret>;
  /** The `webhook-id`: stable across retries of one delivery. */
  readonly id: string;
  readonly timestampSeconds: number;
  /** The exact body bytes sent, as text (signed as UTF-8). */
  readonly body: string;
};

const signOne = (secret: WebhookSecret, signedContent: string): string =>
  createHmac('sha256', secretKey(secret)).update(signedContent, 'utf8').digest('base64');

const asList = <A>(x: A | ReadonlyArray<A>): ReadonlyArray<A> => (Array.isArray(x) ? x : [x as A]);

/** `v1,<sig>` per secret, space-separated, as the `webhook-signature` header carries them. */
export const sign = ({ secrets, id, timestampSeconds, body }: SignInput): string => {
  const signedContent = `${id}.${timestampSeconds}.${body}`;
  return asList(secrets)
    .map((secret) => `${SIGNATURE_VERSION},${signOne(secret, signedContent)}`)
    .join(' ');
};

export type SignatureHeaders = {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
};

export const signatureHeaders = (input: SignInput): SignatureHeaders => ({
  'webhook-id': input.id,
  'webhook-timestamp': String(input.timestampSeconds),
  'webhook-signature': sign(input),
});

export type SignatureError =
  | { readonly kind: 'MissingHeader'; readonly header: keyof SignatureHeaders }
  | { readonly kind: 'InvalidTimestamp'; readonly value: string }
  | { readonly kind: 'TimestampTooOld'; readonly timestampSeconds: number }
  | { readonly kind: 'TimestampTooNew'; readonly timestampSeconds: number }
  | { readonly kind: 'NoMatchingSignature' };

export type VerifyInput = {
  readonly secrets: WebhookSecret | ReadonlyArray<WebhookSecret>;
  /** Header names in any case, as a receiver gets them. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  readonly nowSeconds: number;
  readonly toleranceSeconds?: number;
};

const header = (headers: VerifyInput['headers'], name: keyof SignatureHeaders): string | undefined =>
  Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];

const sameBytes = (a: string, b: string): boolean => {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  // timingSafeEqual needs equal lengths; a length mismatch leaks only the length, which is public.
  return left.length === right.length && timingSafeEqual(left, right);
};

/** What a receiver does: for our tests and example receivers. Constant-time comparison. */
export const verify = ({
  secrets,
  headers,
  body,
  nowSeconds,
  toleranceSeconds = TIMESTAMP_TOLERANCE_SECONDS,
}: VerifyInput): E.Either<SignatureError, void> => {
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (id === undefined) return E.left({ kind: 'MissingHeader', header: 'webhook-id' });
  if (timestampText === undefined) return E.left({ kind: 'MissingHeader', header: 'webhook-timestamp' });
  if (signatures === undefined) return E.left({ kind: 'MissingHeader', header: 'webhook-signature' });
  if (!/^\d{1,15}$/.test(timestampText)) return E.left({ kind: 'InvalidTimestamp', value: timestampText });
  const timestampSeconds = Number(timestampText);
  if (nowSeconds - timestampSeconds > toleranceSeconds) return E.left({ kind: 'TimestampTooOld', timestampSeconds });
  if (timestampSeconds - nowSeconds > toleranceSeconds) return E.left({ kind: 'TimestampTooNew', timestampSeconds });
  const expected = asList(secrets).map((secret) => signOne(secret, `${id}.${timestampText}.${body}`));
  const matches = signatures
    .split(' ')
    .map((versioned) => versioned.split(','))
    .some(
      ([version, signature]) =>
        version === SIGNATURE_VERSION && signature !== undefined && expected.some((e) => sameBytes(e, signature)),
    );
  return matches ? E.right(undefined) : E.left({ kind: 'NoMatchingSignature' });
};
