import * as t from 'io-ts';
import type { HostJson } from '../core/component';

/** Prefix of this runner's tables and queues (`lh`: local host). */
export const LOCAL_PREFIX = 'lh';

/** Azure's default task hub name when host.json names none (local development). */
export const DEFAULT_HUB_NAME = 'TestHubName';

export type DurableSettings = {
  hubName: string;
  tableName: string;
  /** A table the real Azure Storage provider creates for this hub (and this runner never does). */
  realHubTable: string;
  controlQueue: string;
  workItemQueue: string;
  /** How long a worker holds an instance while it runs an episode; a crashed worker's hold lapses after it. */
  leaseSeconds: number;
  /** How long a received message stays invisible; a crashed worker's messages reappear after it. */
  visibilityTimeoutSeconds: number;
  maxPollingIntervalMs: number;
  maxConcurrentActivities: number;
};

const PositiveNumberFromString = new t.Type<number, string, unknown>(
  'PositiveNumberFromString',
  (u): u is number => typeof u === 'number' && u > 0,
  (u, c) => {
    const n = typeof u === 'string' && u.trim() !== '' ? Number(u) : NaN;
    return Number.isFinite(n) && n > 0 ? t.success(n) : t.failure(u, c, 'expected a positive number');
  },
  String,
);

/** The environment variables that tune the durable runner (all optional). */
export const DurableEnv = t.partial({
  LOCAL_HOST_DURABLE_LEASE_SECONDS: PositiveNumberFromString,
  LOCAL_HOST_DURABLE_VISIBILITY_TIMEOUT_SECONDS: PositiveNumberFromString,
  LOCAL_HOST_DURABLE_MAX_POLLING_INTERVAL_MS: PositiveNumberFromString,
  LOCAL_HOST_DURABLE_MAX_CONCURRENT_ACTIVITIES: PositiveNumberFromString,
});

/** Table and queue names allow letters and digits only (tables) or lower-case letters, digits and '-' (queues). */
export const sanitizeHubName = (hubName: string): string => {
  const alnum = hubName.replace(/[^A-Za-z0-9]/g, '');
  const named = /^[A-Za-z]/.test(alnum) ? alnum : `h${alnum}`;
  return named.length < 3 ? named.padEnd(3, '0') : named.slice(0, 45);
};

/** host.json values may name app settings as `%NAME%`, as in Azure. */
export const resolveAppSettings = (value: string, env: NodeJS.ProcessEnv): string =>
  value.replace(/%([^%]+)%/g, (_, name: string) => {
    const setting = env[name];
    if (setting === undefined || setting === '') throw new Error(`host.json refers to the app setting ${name}, which is not set`);
    return setting;
  });

export const durableSettings = (hostJson: HostJson, env: NodeJS.ProcessEnv): DurableSettings => {
  const decoded = DurableEnv.decode(env);
  if (decoded._tag === 'Left') {
    const bad = decoded.left
      .map((e) =>
        e.context
          .map((c) => c.key)
          .filter(Boolean)
          .join('.'),
      )
      .join(', ');
    throw new Error(`Invalid durable settings: ${bad} must be positive numbers`);
  }
  const hubName = resolveAppSettings(hostJson.extensions?.durableTask?.hubName ?? DEFAULT_HUB_NAME, env);
  const hub = sanitizeHubName(hubName);
  return {
    hubName,
    // The real provider uses <hub>Instances, <hub>History, <hub>-control-NN, <hub>-workitems with its
    // own layout: an `lh` prefix keeps this runner off a real host's hub in the same storage account.
    tableName: `${LOCAL_PREFIX}${hub}Instances`,
    realHubTable: `${hub}History`,
    controlQueue: `${LOCAL_PREFIX}${hub.toLowerCase()}-control`,
    workItemQueue: `${LOCAL_PREFIX}${hub.toLowerCase()}-workitems`,
    leaseSeconds: decoded.right.LOCAL_HOST_DURABLE_LEASE_SECONDS ?? 30,
    visibilityTimeoutSeconds: Math.round(decoded.right.LOCAL_HOST_DURABLE_VISIBILITY_TIMEOUT_SECONDS ?? 30),
    maxPollingIntervalMs: decoded.right.LOCAL_HOST_DURABLE_MAX_POLLING_INTERVAL_MS ?? 1000,
    maxConcurrentActivities: Math.round(decoded.right.LOCAL_HOST_DURABLE_MAX_CONCURRENT_ACTIVITIES ?? 16),
  };
};
