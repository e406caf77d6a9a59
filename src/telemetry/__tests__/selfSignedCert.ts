import { generateKeyPairSync, sign } from 'node:crypto';

/*
 * A self-signed certificate for 127.0.0.1, built with node:crypto alone (no openssl on the path):
 * the exporter only posts over https, so the test's ingestion endpoint needs one, and the test
 * passes it to the exporter as its only trusted CA.
 */

const length = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};

/** One DER tag-length-value. */
const der = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};

const SEQUENCE = 0x30;
const SET = 0x31;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const OID = 0x06;
const UTF8_STRING = 0x0c;
const UTC_TIME = 0x17;
const EXPLICIT_0 = 0xa0;
const EXPLICIT_3 = 0xa3;
const SAN_IP_ADDRESS = 0x87;

const oid = (dotted: string): Buffer => {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let high = arc >> 7; high > 0; high >>= 7) groups.unshift((high & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return der(OID, Buffer.from(bytes));
};

/** YYMMDDHHMMSSZ */
const utcTime = (at: Date): Buffer => der(UTC_TIME, Buffer.from(`${at.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`));

const toPem = (body: Buffer): string => `-----BEGIN CERTIFICATE-----\n${(body.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;

export const selfSignedLoopbackCert = (now: Date = new Date()): { cert: string; key: string } => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaWithSha256 = der(SEQUENCE, oid('1.2.840.10045.4.3.2'));
  const name = der(SEQUENCE, der(SET, der(SEQUENCE, oid('2.5.4.3'), der(UTF8_STRING, Buffer.from('127.0.0.1')))));
  const subjectAltName = der(SEQUENCE, oid('2.5.29.17'), der(OCTET_STRING, der(SEQUENCE, der(SAN_IP_ADDRESS, Buffer.from([127, 0, 0, 1])))));
  const tbs = der(
    SEQUENCE,
    der(EXPLICIT_0, der(INTEGER, Buffer.from([2]))), // v3
    der(INTEGER, Buffer.from([1])),
    ecdsaWithSha256,
    name,
    der(SEQUENCE, utcTime(new Date(now.getTime() - 3_600_000)), utcTime(new Date(now.getTime() + 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(EXPLICIT_3, der(SEQUENCE, subjectAltName)),
  );
  const signature = sign('sha256', tbs, privateKey);
  return {
    cert: toPem(der(SEQUENCE, tbs, ecdsaWithSha256, der(BIT_STRING, Buffer.from([0]), signature))),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
};
