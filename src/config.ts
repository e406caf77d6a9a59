import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { formatValidationErrors } from './domain/decodeErrors';
import { DELIVERY_DEFAULTS, DELIVERY_SETTINGS } from './domain/deliverySettings';
import { NonEmptyString, patternString, refinedString } from './domain/strings';
import type { PortRanges } from './domain/destination';
import { EVENT_NAMES } from './domain/catalogue';

/*
 * Every setting of the app, decoded once from the environment by one codec. To add a setting, add a
 * field to SETTINGS (with a default in DEFAULTS when it has a safe one) and list it in
 * local.settings.json.example and the README.
 */

export const MIN_API_KEY_LENGTH = 16;
/** Queue messages hold at most 64 KB encoded (about 48 KB of JSON), and events travel in them. */
export const MAX_EVENT_BODY_BYTES_LIMIT = 48 * 1024;

/** An API key: long enough that guessing is hopeless; its value never appears in messages. */
export const ApiKey = refinedString<'ApiKey'>(`a secret of at least ${MIN_API_KEY_LENGTH} characters, without spaces`, (s) => s.length >= MIN_API_KEY_LENGTH && !/\s/.test(s));

/** A whole number in a range, given as a string (settings are strings). */
export const IntegerFromString = (options: { min: number; max: number }): t.Type<number, string, unknown> =>
  new t.Type<number, string, unknown>(
    `an integer from ${options.min} to ${options.max}`,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= options.min && u <= options.max,
    (u, c) => {
      if (typeof u !== 'string' || !/^-?[0-9]+$/.test(u.trim())) return t.failure(u, c);
      const n = Number(u.trim());
      return n >= options.min && n <= options.max ? t.success(n) : t.failure(u, c);
    },
    String,
  );

export const BooleanFromString = new t.Type<boolean, string, unknown>(
  '"true" or "false"',
  (u): u is boolean => typeof u === 'boolean',
  (u, c) => (u === 'true' ? t.success(true) : u === 'false' ? t.success(false) : t.failure(u, c)),
  String,
);

/** A comma-separated list of catalogue event names ('' = none), for DISABLED_EVENTS. */
export const EventNameList = new t.Type<readonly string[], string, unknown>(
  `a comma-separated list of event names (${EVENT_NAMES.join(', ')})`,
  (u): u is readonly string[] => Array.isArray(u) && u.every((x) => typeof x === 'string' && (EVENT_NAMES as string[]).includes(x)),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c);
    const names = u.split(',').map((s) => s.trim()).filter((s) => s !== '');
    return names.every((n) => (EVENT_NAMES as string[]).includes(n)) ? t.success(names) : t.failure(u, c);
  },
  (a) => a.join(','),
);

/** ALLOWED_DESTINATION_PORTS: `443,8443,9000-9100`; '' = any port. */
export const PortRangesFromString = new t.Type<PortRanges, string, unknown>(
  'a comma-separated list of ports or port ranges from 1 to 65535 (e.g. 443,8443,9000-9100), or empty for any',
  (u): u is PortRanges => Array.isArray(u),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c);
    const ranges: { from: number; to: number }[] = [];
    for (const part of u.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(part);
      const from = Number(m?.[1]);
      const to = Number(m?.[2] ?? m?.[1]);
      if (m === null || from < 1 || to > 65535 || from > to) return t.failure(u, c);
      ranges.push({ from, to });
    }
    return t.success(ranges);
  },
  (a) => a.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(','),
);

export const TableName = patternString<'TableName'>('a table name (a letter, then 2-62 letters or digits)', /^[A-Za-z][A-Za-z0-9]{2,62}$/);
export const QueueName = patternString<'QueueName'>('a queue name (3-63 lower-case letters, digits and single hyphens, not at either end)', /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/);

export const SETTINGS = {
  AzureWebJobsStorage: NonEmptyString,
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
  ...DELIVERY_SETTINGS,
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
  MAX_DELIVERIES_PER_MESSAGE: '50',
  VERIFY_ENDPOINTS_DEFAULT: 'false',
  DISABLED_EVENTS: '',
  ...DELIVERY_DEFAULTS,
};

export const Config = t.type(SETTINGS, 'Config');
export type Config = t.TypeOf<typeof Config>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid settings (fix them in the app settings or local.settings.json):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * App Service leaves a Key Vault reference it cannot resolve as the setting's literal text (infra/main.bicep
 * uses them): that text is no secret, so the app must refuse to start rather than accept it as a key.
 */
const unresolvedReferences = (config: Config): string[] =>
  (['AzureWebJobsStorage', 'INGEST_API_KEY', 'ADMIN_API_KEY'] as const)
    .filter((name) => /^@Microsoft\.KeyVault\(/i.test(config[name]))
    .map((name) => `${name}: is a Key Vault reference the platform could not resolve (give the app's identity read access to the secret, then restart the app)`);

/** Rules across settings: one leaked key must not open the other door. */
const crossChecks = (config: Config): string[] => [
  ...unresolvedReferences(config),
  ...(config.INGEST_API_KEY === config.ADMIN_API_KEY ? ['ADMIN_API_KEY: must differ from INGEST_API_KEY'] : []),
];

/** Decodes the settings from an environment; problems name the setting, never its value. */
export const decodeConfig = (env: NodeJS.ProcessEnv): E.Either<ConfigError, Config> => {
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(SETTINGS) as (keyof typeof SETTINGS)[]) {
    const value = env[name];
    input[name] = value === undefined || value === '' ? DEFAULTS[name] : value;
  }
  return pipe(
    Config.decode(input),
    E.mapLeft((errors) => new ConfigError(formatValidationErrors(errors))),
    E.chain((config) => {
      const problems = crossChecks(config);
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
