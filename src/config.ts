import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { formatValidationErrors } from './domain/decodeErrors';
import { DELIVERY_DEFAULTS, DELIVERY_SETTINGS } from './domain/deliverySettings';
import { NonEmptyString, patternString, refinedString } from './domain/strings';
import type { PortRanges } from './domain/destination';
import { EVENT_NAMES } from './domain/catalogue';
import { BooleanFromString, IntegerFromString } from './domain/stringCodecs';
import { integerIn, listOf } from './domain/stringValues';
import { SecretsKey, SecretsKeyList } from './domain/secretBox';
import { WebhookSecret, WebhookUrl } from './domain/webhook';

/*
 * Every setting of the app, decoded once from the environment by one codec. To add a setting, add a
 * field to SETTINGS (with a default in DEFAULTS when it has a safe one) and list it in
 * local.settings.json.example and the README.
 */

export const MIN_API_KEY_LENGTH = 32;
/** Event Grid's limit; payloads over 24 KB travel by claim check (a blob), not in queue messages. */
export const MAX_EVENT_BODY_BYTES_LIMIT = 1024 * 1024;

/** An API key: long enough that guessing is hopeless; its value never appears in messages. */
export const ApiKey = refinedString<'ApiKey'>(`a secret of at least ${MIN_API_KEY_LENGTH} characters, without spaces`, (s) => s.length >= MIN_API_KEY_LENGTH && !/\s/.test(s));

/** A comma-separated list of catalogue event names ('' = none), for DISABLED_EVENTS. */
export const EventNameList = new t.Type<readonly string[], string, unknown>(
  `a comma-separated list of event names (${EVENT_NAMES.join(', ')})`,
  (u): u is readonly string[] => Array.isArray(u) && u.every((x) => typeof x === 'string' && (EVENT_NAMES as string[]).includes(x)),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c);
    const names = listOf(u);
    return names.every((n) => (EVENT_NAMES as string[]).includes(n)) ? t.success(names) : t.failure(u, c);
  },
  (a) => a.join(','),
);

/** The key of the erasure index's subject hashes: long, and stable forever (a new one orphans the index: docs/privacy.md). */
export const MIN_SUBJECT_HASH_KEY_LENGTH = 32;
export const SubjectHashKey = refinedString<'SubjectHashKey'>(
  `a secret of at least ${MIN_SUBJECT_HASH_KEY_LENGTH} characters, without spaces`,
  (s) => s.length >= MIN_SUBJECT_HASH_KEY_LENGTH && !/\s/.test(s),
);

/** An NCRONTAB schedule as the Functions host reads it: six fields (seconds first). */
export const NcrontabSchedule = refinedString<'NcrontabSchedule'>('an NCRONTAB schedule of six fields (e.g. 0 5 * * * *)', (s) => /^\S+( \S+){5}$/.test(s.trim()));
/** An identity-based storage connection, as the Functions host reads `AzureWebJobsStorage__*` settings. */
export const IdentityStorage = t.intersection(
  [
    t.type({ accountName: patternString<'StorageAccountName'>('a storage account name (3-24 lower-case letters and digits)', /^[a-z0-9]{3,24}$/) }),
    t.partial({ credential: t.literal('managedidentity'), clientId: NonEmptyString }),
  ],
  'IdentityStorage',
);
export type IdentityStorage = t.TypeOf<typeof IdentityStorage>;

const StorageUnion = t.union([NonEmptyString, IdentityStorage]);

/**
 * `AzureWebJobsStorage`: a connection string, or the identity-based `AzureWebJobsStorage__accountName`
 * (+ `__credential`, `__clientId`). One problem when neither decodes, not one per alternative.
 */
export const StorageConnection = new t.Type<t.TypeOf<typeof StorageUnion>, unknown, unknown>(
  'a storage connection string, or AzureWebJobsStorage__accountName (3-24 lower-case letters and digits; __credential "managedidentity" or unset) for an identity-based connection',
  StorageUnion.is,
  (u, c) => {
    const decoded = StorageUnion.validate(u, c);
    return E.isRight(decoded) ? decoded : t.failure(u, c);
  },
  (a) => a,
);
export type StorageConnection = t.TypeOf<typeof StorageConnection>;

/** The storage setting's raw value: the connection string when set, else the identity-based settings (undefined when neither is). */
const storageInput = (env: NodeJS.ProcessEnv): unknown => {
  const connectionString = env.AzureWebJobsStorage;
  if (connectionString !== undefined && connectionString !== '') return connectionString;
  const accountName = env.AzureWebJobsStorage__accountName;
  if (accountName === undefined || accountName === '') return undefined;
  const optional = (name: string): Record<string, string> => {
    const value = env[`AzureWebJobsStorage__${name}`];
    return value === undefined || value === '' ? {} : { [name]: value };
  };
  return { accountName, ...optional('credential'), ...optional('clientId') };
};

/** ALLOWED_DESTINATION_PORTS: `443,8443,9000-9100`; '' = any port. */
export const PortRangesFromString = new t.Type<PortRanges, string, unknown>(
  'a comma-separated list of ports or port ranges from 1 to 65535 (e.g. 443,8443,9000-9100), or empty for any',
  (u): u is PortRanges => Array.isArray(u),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c);
    const ranges: { from: number; to: number }[] = [];
    for (const part of listOf(u)) {
      const [first, last, ...rest] = part.split('-');
      const from = integerIn(first ?? '', { min: 1, max: 65535 });
      const to = last === undefined ? from : integerIn(last, { min: 1, max: 65535 });
      if (rest.length > 0 || from === undefined || to === undefined || from > to) return t.failure(u, c);
      ranges.push({ from, to });
    }
    return t.success(ranges);
  },
  (a) => a.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(','),
);

export const TableName = patternString<'TableName'>('a table name (a letter, then 2-62 letters or digits)', /^[A-Za-z][A-Za-z0-9]{2,62}$/);
/** '' (not set) or the codec's value: for settings that switch a feature on. */
const OrEmpty = <A>(codec: t.Type<A, string, unknown>): t.Type<A | '', string, unknown> =>
  new t.Type<A | '', string, unknown>(
    `${codec.name}, or empty`,
    (u): u is A | '' => u === '' || codec.is(u),
    (u, c) => (u === '' ? t.success('' as const) : codec.validate(u, c)),
    (a) => (a === '' ? '' : codec.encode(a)),
  );

export const QueueName = patternString<'QueueName'>('a queue name (3-63 lower-case letters, digits and single hyphens, not at either end)', /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/);

export const SETTINGS = {
  AzureWebJobsStorage: StorageConnection,
  INGEST_API_KEY: ApiKey,
  ADMIN_API_KEY: ApiKey,
  MAX_EVENT_BODY_BYTES: IntegerFromString({ min: 2, max: MAX_EVENT_BODY_BYTES_LIMIT }),
  WEBHOOKS_TABLE: TableName,
  EVENTS_TABLE: TableName,
  DELIVERIES_QUEUE: QueueName,
  ALLOW_PRIVATE_DESTINATIONS: BooleanFromString,
  /** Ports a webhook URL may use, checked at registration and at every connection; '' = any. */
  ALLOWED_DESTINATION_PORTS: PortRangesFromString,
  ATTEMPTS_TABLE: TableName,
  /** host.json names the task hub `%DURABLE_TASK_HUB%`: apps (or test runs) sharing storage keep apart by it. */
  DURABLE_TASK_HUB: patternString<'TaskHubName'>('a task hub name (a letter, then 2-44 letters or digits)', /^[A-Za-z][A-Za-z0-9]{2,44}$/),
  /** Webhooks ingest reads and enqueues before it answers 202 (the first page of the fan-out). */
  FANOUT_PAGE_SIZE: IntegerFromString({ min: 1, max: 1000 }),
  /** Webhooks per page of the orchestration (one activity, one table query: at most 1000). */
  FANOUT_STEP_SIZE: IntegerFromString({ min: 1, max: 1000 }),
  /** Deliveries carried by one queue message and sent concurrently by one worker invocation. */
  MAX_DELIVERIES_PER_MESSAGE: IntegerFromString({ min: 1, max: 100 }),
  /** Whether a webhook that does not say `verify` must pass endpoint verification (docs/tenants.md). */
  VERIFY_ENDPOINTS_DEFAULT: BooleanFromString,
  /** Events this deployment does not emit, switched off without a deploy (docs/tenants.md). */
  DISABLED_EVENTS: EventNameList,
  /** How long an instance's fan-out keeps tenants' routing grants: the bound for a change made elsewhere (docs/tenants.md). */
  TENANT_GRANTS_CACHE_SECONDS: IntegerFromString({ min: 0, max: 300 }),
  /** How long an instance's fan-out keeps a first page of webhooks and its worker the webhooks it read: the bound for another instance's registry write (docs/architecture.md item 28). */
  REGISTRY_CACHE_MS: IntegerFromString({ min: 0, max: 60_000 }),
  /** Encrypts webhook signing secrets at rest: `<keyId>:<base64 of 32 bytes>` (docs/secrets.md). */
  SECRETS_KEY: SecretsKey,
  /** Older keys, comma-separated, kept only to decrypt rows written before a rotation. */
  SECRETS_KEYS_PREVIOUS: SecretsKeyList,
  /** true only on the local host and the compose stack: lets the example keys in (never in Azure). */
  DEVELOPMENT_MODE: BooleanFromString,
  /** Keys the erasure index (HMAC-SHA256 of a fiscal code); required, never rotated (docs/privacy.md). */
  SUBJECT_HASH_KEY: SubjectHashKey,
  /** Events, attempts, poison entries and finished orchestrations older than this are purged. */
  RETENTION_DAYS: IntegerFromString({ min: 1, max: 3650 }),
  /** When the retention purge runs (the timer binding reads it as `%RETENTION_SCHEDULE%`). */
  RETENTION_SCHEDULE: NcrontabSchedule,
  /** Events one purge run looks at, at most: bounded work; the next run goes on. */
  RETENTION_MAX_EVENTS_PER_RUN: IntegerFromString({ min: 1, max: 100_000 }),
  /** The retention and erasure indexes (docs/privacy.md). */
  PRIVACY_TABLE: TableName,
  /** Deadline of one storage call (retries included): storage that hangs gets a 503, not a request held without bound. */
  STORAGE_TIMEOUT_MS: IntegerFromString({ min: 100, max: 120_000 }),
  /** Age after which an event still `accepted` (never answered 202) is removed by the sweep timer. */
  STRANDED_EVENT_SECONDS: IntegerFromString({ min: 60, max: 604_800 }),
  ...DELIVERY_SETTINGS,
  /** Endpoint health (docs/delivery.md): a webhook failing this long (0 = never) ... */
  AUTO_DISABLE_AFTER_SECONDS: IntegerFromString({ min: 0, max: 366 * 24 * 3600 }),
  /** ... and at least this many attempts in a row is disabled. */
  AUTO_DISABLE_MIN_FAILURES: IntegerFromString({ min: 1, max: 1_000_000 }),
  /** Where the dispatcher sends its own signed events ('' = nowhere): webhook.disabled, delivery.exhausted, replay.completed. */
  OPS_WEBHOOK_URL: OrEmpty(WebhookUrl),
  OPS_WEBHOOK_SECRET: OrEmpty(WebhookSecret),
  /** Per-webhook hourly counters behind GET /api/webhooks/{id}/stats. */
  STATS_TABLE: TableName,
  /** Send slots of rate-limited webhooks (`rateLimitPerSecond`), one row each, shared by every instance. */
  RATE_LIMITS_TABLE: TableName,
  /** The private blob container of large event payloads (the claim check: docs/delivery.md, "Large payloads"). */
  PAYLOADS_CONTAINER: patternString<'ContainerName'>('a blob container name (3-63 lower-case letters, digits and single hyphens, not at either end)', /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/),
  /** Request bodies a process sends at once, at most: bounds the memory of large payloads fanned out wide. */
  MAX_INFLIGHT_DELIVERY_BYTES: IntegerFromString({ min: MAX_EVENT_BODY_BYTES_LIMIT, max: 1024 * 1024 * 1024 }),
};

/** Settings with a safe default; the others (storage, keys) must be set. */
export const DEFAULTS: Partial<Record<keyof typeof SETTINGS, string>> = {
  MAX_EVENT_BODY_BYTES: String(32 * 1024),
  WEBHOOKS_TABLE: 'webhooks',
  EVENTS_TABLE: 'events',
  DELIVERIES_QUEUE: 'deliveries',
  ALLOW_PRIVATE_DESTINATIONS: 'false',
  ALLOWED_DESTINATION_PORTS: '',
  ATTEMPTS_TABLE: 'attempts',
  DURABLE_TASK_HUB: 'WebhookDispatcher',
  FANOUT_PAGE_SIZE: '200',
  FANOUT_STEP_SIZE: '1000',
  // 100 (was 50): fan-out 100 at 0.5 ms of host CPU per delivery instead of 0.7-0.8 (bench/README.md).
  MAX_DELIVERIES_PER_MESSAGE: '100',
  VERIFY_ENDPOINTS_DEFAULT: 'false',
  DISABLED_EVENTS: '',
  TENANT_GRANTS_CACHE_SECONDS: '5',
  REGISTRY_CACHE_MS: '1000',
  SECRETS_KEYS_PREVIOUS: '',
  DEVELOPMENT_MODE: 'false',
  RETENTION_DAYS: '30',
  RETENTION_SCHEDULE: '0 5 * * * *',
  RETENTION_MAX_EVENTS_PER_RUN: '1000',
  PRIVACY_TABLE: 'privacy',
  STORAGE_TIMEOUT_MS: '5000',
  STRANDED_EVENT_SECONDS: '900',
  ...DELIVERY_DEFAULTS,
  AUTO_DISABLE_AFTER_SECONDS: String(5 * 24 * 3600),
  AUTO_DISABLE_MIN_FAILURES: '10',
  OPS_WEBHOOK_URL: '',
  OPS_WEBHOOK_SECRET: '',
  STATS_TABLE: 'webhookstats',
  RATE_LIMITS_TABLE: 'webhookratelimits',
  PAYLOADS_CONTAINER: 'event-payloads',
  MAX_INFLIGHT_DELIVERY_BYTES: String(32 * 1024 * 1024),
};

export const Config = t.type(SETTINGS, 'Config');
export type Config = t.TypeOf<typeof Config>;

export class ConfigError extends Error {
  /** The names of the settings at fault, for answers that must not say more (never their values). */
  readonly settings: readonly string[];
  constructor(readonly problems: readonly string[]) {
    super(`Invalid settings (fix them in the app settings or local.settings.json):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.settings = [...new Set(problems.map((p) => /^([A-Za-z0-9_]+)/.exec(p)?.[1] ?? 'settings'))];
  }
}

/**
 * App Service leaves a Key Vault reference it cannot resolve as the setting's literal text (infra/main.bicep
 * uses them): that text is no secret, so the app must refuse to start rather than accept it as a key.
 */
const unresolvedReferences = (config: Config): string[] =>
  (['AzureWebJobsStorage', 'INGEST_API_KEY', 'ADMIN_API_KEY', 'SUBJECT_HASH_KEY'] as const)
    .filter((name) => {
      const value = config[name];
      return typeof value === 'string' && /^@Microsoft\.KeyVault\(/i.test(value);
    })
    .map((name) => `${name}: is a Key Vault reference the platform could not resolve (give the app's identity read access to the secret, then restart the app)`);

/** The secrets keys do not decode from a reference's text: their problem says what the text is instead. */
const SECRETS_KEY_SETTINGS = ['SECRETS_KEY', 'SECRETS_KEYS_PREVIOUS'] as const;
/** A raw setting as text ('' when absent or not a string: the storage setting may be an object). */
const textOf = (value: unknown): string => (typeof value === 'string' ? value : '');

const withUnresolvedSecretsKeys = (problems: readonly string[], input: Readonly<Record<string, unknown>>): string[] =>
  problems.map((p) => {
    const name = SECRETS_KEY_SETTINGS.find((n) => p.startsWith(`${n}:`) && /^@Microsoft\.KeyVault\(/i.test(textOf(input[n])));
    return name === undefined ? p : `${name}: is a Key Vault reference the platform could not resolve (give the app's identity read access to the secret, then restart the app)`;
  });

/** Rules across settings: one leaked key must not open the other door. */
const crossChecks = (config: Config): string[] => [
  ...unresolvedReferences(config),
  ...(config.INGEST_API_KEY === config.ADMIN_API_KEY ? ['ADMIN_API_KEY: must differ from INGEST_API_KEY'] : []),
  ...(config.OPS_WEBHOOK_URL !== '' && config.OPS_WEBHOOK_SECRET === '' ? ['OPS_WEBHOOK_SECRET: is required when OPS_WEBHOOK_URL is set (whsec_ + base64)'] : []),
  // Above the origin's sockets the bound would not keep one URL from taking them all.
  ...(config.MAX_INFLIGHT_REQUESTS_PER_ENDPOINT > config.MAX_CONNECTIONS_PER_ORIGIN ? ['MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: must not exceed MAX_CONNECTIONS_PER_ORIGIN'] : []),
];

/**
 * The keys written in local.settings.json.example and docker-compose.yml: public, so they open
 * nothing outside the local host and the compose stack (a test keeps this list and the files in step).
 */
export const EXAMPLE_KEYS: Readonly<Record<'INGEST_API_KEY' | 'ADMIN_API_KEY' | 'SECRETS_KEY' | 'SUBJECT_HASH_KEY', readonly string[]>> = {
  INGEST_API_KEY: ['dev-only-ingest-key-change-me-0123456789', 'compose-ingest-key-change-me-0123456789'],
  ADMIN_API_KEY: ['dev-only-admin-key-change-me-0123456789', 'compose-admin-key-change-me-0123456789'],
  SECRETS_KEY: ['dev:6Caa8Gqu9Z7UFtX5qLsFKu3oqOYoxJZU1FX9dGR4/Us=', 'compose:fNc4rs7X5Bb8wS4u3oSoL3qRPvKMGcigaXmcW/6EPVI='],
  // A published subject key would let anyone recompute the erasure index's hashes of known fiscal codes.
  SUBJECT_HASH_KEY: ['dev-only-subject-hash-key-change-me-0123456789', 'compose-subject-hash-key-change-me-0123456789'],
};

/**
 * An example key is refused unless DEVELOPMENT_MODE=true, and always on Azure (it sets
 * WEBSITE_INSTANCE_ID on every instance), so a copied dev settings file cannot slip through there.
 */
const exampleKeyChecks = (input: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): string[] => {
  const onAzure = env.WEBSITE_INSTANCE_ID !== undefined && env.WEBSITE_INSTANCE_ID !== '';
  if (input.DEVELOPMENT_MODE === 'true' && !onAzure) return [];
  const why = onAzure ? 'the app runs in Azure (WEBSITE_INSTANCE_ID is set)' : 'DEVELOPMENT_MODE is not "true"';
  return (Object.keys(EXAMPLE_KEYS) as (keyof typeof EXAMPLE_KEYS)[])
    .filter((name) => EXAMPLE_KEYS[name].includes(textOf(input[name]).trim()))
    .map((name) => `${name}: is a published example key, refused because ${why}; set a key of your own`);
};

/** Decodes the settings from an environment; problems name the setting, never its value. */
export const decodeConfig = (env: NodeJS.ProcessEnv): E.Either<ConfigError, Config> => {
  const input: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS) as (keyof typeof SETTINGS)[]) {
    const value = env[name];
    input[name] = value === undefined || value === '' ? DEFAULTS[name] : value;
  }
  input.AzureWebJobsStorage = storageInput(env);
  return pipe(
    Config.decode(input),
    E.mapLeft((errors) => new ConfigError(withUnresolvedSecretsKeys(formatValidationErrors(errors), input))),
    E.chain((config) => {
      const problems = [...crossChecks(config), ...exampleKeyChecks(input, env)];
      return problems.length === 0 ? E.right(config) : E.left(new ConfigError(problems));
    }),
  );
};

let cached: Config | undefined;

/** The settings of this process, decoded on first use; throws a ConfigError naming every bad setting. */
export const getConfig = (): Config => {
  if (cached === undefined) {
    const decoded = decodeConfig(process.env);
    if (E.isLeft(decoded)) throw decoded.left;
    cached = decoded.right;
  }
  return cached;
};
