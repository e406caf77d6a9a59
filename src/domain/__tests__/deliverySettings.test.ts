import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { DEFAULT_RETRY_POLICY } from '../backoff';
import { DELIVERY_DEFAULTS, DELIVERY_SETTINGS, DeliverySettings, retryPolicyOf } from '../deliverySettings';

const decodeOne = <A>(codec: t.Type<A, string, unknown>, value: unknown): E.Either<t.Errors, A> => codec.decode(value);

describe('DeliverySettings', () => {
  it('decodes its defaults to the documented values', () => {
    expect(DeliverySettings.decode(DELIVERY_DEFAULTS)).toEqual(
      E.right({
        DELIVERY_TIMEOUT_MS: 15000,
        RETRY_SCHEDULE_SECONDS: [5, 300, 1800, 7200, 18000, 36000, 36000],
        RETRY_JITTER_RATIO: 0.2,
        MAX_RESPONSE_BYTES: 4096,
        MAX_CONNECTIONS_PER_ORIGIN: 32,
        MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: 8,
        CIRCUIT_BREAKER_TIMEOUTS: 3,
        CIRCUIT_BREAKER_COOLDOWN_MS: 30000,
      }),
    );
  });

  it('gives back the default retry policy from the defaults', () => {
    const decoded = DeliverySettings.decode(DELIVERY_DEFAULTS);
    expect(E.map(retryPolicyOf)(decoded)).toEqual(E.right(DEFAULT_RETRY_POLICY));
  });

  it('encodes back to the same strings', () => {
    const decoded = DeliverySettings.decode(DELIVERY_DEFAULTS);
    expect(E.map(DeliverySettings.encode)(decoded)).toEqual(E.right(DELIVERY_DEFAULTS));
  });

  it('reads short test schedules and values with spaces', () => {
    expect(decodeOne(DELIVERY_SETTINGS.RETRY_SCHEDULE_SECONDS, '0, 1 ,2')).toEqual(E.right([0, 1, 2]));
    expect(decodeOne(DELIVERY_SETTINGS.RETRY_SCHEDULE_SECONDS, '604800')).toEqual(E.right([604800]));
    expect(decodeOne(DELIVERY_SETTINGS.RETRY_JITTER_RATIO, '0')).toEqual(E.right(0));
    expect(decodeOne(DELIVERY_SETTINGS.RETRY_JITTER_RATIO, '.5')).toEqual(E.right(0.5));
    expect(decodeOne(DELIVERY_SETTINGS.RETRY_JITTER_RATIO, '1')).toEqual(E.right(1));
    expect(decodeOne(DELIVERY_SETTINGS.DELIVERY_TIMEOUT_MS, ' 500 ')).toEqual(E.right(500));
    expect(decodeOne(DELIVERY_SETTINGS.MAX_RESPONSE_BYTES, '0')).toEqual(E.right(0));
  });

  it.each<[keyof typeof DELIVERY_SETTINGS, unknown]>([
    ['RETRY_SCHEDULE_SECONDS', ''],
    ['RETRY_SCHEDULE_SECONDS', '5,,10'],
    ['RETRY_SCHEDULE_SECONDS', '5,-1'],
    ['RETRY_SCHEDULE_SECONDS', '1.5'],
    ['RETRY_SCHEDULE_SECONDS', '604801'], // beyond the queue's 7-day visibility limit
    ['RETRY_SCHEDULE_SECONDS', Array(51).fill('1').join(',')],
    ['RETRY_SCHEDULE_SECONDS', [5, 10]],
    ['RETRY_JITTER_RATIO', '1.01'],
    ['RETRY_JITTER_RATIO', '-0.1'],
    ['RETRY_JITTER_RATIO', '20%'],
    ['RETRY_JITTER_RATIO', ''],
    ['DELIVERY_TIMEOUT_MS', '99'],
    ['DELIVERY_TIMEOUT_MS', '10s'],
    ['DELIVERY_TIMEOUT_MS', '300001'],
    ['MAX_RESPONSE_BYTES', '32769'],
    ['MAX_CONNECTIONS_PER_ORIGIN', '0'],
    ['MAX_CONNECTIONS_PER_ORIGIN', undefined],
    ['MAX_INFLIGHT_REQUESTS_PER_ENDPOINT', '0'],
    ['MAX_INFLIGHT_REQUESTS_PER_ENDPOINT', '4 requests'],
  ])('rejects %s = %j', (name, value) => {
    expect(E.isLeft(decodeOne(DELIVERY_SETTINGS[name] as t.Type<unknown, string, unknown>, value))).toBe(true);
  });

  it('names the expected form in its codec names, for readable config errors', () => {
    expect(DELIVERY_SETTINGS.RETRY_SCHEDULE_SECONDS.name).toContain('comma-separated');
    expect(DELIVERY_SETTINGS.DELIVERY_TIMEOUT_MS.name).toBe('an integer from 100 to 300000');
  });
});
