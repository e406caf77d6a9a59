import * as E from 'fp-ts/Either';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, decodeConfig, DEFAULTS, SETTINGS } from '../config';

const INGEST = 'ingest-key-0123456789';
const ADMIN = 'admin-key-0123456789ab';
const minimal = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', INGEST_API_KEY: INGEST, ADMIN_API_KEY: ADMIN };

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
        }),
      ),
    );
  });

  it('has a default for every setting but storage and the two keys', () => {
    const decoded = decodeConfig(minimal);
    if (E.isLeft(decoded)) throw decoded.left;
    expect(Object.keys(SETTINGS).filter((name) => !(name in DEFAULTS)).sort()).toEqual(['ADMIN_API_KEY', 'AzureWebJobsStorage', 'INGEST_API_KEY']);
    expect(Object.keys(decoded.right).sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it('decodes every value given as a string', () => {
    const decoded = decodeConfig({ ...minimal, MAX_EVENT_BODY_BYTES: '1024', WEBHOOKS_TABLE: 'hooks1', EVENTS_TABLE: 'ev2', DELIVERIES_QUEUE: 'my-deliveries', ALLOW_PRIVATE_DESTINATIONS: 'true' });
    expect(decoded).toEqual(E.right(expect.objectContaining({ MAX_EVENT_BODY_BYTES: 1024, WEBHOOKS_TABLE: 'hooks1', EVENTS_TABLE: 'ev2', DELIVERIES_QUEUE: 'my-deliveries', ALLOW_PRIVATE_DESTINATIONS: true })));
  });

  it('names every missing setting', () => {
    expect(problems({})).toEqual([
      expect.stringMatching(/^AzureWebJobsStorage: is required \(a storage connection string, or AzureWebJobsStorage__accountName/),
      'INGEST_API_KEY: is required (a secret of at least 16 characters, without spaces)',
      'ADMIN_API_KEY: is required (a secret of at least 16 characters, without spaces)',
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

describe('identity-based storage (AzureWebJobsStorage__accountName)', () => {
  const keys = { INGEST_API_KEY: INGEST, ADMIN_API_KEY: ADMIN };

  it('takes the account name, and the optional credential and client id, when no connection string is set', () => {
    const decoded = decodeConfig({ ...keys, AzureWebJobsStorage__accountName: 'webhooksprod', AzureWebJobsStorage__credential: 'managedidentity', AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-000000000001' });
    expect(E.isRight(decoded) && decoded.right.AzureWebJobsStorage).toEqual({ accountName: 'webhooksprod', credential: 'managedidentity', clientId: '00000000-0000-0000-0000-000000000001' });
    const plain = decodeConfig({ ...keys, AzureWebJobsStorage__accountName: 'webhooksprod' });
    expect(E.isRight(plain) && plain.right.AzureWebJobsStorage).toEqual({ accountName: 'webhooksprod' });
  });

  it('prefers a connection string when both are set (local runs keep theirs)', () => {
    const decoded = decodeConfig({ ...minimal, AzureWebJobsStorage__accountName: 'webhooksprod' });
    expect(E.isRight(decoded) && decoded.right.AzureWebJobsStorage).toBe('UseDevelopmentStorage=true');
  });

  it('names the setting when neither is set, or the identity settings are bad', () => {
    expect(problems(keys)).toEqual([expect.stringMatching(/^AzureWebJobsStorage: is required \(a storage connection string, or AzureWebJobsStorage__accountName/)]);
    expect(problems({ ...keys, AzureWebJobsStorage__accountName: 'Not_An_Account' })).toEqual([expect.stringMatching(/^AzureWebJobsStorage/)]);
    expect(problems({ ...keys, AzureWebJobsStorage__accountName: 'webhooksprod', AzureWebJobsStorage__credential: 'password' })).toEqual([expect.stringMatching(/^AzureWebJobsStorage/)]);
  });
});
