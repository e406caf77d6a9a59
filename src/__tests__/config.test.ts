import * as E from 'fp-ts/Either';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, decodeConfig, DEFAULTS, EXAMPLE_KEYS, SETTINGS } from '../config';
import { TEST_SECRETS_KEY } from '../domain/__tests__/fixtures';

const INGEST = 'ingest-key-0123456789-abcdefghijklmnop';
const ADMIN = 'admin-key-0123456789ab-abcdefghijklmnop';
const minimal = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  INGEST_API_KEY: INGEST,
  ADMIN_API_KEY: ADMIN,
  SECRETS_KEY: TEST_SECRETS_KEY,
  SUBJECT_HASH_KEY: 'subject-hash-key-0123456789abcdefghij',
};

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
          INGEST_API_KEY: INGEST,
          ADMIN_API_KEY: ADMIN,
          SECRETS_KEY: { id: 'test', key: Buffer.alloc(32, 1) },
          SECRETS_KEYS_PREVIOUS: [],
          DEVELOPMENT_MODE: false,
          MAX_EVENT_BODY_BYTES: 32768,
          PAYLOADS_CONTAINER: 'event-payloads',
          MAX_INFLIGHT_DELIVERY_BYTES: 32 * 1024 * 1024,
          WEBHOOKS_TABLE: 'webhooks',
          EVENTS_TABLE: 'events',
          DELIVERIES_QUEUE: 'deliveries',
          ALLOW_PRIVATE_DESTINATIONS: false,
          ATTEMPTS_TABLE: 'attempts',
          DURABLE_TASK_HUB: 'WebhookDispatcher',
          FANOUT_PAGE_SIZE: 200,
          FANOUT_STEP_SIZE: 1000,
          MAX_DELIVERIES_PER_MESSAGE: 100,
          DELIVERY_TIMEOUT_MS: 15_000,
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

  it('has a default for every setting but storage and the four keys', () => {
    const decoded = decodeConfig(minimal);
    if (E.isLeft(decoded)) throw decoded.left;
    expect(
      Object.keys(SETTINGS)
        .filter((name) => !(name in DEFAULTS))
        .sort(),
    ).toEqual(['ADMIN_API_KEY', 'AzureWebJobsStorage', 'INGEST_API_KEY', 'SECRETS_KEY', 'SUBJECT_HASH_KEY']);
    expect(Object.keys(decoded.right).sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it('decodes every value given as a string', () => {
    const decoded = decodeConfig({ ...minimal, MAX_EVENT_BODY_BYTES: '1024', WEBHOOKS_TABLE: 'hooks1', EVENTS_TABLE: 'ev2', DELIVERIES_QUEUE: 'my-deliveries', ALLOW_PRIVATE_DESTINATIONS: 'true' });
    expect(decoded).toEqual(
      E.right(expect.objectContaining({ MAX_EVENT_BODY_BYTES: 1024, WEBHOOKS_TABLE: 'hooks1', EVENTS_TABLE: 'ev2', DELIVERIES_QUEUE: 'my-deliveries', ALLOW_PRIVATE_DESTINATIONS: true })),
    );
  });

  it('names every missing setting', () => {
    expect(problems({})).toEqual([
      expect.stringMatching(/^AzureWebJobsStorage: is required \(a storage connection string, or AzureWebJobsStorage__accountName/),
      'INGEST_API_KEY: is required (a secret of at least 32 characters, without spaces)',
      'ADMIN_API_KEY: is required (a secret of at least 32 characters, without spaces)',
      'SECRETS_KEY: is required (<key id>:<base64 of 32 random bytes> (key id: 1-32 letters, digits, _ or -))',
      'SUBJECT_HASH_KEY: is required (a secret of at least 32 characters, without spaces)',
    ]);
  });

  it.each([
    ['INGEST_API_KEY', 'short', 'INGEST_API_KEY: must be a secret of at least 32 characters, without spaces'],
    // 31 characters: refused outright, DEVELOPMENT_MODE or not.
    ['INGEST_API_KEY', 'a'.repeat(31), 'INGEST_API_KEY: must be a secret of at least 32 characters, without spaces'],
    ['ADMIN_API_KEY', 'has spaces in it, long enough to pass the length rule', 'ADMIN_API_KEY: must be a secret of at least 32 characters, without spaces'],
    ['SECRETS_KEY', `k1:${Buffer.alloc(16, 2).toString('base64')}`, 'SECRETS_KEY: must be <key id>:<base64 of 32 random bytes> (key id: 1-32 letters, digits, _ or -)'],
    ['SECRETS_KEY', Buffer.alloc(32, 2).toString('base64'), 'SECRETS_KEY: must be <key id>:<base64 of 32 random bytes> (key id: 1-32 letters, digits, _ or -)'],
    ['SECRETS_KEYS_PREVIOUS', `${TEST_SECRETS_KEY},old`, 'SECRETS_KEYS_PREVIOUS: must be a comma-separated list of <key id>:<base64 of 32 random bytes> (key id: 1-32 letters, digits, _ or -)'],
    ['DEVELOPMENT_MODE', 'yes', 'DEVELOPMENT_MODE: must be "true" or "false"'],
    ['MAX_EVENT_BODY_BYTES', '12kb', 'MAX_EVENT_BODY_BYTES: must be an integer from 2 to 1048576'],
    ['MAX_EVENT_BODY_BYTES', '1048577', 'MAX_EVENT_BODY_BYTES: must be an integer from 2 to 1048576'],
    ['PAYLOADS_CONTAINER', 'Event_Payloads', 'PAYLOADS_CONTAINER: must be a blob container name (3-63 lower-case letters, digits and single hyphens, not at either end)'],
    ['MAX_INFLIGHT_DELIVERY_BYTES', '1000', 'MAX_INFLIGHT_DELIVERY_BYTES: must be an integer from 1048576 to 1073741824'],
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
    const shortKey = `k1:${Buffer.alloc(31, 7).toString('base64')}`;
    const badKey = decodeConfig({ ...minimal, SECRETS_KEY: shortKey, SECRETS_KEYS_PREVIOUS: `${shortKey},x` });
    expect(E.isLeft(badKey) && badKey.left.problems.map((p) => p.split(':')[0])).toEqual(['SECRETS_KEY', 'SECRETS_KEYS_PREVIOUS']);
    expect(E.isLeft(badKey) && badKey.left.message).not.toContain(shortKey.slice(3));
  });

  it('refuses the same key for ingest and admin', () => {
    expect(problems({ ...minimal, ADMIN_API_KEY: INGEST })).toEqual(['ADMIN_API_KEY: must differ from INGEST_API_KEY']);
  });

  it("refuses a per-endpoint bound above the origin's sockets (it would let one URL take them all)", () => {
    expect(problems({ ...minimal, MAX_CONNECTIONS_PER_ORIGIN: '4', MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: '5' })).toEqual([
      'MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: must not exceed MAX_CONNECTIONS_PER_ORIGIN',
    ]);
    expect(E.isRight(decodeConfig({ ...minimal, MAX_CONNECTIONS_PER_ORIGIN: '4', MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: '4' }))).toBe(true);
  });

  it('local.settings.json.example holds every setting, and they decode', () => {
    const example = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'local.settings.json.example'), 'utf8')) as { Values: Record<string, string> };
    const decoded = decodeConfig(example.Values);
    expect(E.isRight(decoded)).toBe(true);
    if (E.isRight(decoded)) for (const name of Object.keys(decoded.right)) expect(Object.keys(example.Values)).toContain(name);
    expect(example.Values.FUNCTIONS_WORKER_RUNTIME).toBe('node');
  });
});

describe('example keys (local.settings.json.example, docker-compose.yml)', () => {
  const root = path.join(__dirname, '..', '..');
  const example = (JSON.parse(readFileSync(path.join(root, 'local.settings.json.example'), 'utf8')) as { Values: Record<string, string> }).Values;
  const compose = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
  const composeDefault = (name: string): string | undefined => new RegExp(`${name}: \\$\\{${name}:-([^}]+)\\}`).exec(compose)?.[1];
  const withExampleKeys = { ...minimal, INGEST_API_KEY: example.INGEST_API_KEY, ADMIN_API_KEY: example.ADMIN_API_KEY, SECRETS_KEY: example.SECRETS_KEY };

  it('lists in code every key the example files carry, so none of them slips through', () => {
    for (const name of ['INGEST_API_KEY', 'ADMIN_API_KEY', 'SECRETS_KEY'] as const) {
      expect(EXAMPLE_KEYS[name]).toContain(example[name]);
      expect(EXAMPLE_KEYS[name]).toContain(composeDefault(name));
    }
    expect(example.DEVELOPMENT_MODE).toBe('true');
    expect(compose).toMatch(/DEVELOPMENT_MODE: "true"/);
  });

  it('refuses every example key without DEVELOPMENT_MODE=true, naming each setting and echoing no value', () => {
    const decoded = decodeConfig({ ...withExampleKeys, DEVELOPMENT_MODE: 'false' });
    const found = E.isLeft(decoded) ? decoded.left.problems : [];
    expect(found).toEqual([
      'INGEST_API_KEY: is a published example key, refused because DEVELOPMENT_MODE is not "true"; set a key of your own',
      'ADMIN_API_KEY: is a published example key, refused because DEVELOPMENT_MODE is not "true"; set a key of your own',
      'SECRETS_KEY: is a published example key, refused because DEVELOPMENT_MODE is not "true"; set a key of your own',
    ]);
    const message = E.isLeft(decoded) ? decoded.left.message : '';
    for (const value of Object.values(withExampleKeys)) if (value !== minimal.AzureWebJobsStorage) expect(message).not.toContain(value);
  });

  it('refuses the compose keys the same way', () => {
    const composeKeys = { ...minimal, INGEST_API_KEY: composeDefault('INGEST_API_KEY'), ADMIN_API_KEY: composeDefault('ADMIN_API_KEY'), SECRETS_KEY: composeDefault('SECRETS_KEY') };
    expect(problems(composeKeys)).toHaveLength(3);
  });

  it('accepts them with DEVELOPMENT_MODE=true (the local host and the compose stack)', () => {
    expect(decodeConfig({ ...withExampleKeys, DEVELOPMENT_MODE: 'true' })).toEqual(E.right(expect.objectContaining({ DEVELOPMENT_MODE: true })));
  });

  it('refuses them in Azure (WEBSITE_INSTANCE_ID set) even with DEVELOPMENT_MODE=true', () => {
    expect(problems({ ...withExampleKeys, DEVELOPMENT_MODE: 'true', WEBSITE_INSTANCE_ID: 'a1b2c3' })).toEqual([
      'INGEST_API_KEY: is a published example key, refused because the app runs in Azure (WEBSITE_INSTANCE_ID is set); set a key of your own',
      'ADMIN_API_KEY: is a published example key, refused because the app runs in Azure (WEBSITE_INSTANCE_ID is set); set a key of your own',
      'SECRETS_KEY: is a published example key, refused because the app runs in Azure (WEBSITE_INSTANCE_ID is set); set a key of your own',
    ]);
  });

  it('lets keys of your own run in Azure', () => {
    expect(E.isRight(decodeConfig({ ...minimal, WEBSITE_INSTANCE_ID: 'a1b2c3' }))).toBe(true);
  });
});

describe('identity-based storage (AzureWebJobsStorage__accountName)', () => {
  const keys = { INGEST_API_KEY: INGEST, ADMIN_API_KEY: ADMIN, SECRETS_KEY: TEST_SECRETS_KEY, SUBJECT_HASH_KEY: 'subject-hash-key-0123456789abcdefghij' };

  it('takes the account name, and the optional credential and client id, when no connection string is set', () => {
    const decoded = decodeConfig({
      ...keys,
      AzureWebJobsStorage__accountName: 'webhooksprod',
      AzureWebJobsStorage__credential: 'managedidentity',
      AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-000000000001',
    });
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
