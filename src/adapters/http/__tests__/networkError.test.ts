import type { NetworkErrorKind } from '../../../domain/outcome';
import { classifyNetworkError, describeNetworkError, sanitizeText } from '../networkError';

const withCode = (code: string, message = `failed with ${code}`): Error => Object.assign(new Error(message), { code });

describe('classifyNetworkError', () => {
  it.each<[string, NetworkErrorKind]>([
    ['ERR_DESTINATION_NOT_ALLOWED', 'DestinationNotAllowed'],
    ['UND_ERR_CONNECT_TIMEOUT', 'Timeout'],
    ['UND_ERR_HEADERS_TIMEOUT', 'Timeout'],
    ['UND_ERR_BODY_TIMEOUT', 'Timeout'],
    ['ETIMEDOUT', 'Timeout'],
    ['ECONNREFUSED', 'ConnectionRefused'],
    ['ECONNRESET', 'ConnectionReset'],
    ['EPIPE', 'ConnectionReset'],
    ['UND_ERR_SOCKET', 'ConnectionReset'],
    ['ENOTFOUND', 'DnsFailure'],
    ['EAI_AGAIN', 'DnsFailure'],
    ['EHOSTUNREACH', 'Unreachable'],
    ['ENETUNREACH', 'Unreachable'],
    ['CERT_HAS_EXPIRED', 'Tls'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'Tls'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'Tls'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'Tls'],
    ['UND_ERR_INVALID_ARG', 'InvalidRequest'],
    ['ERR_INVALID_CHAR', 'InvalidRequest'],
    ['UND_ERR_HEADERS_OVERFLOW', 'Other'],
    ['HPE_INVALID_CONSTANT', 'Other'],
  ])('%s -> %s', (code, kind) => {
    expect(classifyNetworkError(withCode(code))).toBe(kind);
  });

  it('finds the code in a cause', () => {
    expect(classifyNetworkError(new Error('fetch failed', { cause: withCode('ECONNREFUSED') }))).toBe('ConnectionRefused');
  });

  it('finds the code inside an AggregateError (one error per address tried)', () => {
    expect(classifyNetworkError(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], ''))).toBe('ConnectionRefused');
  });

  it('calls anything unknown Other, whatever was thrown', () => {
    expect(classifyNetworkError(new Error('strange'))).toBe('Other');
    expect(classifyNetworkError('a string')).toBe('Other');
    expect(classifyNetworkError(undefined)).toBe('Other');
    expect(classifyNetworkError({ code: 42 })).toBe('Other');
  });

  it('survives a cause cycle', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = a;
    expect(classifyNetworkError(a)).toBe('Other');
  });
});

describe('describeNetworkError', () => {
  it('prefixes the code unless the message has it', () => {
    expect(describeNetworkError(withCode('ECONNRESET', 'socket hang up'))).toBe('ECONNRESET: socket hang up');
    expect(describeNetworkError(withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'))).toBe('connect ECONNREFUSED 127.0.0.1:1');
  });

  it('describes the coded error of a chain', () => {
    expect(describeNetworkError(new Error('outer', { cause: withCode('ENOTFOUND', 'getaddrinfo ENOTFOUND x') }))).toBe('getaddrinfo ENOTFOUND x');
    expect(describeNetworkError(new AggregateError([withCode('ECONNREFUSED', 'connect ECONNREFUSED ::1:1')], ''))).toBe('connect ECONNREFUSED ::1:1');
  });

  it('is short and printable', () => {
    const text = describeNetworkError(new Error(`evil\r\n\u0007${'x'.repeat(1000)}`));
    expect(text.length).toBe(300);
    expect(text.startsWith('evil\r\n\uFFFD')).toBe(true);
    expect(describeNetworkError('thrown text')).toBe('thrown text');
  });
});

describe('sanitizeText', () => {
  it('keeps tabs and newlines, replaces other control characters, and caps', () => {
    expect(sanitizeText('a\tb\nc\u0000d\u001be\u007f\u0085', 100)).toBe('a\tb\nc\uFFFDd\uFFFDe\uFFFD\uFFFD');
    expect(sanitizeText('abcdef', 3)).toBe('abc');
  });
});
