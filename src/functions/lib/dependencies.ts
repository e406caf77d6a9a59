import { app } from '@azure/functions';
import { randomBytes } from 'node:crypto';
import { cachedRegistry } from '../../adapters/cachedRegistry';
import { storageHealthProbes } from '../../adapters/tables/healthProbes';
import { tableEventStore } from '../../adapters/tables/tableEventStore';
import { tablePrivacyIndex } from '../../adapters/tables/tablePrivacyIndex';
import { ensuredTable } from '../../adapters/tables/tables';
import { tableTenantStore } from '../../adapters/tables/tableTenantStore';
import { tableWebhookStore } from '../../adapters/tables/tableWebhookStore';
import { type Config, getConfig } from '../../config';
import type { EventId } from '../../domain/events';
import { ULID_RANDOM_BYTES, ulid } from '../../domain/ids';
import { type Keyring, keyring } from '../../domain/secretBox';
import { type Clock, systemClock } from '../../ports/clock';
import type { EventStore } from '../../ports/eventStore';
import type { HealthProbe } from '../../ports/healthProbe';
import type { PrivacyIndex } from '../../ports/privacyIndex';
import type { RandomBytes } from '../../ports/random';
import type { TenantStore } from '../../ports/tenantStore';
import type { WebhookStore } from '../../ports/webhookStore';
import { startAzureMonitor } from '../../telemetry/azureMonitor';
import { tenantOwnedCreate } from '../../usecases/tenantOwnedCreate';

/** Everything the HTTP functions use, built once per process from the settings. */
export type Dependencies = {
  readonly config: Config;
  readonly webhooks: WebhookStore;
  /** Tenants share the registry table (their own partition): docs/tenants.md. */
  readonly tenants: TenantStore;
  readonly events: EventStore;
  readonly healthProbes: readonly HealthProbe[];
  readonly clock: Clock;
  readonly randomBytes: RandomBytes;
  readonly newEventId: () => EventId;
  /** SECRETS_KEY (seals) and SECRETS_KEYS_PREVIOUS (open older rows): webhook secrets at rest. */
  readonly keyring: Keyring;
  /** Listeners told of every registry write of this process (caches of webhooks drop them). */
  readonly registryWrites: Set<() => void>;
  /** The retention and erasure indexes, written by ingest before the event (docs/privacy.md). */
  readonly privacy: { readonly index: PrivacyIndex; readonly subjectHashKey: string };
};

let cached: Dependencies | undefined;

/**
 * Builds the adapters on first use; no storage I/O happens here (tables are created on first access).
 * With APPLICATIONINSIGHTS_CONNECTION_STRING set, the metrics exporter starts here, once.
 */
export const getDependencies = (): Dependencies => {
  if (cached === undefined) {
    const config = getConfig();
    // Metrics to Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set; a failure only warns.
    startAzureMonitor(process.env, { onShutdown: (shutdown) => app.hook.appTerminate(shutdown) });
    const connectionString = config.AzureWebJobsStorage;
    const timeoutMs = config.STORAGE_TIMEOUT_MS;
    const secretsKeyring = keyring(config.SECRETS_KEY, config.SECRETS_KEYS_PREVIOUS);
    const registryWrites = new Set<() => void>();
    const tenants = tableTenantStore(ensuredTable({ connectionString, tableName: config.WEBHOOKS_TABLE, timeoutMs }));
    cached = {
      config,
      // Every registry write of this process goes through the cache, which drops its pages at once.
      webhooks: cachedRegistry(tenantOwnedCreate(tableWebhookStore(ensuredTable({ connectionString, tableName: config.WEBHOOKS_TABLE, timeoutMs }), { keyring: secretsKeyring }), tenants), {
        clock: systemClock,
        ttlMs: config.REGISTRY_CACHE_MS,
        onWrite: () => registryWrites.forEach((listener) => listener()),
      }),
      registryWrites,
      tenants,
      events: tableEventStore(ensuredTable({ connectionString, tableName: config.EVENTS_TABLE, timeoutMs })),
      healthProbes: storageHealthProbes(connectionString),
      clock: systemClock,
      randomBytes: (size) => randomBytes(size),
      newEventId: () => ulid(Date.now(), randomBytes(ULID_RANDOM_BYTES)) as EventId,
      keyring: secretsKeyring,
      privacy: { index: tablePrivacyIndex(ensuredTable({ connectionString, tableName: config.PRIVACY_TABLE, timeoutMs })), subjectHashKey: config.SUBJECT_HASH_KEY },
    };
  }
  return cached;
};
