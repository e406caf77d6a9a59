import type { NetworkErrorKind } from '../../domain/outcome';
import { DESTINATION_NOT_ALLOWED } from './destinationGuard';

/** Error codes of Node (libuv, getaddrinfo, OpenSSL) and undici, by what they mean for delivery. */
const KIND_BY_CODE: Readonly<Record<string, NetworkErrorKind>> = {
  [DESTINATION_NOT_ALLOWED]: 'DestinationNotAllowed',
  UND_ERR_CONNECT_TIMEOUT: 'Timeout',
  UND_ERR_HEADERS_TIMEOUT: 'Timeout',
  UND_ERR_BODY_TIMEOUT: 'Timeout',
  ETIMEDOUT: 'Timeout',
  ECONNREFUSED: 'ConnectionRefused',
  ECONNRESET: 'ConnectionReset',
  ECONNABORTED: 'ConnectionReset',
  EPIPE: 'ConnectionReset',
  UND_ERR_SOCKET: 'ConnectionReset',
  ENOTFOUND: 'DnsFailure',
  EAI_AGAIN: 'DnsFailure',
  EAI_FAIL: 'DnsFailure',
  EAI_NONAME: 'DnsFailure',
  EAI_NODATA: 'DnsFailure',
  EHOSTUNREACH: 'Unreachable',
  ENETUNREACH: 'Unreachable',
  EHOSTDOWN: 'Unreachable',
  ENETDOWN: 'Unreachable',
  EPROTO: 'Tls',
  CERT_HAS_EXPIRED: 'Tls',
  CERT_NOT_YET_VALID: 'Tls',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'Tls',
  SELF_SIGNED_CERT_IN_CHAIN: 'Tls',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'Tls',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'Tls',
  UND_ERR_INVALID_ARG: 'InvalidRequest',
  ERR_INVALID_HTTP_TOKEN: 'InvalidRequest',
  ERR_INVALID_CHAR: 'InvalidRequest',
};

const kindOfCode = (code: string): NetworkErrorKind | undefined => KIND_BY_CODE[code] ?? (code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') ? 'Tls' : undefined);

type Inspectable = { readonly code?: unknown; readonly cause?: unknown; readonly errors?: unknown };

/** The error itself first, then its causes and (for a happy-eyeballs AggregateError) its parts. */
const errorChain = (error: unknown, depth = 0): unknown[] => {
  if (depth > 5 || typeof error !== 'object' || error === null) return [error];
  const { cause, errors } = error as Inspectable;
  return [error, ...(cause === undefined ? [] : errorChain(cause, depth + 1)), ...(Array.isArray(errors) ? errors.flatMap((e) => errorChain(e, depth + 1)) : [])];
};

const codeOf = (error: unknown): string | undefined => {
  const code = typeof error === 'object' && error !== null ? (error as Inspectable).code : undefined;
  return typeof code === 'string' ? code : undefined;
};

export const classifyNetworkError = (error: unknown): NetworkErrorKind => {
  for (const part of errorChain(error)) {
    const code = codeOf(part);
    const kind = code === undefined ? undefined : kindOfCode(code);
    if (kind !== undefined) return kind;
  }
  return 'Other';
};

const MAX_MESSAGE_CHARS = 300;

/** Control characters would garble logs and tables; the text is for people, so replace them visibly. */
export const sanitizeText = (text: string, maxChars: number): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g, '\uFFFD').slice(0, maxChars);

/** `CODE: message` of the most specific error in the chain, short and printable. */
export const describeNetworkError = (error: unknown): string => {
  const chain = errorChain(error);
  const withCode = chain.find((e) => codeOf(e) !== undefined) ?? chain[0];
  const code = codeOf(withCode);
  const message = withCode instanceof Error ? withCode.message : String(withCode);
  return sanitizeText(code === undefined || message.includes(code) ? message : `${code}: ${message}`, MAX_MESSAGE_CHARS);
};
