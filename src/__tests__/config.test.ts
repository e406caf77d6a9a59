import * as E from 'fp-ts/Either';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, decodeConfig, DEFAULTS, SETTINGS } from '../config';

const INGEST = 'ingest-key-0123456789';
const ADMIN = 'admin-key-0123456789ab';
const SUBJECT_KEY = 'subject-hash-key-0123456789abcdefghij';
const minimal = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', INGEST_API_KEY: INGEST, ADMIN_API_KEY: ADMIN, SUBJECT_HASH_KEY: SUBJECT_KEY };

const problems = (env: NodeJS.ProcessEnv): readonly string[] => {
  const decoded = decodeConfig(env);
  if (E.isRight(decoded)) throw new Error('expected the settings to be refused');
  expect(decoded.left).toBeInstanceOf(ConfigError);
  return decoded.left.problems;
};

describe('settings', () => {
  it('decodes the required settings and applies the defaults', () => {
    expect(decodeConfig(minimal)).toEqual(
      E.right(
        expect.objectContaining({
          ...minimal,
          MAX_EVENT_BODY_BYTES: 32768,
          WEBHOOKS_TABLE: 'webhooks',
          EVENTS_TABLE: 'events',
          DELIVERIES_QUEUE: 'deliveries',
          ALLOW_PRIVATE_DESTINATIONS: false,
          ATTEMPTS_TABLE: 'attempts',
          DURABLE_TASK_HUB: 'WebhookDispatcher',
          FANOUT_PAGE_SIZE: 200,
          FANOUT_STEP_SIZE: 1000,
          MAX_DELIVERIES_PER_MESSAGE: 50,
          DELIVERY_TIMEOUT_MS: 10_000,
          RETRY_SCHEDULE_SECONDS: [5, 300, 1800, 7200, 18000, 36000, 36000],
          RETRY_JITTER_RATIO: 0.2,
          MAX_RESPONSE_BYTES: 4096,
          MAX_CONNECTIONS_PER_ORIGIN: 32,
          RETENTION_DAYS: 30,
          RETENTION_SCHEDULE: '0 5 * * * *',
          RETENTION_MAX_EVENTS_PER_RUN: 1000,
          PRIVACY_TABLE: 'privacy',
        }),
      ),
    );
  });

  it('has a default for every setting but storage, the two keys and the subject hash key', () => {
    const decoded = decodeConfig(minimal);
    if (E.isLeft(decoded)) throw decoded.left;
    expect(Object.keys(SETTINGS).filter((name) => !(name in DEFAULTS)).sort()).toEqual(['ADMIN_API_KEY', 'AzureWebJobsStorage', 'INGEST_API_KEY', 'SUBJECT_HASH_KEY']);
    expect(Object.keys(decoded.right).sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it('decodes every value given as a string', () => {
    const decoded = decodeConfig({ ...minimal, MAX_EVENT_BODY_BYTES: '1024', WEBHOOKS_TABLE: 'hooks1', EVENTS_TABLE: 'ev2', DELIVERIES_QUEUE: 'my-deliveries', ALLOW_PRIVATE_DESTINATIONS: 'true' });
    expect(decoded).toEqual(E.right(expect.objectContaining({ MAX_EVENT_BODY_BYTES: 1024, WEBHOOKS_TABLE: 'hooks1', EVENTS_TABLE: 'ev2', DELIVERIES_QUEUE: 'my-deliveries', ALLOW_PRIVATE_DESTINATIONS: true })));
  });

  it('names every missing setting', () => {
    expect(problems({})).toEqual([
      'AzureWebJobsStorage: is required (a non-empty string)',
      'INGEST_API_KEY: is required (a secret of at least 16 characters, without spaces)',
      'ADMIN_API_KEY: is required (a secret of at least 16 characters, without spaces)',
      'SUBJECT_HASH_KEY: is required (a secret of at least 32 characters, without spaces)',
    ]);
  });

  it.each([
    ['INGEST_API_KEY', 'short', 'INGEST_API_KEY: must be a secret of at least 16 characters, without spaces'],
    ['ADMIN_API_KEY', 'has spaces in it, long enough', 'ADMIN_API_KEY: must be a secret of at least 16 characters, without spaces'],
    ['MAX_EVENT_BODY_BYTES', '12kb', 'MAX_EVENT_BODY_BYTES: must be an integer from 2 to 49152'],
    ['MAX_EVENT_BODY_BYTES', '100000', 'MAX_EVENT_BODY_BYTES: must be an integer from 2 to 49152'],
    ['WEBHOOKS_TABLE', 'web-hooks', 'WEBHOOKS_TABLE: must be a table name (a letter, then 2-62 letters or digits)'],
    ['EVENTS_TABLE', '1events', 'EVENTS_TABLE: must be a table name (a letter, then 2-62 letters or digits)'],
    ['DELIVERIES_QUEUE', 'Deliveries', 'DELIVERIES_QUEUE: must be a queue name (3-63 lower-case letters, digits and single hyphens, not at either end)'],
    ['DELIVERIES_QUEUE', 'a--b', 'DELIVERIES_QUEUE: must be a queue name (3-63 lower-case letters, digits and single hyphens, not at either end)'],
    ['ALLOW_PRIVATE_DESTINATIONS', 'yes', 'ALLOW_PRIVATE_DESTINATIONS: must be "true" or "false"'],
    ['SUBJECT_HASH_KEY', 'shorter-than-32-characters', 'SUBJECT_HASH_KEY: must be a secret of at least 32 characters, without spaces'],
    ['RETENTION_DAYS', '0', 'RETENTION_DAYS: must be an integer from 1 to 3650'],
    ['RETENTION_SCHEDULE', '0 * * * *', 'RETENTION_SCHEDULE: must be an NCRONTAB schedule of six fields (e.g. 0 5 * * * *)'],
    ['RETENTION_MAX_EVENTS_PER_RUN', 'many', 'RETENTION_MAX_EVENTS_PER_RUN: must be an integer from 1 to 100000'],
    ['PRIVACY_TABLE', 'privacy-index', 'PRIVACY_TABLE: must be a table name (a letter, then 2-62 letters or digits)'],
  ])('refuses a bad %s with a message naming it', (name, value, message) => {
    expect(problems({ ...minimal, [name]: value })).toEqual([message]);
  });

  it('never prints the value of a bad secret', () => {
    const decoded = decodeConfig({ ...minimal, INGEST_API_KEY: 'tiny-secret' });
    expect(E.isLeft(decoded) && decoded.left.message).toContain('INGEST_API_KEY');
    expect(E.isLeft(decoded) && decoded.left.message).not.toContain('tiny-secret');
  });

  it('refuses the same key for ingest and admin', () => {
    expect(problems({ ...minimal, ADMIN_API_KEY: INGEST })).toEqual(['ADMIN_API_KEY: must differ from INGEST_API_KEY']);
  });

  it('local.settings.json.example holds every setting, and they decode', () => {
    const example = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'local.settings.json.example'), 'utf8')) as { Values: Record<string, string> };
    const decoded = decodeConfig(example.Values);
    expect(E.isRight(decoded)).toBe(true);
    if (E.isRight(decoded)) for (const name of Object.keys(decoded.right)) expect(Object.keys(example.Values)).toContain(name);
    expect(example.Values.FUNCTIONS_WORKER_RUNTIME).toBe('node');
  });
});
