import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';

/*
 * The agent's settings, decoded once from the environment. The mode decides who starts the
 * dispatcher; everything after that (receivers, registry, ingest, assertions) is one code path.
 */

/** embedded: Azurite from node_modules + the embedded host; external: an app already running
 * (docker compose); testcontainers: Azurite in a container + the embedded host; container: the app's
 * own image (the real Functions host) and Azurite, both started with testcontainers. */
export const IntegrationMode = t.keyof({ embedded: null, external: null, testcontainers: null, container: null }, 'IntegrationMode');
export type IntegrationMode = t.TypeOf<typeof IntegrationMode>;

const described = <A>(description: string, check: (s: string) => A | undefined): t.Type<A, string, unknown> =>
  new t.Type<A, string, unknown>(
    description,
    (u): u is A => u !== undefined,
    (u, c) => {
      const value = typeof u === 'string' ? check(u.trim()) : undefined;
      return value === undefined ? t.failure(u, c, `must be ${description}`) : t.success(value);
    },
    String,
  );

export const HttpBaseUrl = described('an http(s) URL without a trailing path (e.g. http://app:80)', (s) => {
  try {
    const url = new URL(s);
    return (url.protocol === 'http:' || url.protocol === 'https:') && (url.pathname === '/' || url.pathname === '') ? url.origin : undefined;
  } catch {
    return undefined;
  }
});

export const Milliseconds = (min: number, max: number) =>
  described(`a whole number of milliseconds from ${min} to ${max}`, (s) => {
    const n = /^[0-9]+$/.test(s) ? Number(s) : NaN;
    return n >= min && n <= max ? n : undefined;
  });

/** The dispatcher refuses keys shorter than 32 characters; the same rule here fails earlier and clearer. */
export const ApiKey = described('a key of at least 32 characters without spaces', (s) => (s.length >= 32 && !/\s/.test(s) ? s : undefined));

export const HostName = described('a host name or IP address', (s) => (/^[A-Za-z0-9.:[\]-]{1,253}$/.test(s) ? s : undefined));

export const AgentSettings = t.type(
  {
    INTEGRATION_MODE: IntegrationMode,
    /** How long to wait for something that should arrive (a delivery, a webhook getting disabled). */
    DELIVERY_WAIT_MS: Milliseconds(100, 600_000),
    /** How long to watch for something that should NOT arrive, after everything expected did. */
    GRACE_PERIOD_MS: Milliseconds(0, 60_000),
    /** How long the dispatcher may take to answer GET /api/health with 200 after it was started. */
    STARTUP_TIMEOUT_MS: Milliseconds(1_000, 600_000),
    /** The address receivers listen on, and the host name the dispatcher uses to reach them. */
    RECEIVER_BIND_HOST: HostName,
    RECEIVER_HOST: HostName,
  },
  'AgentSettings',
);
export type AgentSettings = t.TypeOf<typeof AgentSettings>;

/** Only an external dispatcher needs its address and keys from outside; the other modes make them. */
export const ExternalDispatcherSettings = t.type({ DISPATCHER_URL: HttpBaseUrl, INGEST_API_KEY: ApiKey, ADMIN_API_KEY: ApiKey }, 'ExternalDispatcherSettings');
export type ExternalDispatcherSettings = t.TypeOf<typeof ExternalDispatcherSettings>;

export const AGENT_DEFAULTS: Record<keyof AgentSettings, string> = {
  INTEGRATION_MODE: 'embedded',
  DELIVERY_WAIT_MS: '60000',
  GRACE_PERIOD_MS: '1500',
  STARTUP_TIMEOUT_MS: '60000',
  RECEIVER_BIND_HOST: '127.0.0.1',
  RECEIVER_HOST: '127.0.0.1',
};

const messages = (errors: t.Errors): string[] =>
  errors.map((error) => {
    const key = error.context[1]?.key ?? '(settings)';
    // Values are not echoed: some settings are keys.
    return `${key}: ${error.message ?? `must be ${error.context[error.context.length - 1]?.type.name ?? 'valid'}`}`;
  });

const withDefaults = <K extends string>(env: NodeJS.ProcessEnv, names: readonly K[], defaults: Partial<Record<K, string>>): Record<K, string | undefined> =>
  Object.fromEntries(names.map((name) => [name, env[name] === undefined || env[name] === '' ? defaults[name] : env[name]])) as Record<K, string | undefined>;

const decodeWith = <A>(codec: t.Decoder<unknown, A>, input: unknown, what: string): E.Either<Error, A> =>
  pipe(
    codec.decode(input),
    E.mapLeft(
      (errors) =>
        new Error(
          `Invalid ${what}:\n${messages(errors)
            .map((m) => `  - ${m}`)
            .join('\n')}`,
        ),
    ),
  );

export const decodeAgentSettings = (env: NodeJS.ProcessEnv): E.Either<Error, AgentSettings> =>
  decodeWith(AgentSettings, withDefaults(env, Object.keys(AgentSettings.props) as (keyof AgentSettings)[], AGENT_DEFAULTS), 'integration agent settings');

export const decodeExternalDispatcherSettings = (env: NodeJS.ProcessEnv): E.Either<Error, ExternalDispatcherSettings> =>
  decodeWith(ExternalDispatcherSettings, withDefaults(env, ['DISPATCHER_URL', 'INGEST_API_KEY', 'ADMIN_API_KEY'] as const, {}), 'settings of the external dispatcher (mode "external")');

/** Throws the readable error: settings are checked before anything starts. */
export const orThrow = <A>(result: E.Either<Error, A>): A => {
  if (E.isLeft(result)) throw result.left;
  return result.right;
};
