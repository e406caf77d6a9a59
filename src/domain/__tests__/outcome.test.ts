import * as E from 'fp-ts/Either';
import fc from 'fast-check';
import { RetryPolicy } from '../backoff';
import { AttemptResult, classifyAttempt, decide, NetworkErrorAttempt, NetworkErrorKind, Outcome, PoisonReason, ResponseAttempt } from '../outcome';

const response = (status: number, extra: Partial<ResponseAttempt> = {}): ResponseAttempt => ({
  kind: 'Response',
  status,
  latencyMs: 12,
  excerpt: '',
  bodyRead: 'Complete',
  ...extra,
});
const networkError = (error: NetworkErrorKind): NetworkErrorAttempt => ({
  kind: 'NetworkError',
  error,
  message: `${error} happened`,
  latencyMs: 3,
});

describe('classifyAttempt: HTTP statuses', () => {
  it.each<[number, Outcome]>([
    [200, { kind: 'Delivered' }],
    [201, { kind: 'Delivered' }],
    [202, { kind: 'Delivered' }],
    [204, { kind: 'Delivered' }],
    [299, { kind: 'Delivered' }],
    [408, { kind: 'Retry' }],
    [429, { kind: 'Retry' }],
    [500, { kind: 'Retry' }],
    [502, { kind: 'Retry' }],
    [503, { kind: 'Retry' }],
    [504, { kind: 'Retry' }],
    [599, { kind: 'Retry' }],
    [410, { kind: 'Gone' }],
    [400, { kind: 'Permanent', reason: { kind: 'Rejected', status: 400 } }],
    [401, { kind: 'Permanent', reason: { kind: 'Rejected', status: 401 } }],
    [403, { kind: 'Permanent', reason: { kind: 'Rejected', status: 403 } }],
    [404, { kind: 'Permanent', reason: { kind: 'Rejected', status: 404 } }],
    [409, { kind: 'Permanent', reason: { kind: 'Rejected', status: 409 } }],
    [413, { kind: 'Permanent', reason: { kind: 'Rejected', status: 413 } }],
    [422, { kind: 'Permanent', reason: { kind: 'Rejected', status: 422 } }],
    [499, { kind: 'Permanent', reason: { kind: 'Rejected', status: 499 } }],
    [300, { kind: 'Permanent', reason: { kind: 'Redirected', status: 300 } }],
    [301, { kind: 'Permanent', reason: { kind: 'Redirected', status: 301 } }],
    [304, { kind: 'Permanent', reason: { kind: 'Redirected', status: 304 } }],
    [399, { kind: 'Permanent', reason: { kind: 'Redirected', status: 399 } }],
    [100, { kind: 'Permanent', reason: { kind: 'UnexpectedStatus', status: 100 } }],
    [199, { kind: 'Permanent', reason: { kind: 'UnexpectedStatus', status: 199 } }],
    [600, { kind: 'Permanent', reason: { kind: 'UnexpectedStatus', status: 600 } }],
    [999, { kind: 'Permanent', reason: { kind: 'UnexpectedStatus', status: 999 } }],
  ])('%i -> %j', (status, outcome) => {
    expect(classifyAttempt(response(status))).toEqual(outcome);
  });

  it('passes Retry-After on with a retry (429, 503, 408)', () => {
    for (const status of [429, 503, 408]) {
      expect(classifyAttempt(response(status, { retryAfter: '30' }))).toEqual({ kind: 'Retry', retryAfter: '30' });
    }
  });

  it('ignores Retry-After on a final answer', () => {
    expect(classifyAttempt(response(200, { retryAfter: '30' }))).toEqual({ kind: 'Delivered' });
    expect(classifyAttempt(response(400, { retryAfter: '30' }))).toEqual({ kind: 'Permanent', reason: { kind: 'Rejected', status: 400 } });
  });

  it('names where a redirect pointed', () => {
    expect(classifyAttempt(response(308, { location: 'https://new.example/hook' }))).toEqual({
      kind: 'Permanent',
      reason: { kind: 'Redirected', status: 308, location: 'https://new.example/hook' },
    });
  });

  it('goes by the status even when the body was cut short', () => {
    for (const bodyRead of ['Capped', 'TimedOut', 'Failed'] as const) {
      expect(classifyAttempt(response(200, { bodyRead }))).toEqual({ kind: 'Delivered' });
      expect(classifyAttempt(response(500, { bodyRead }))).toEqual({ kind: 'Retry' });
    }
  });

  it('classifies every status from 0 to 999 into exactly the documented class (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999 }), (status) => {
        const { kind } = classifyAttempt(response(status));
        const expected = status >= 200 && status < 300 ? 'Delivered' : status === 410 ? 'Gone' : status === 408 || status === 429 || (status >= 500 && status < 600) ? 'Retry' : 'Permanent';
        return kind === expected;
      }),
    );
  });
});

describe('classifyAttempt: network errors', () => {
  it.each<[NetworkErrorKind, Outcome]>([
    ['Timeout', { kind: 'Retry' }],
    ['ConnectionRefused', { kind: 'Retry' }],
    ['ConnectionReset', { kind: 'Retry' }],
    ['DnsFailure', { kind: 'Retry' }],
    ['Unreachable', { kind: 'Retry' }],
    ['Tls', { kind: 'Retry' }],
    ['CircuitOpen', { kind: 'Retry' }],
    ['Other', { kind: 'Retry' }],
    ['DestinationNotAllowed', { kind: 'Permanent', reason: { kind: 'DestinationNotAllowed', message: 'DestinationNotAllowed happened' } }],
    ['InvalidUrl', { kind: 'Permanent', reason: { kind: 'InvalidUrl', message: 'InvalidUrl happened' } }],
    ['InvalidRequest', { kind: 'Permanent', reason: { kind: 'InvalidRequest', message: 'InvalidRequest happened' } }],
  ])('%s -> %j', (error, outcome) => {
    expect(classifyAttempt(networkError(error))).toEqual(outcome);
  });

  it('covers every kind the codec knows', () => {
    // A new kind added to the codec without a row above would fail here.
    expect(Object.keys(NetworkErrorKind.keys).sort()).toEqual([
      'CircuitOpen',
      'ConnectionRefused',
      'ConnectionReset',
      'DestinationNotAllowed',
      'DnsFailure',
      'InvalidRequest',
      'InvalidUrl',
      'Other',
      'Timeout',
      'Tls',
      'Unreachable',
    ]);
  });
});

describe('decide', () => {
  const policy: RetryPolicy = { scheduleSeconds: [5, 60], jitterRatio: 0 };
  const now = new Date('2025-03-01T12:00:00Z');

  it('delivers a 2xx', () => {
    expect(decide({ result: response(204), attempt: 1, policy, now })).toEqual({ kind: 'Delivered' });
  });

  it('retries a transient failure on the schedule, then poisons it as exhausted', () => {
    expect(decide({ result: response(503), attempt: 1, policy, now })).toEqual({ kind: 'RetryLater', delaySeconds: 5 });
    expect(decide({ result: networkError('Timeout'), attempt: 2, policy, now })).toEqual({ kind: 'RetryLater', delaySeconds: 60 });
    expect(decide({ result: networkError('ConnectionReset'), attempt: 3, policy, now })).toEqual({
      kind: 'Poison',
      reason: { kind: 'AttemptsExhausted', attempts: 3 },
    });
  });

  it("honours a 429's Retry-After", () => {
    expect(decide({ result: response(429, { retryAfter: '40' }), attempt: 1, policy, now })).toEqual({
      kind: 'RetryLater',
      delaySeconds: 40,
    });
  });

  it('uses the random source it is given', () => {
    const jittered: RetryPolicy = { scheduleSeconds: [100], jitterRatio: 0.5 };
    expect(decide({ result: response(500), attempt: 1, policy: jittered, now, random: () => 0 })).toEqual({
      kind: 'RetryLater',
      delaySeconds: 50,
    });
  });

  it('disables the webhook on 410, at any attempt', () => {
    expect(decide({ result: response(410), attempt: 1, policy, now })).toEqual({ kind: 'DisableWebhook' });
    expect(decide({ result: response(410), attempt: 99, policy, now })).toEqual({ kind: 'DisableWebhook' });
  });

  it('poisons a permanent failure at once, with its reason', () => {
    expect(decide({ result: response(400), attempt: 1, policy, now })).toEqual({
      kind: 'Poison',
      reason: { kind: 'Rejected', status: 400 },
    });
    expect(decide({ result: networkError('DestinationNotAllowed'), attempt: 1, policy, now })).toEqual({
      kind: 'Poison',
      reason: { kind: 'DestinationNotAllowed', message: 'DestinationNotAllowed happened' },
    });
  });
});

describe('codecs', () => {
  it('round-trip every attempt result and poison reason', () => {
    const results: AttemptResult[] = [
      response(200),
      response(429, { retryAfter: '5', excerpt: 'slow down', bodyRead: 'Capped' }),
      response(302, { location: 'https://x.example' }),
      networkError('Tls'),
    ];
    for (const result of results) expect(AttemptResult.decode(JSON.parse(JSON.stringify(result)))).toEqual(E.right(result));
    const reasons: PoisonReason[] = [
      { kind: 'AttemptsExhausted', attempts: 8 },
      { kind: 'Rejected', status: 400 },
      { kind: 'Redirected', status: 301, location: 'https://x.example' },
      { kind: 'Redirected', status: 301 },
      { kind: 'UnexpectedStatus', status: 600 },
      { kind: 'DestinationNotAllowed', message: '127.0.0.1 is loopback' },
      { kind: 'InvalidUrl', message: 'ftp: is not http(s)' },
      { kind: 'InvalidRequest', message: 'bad header' },
    ];
    for (const reason of reasons) expect(PoisonReason.decode(JSON.parse(JSON.stringify(reason)))).toEqual(E.right(reason));
  });

  it('reject malformed records', () => {
    expect(E.isLeft(AttemptResult.decode({ kind: 'Response', status: '200' }))).toBe(true);
    expect(E.isLeft(AttemptResult.decode({ kind: 'NetworkError', error: 'Gremlins', message: '', latencyMs: 1 }))).toBe(true);
    expect(E.isLeft(PoisonReason.decode({ kind: 'Gone' }))).toBe(true);
  });
});
