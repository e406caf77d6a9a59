import { httpOpsEvents, noOpsEvents } from '../../adapters/http/httpOpsEvents';
import { withTimeoutBreaker } from '../../adapters/http/timeoutBreaker';
import { tableDeliveryStats } from '../../adapters/tables/tableDeliveryStats';
import type { DeliveryStats } from '../../ports/deliveryStats';
import type { PublishOpsEvent } from '../../ports/opsEvents';
import { createUndiciHttpSender } from '../../adapters/http/undiciHttpSender';
import { storageDeliveryQueue } from '../../adapters/queues/storageDeliveryQueue';
import { tableAttemptLog } from '../../adapters/tables/tableAttemptLog';
import { ensuredTable } from '../../adapters/tables/tables';
import { tableWebhookLookup } from '../../adapters/tables/tableWebhookLookup';
import { tableRegistrySnapshot } from '../../adapters/tables/tableRegistrySnapshot';
import { cachedLookup } from '../../adapters/cachedLookup';
import { retryPolicyOf } from '../../domain/deliverySettings';
import type { HttpSender } from '../../adapters/http/httpSender';
import type { AttemptLog } from '../../ports/attemptLog';
import type { WebhookLookup } from '../../ports/webhookLookup';
import { type DeliverDeps, USER_AGENT } from '../../usecases/deliverMessage';
import { ownerAlerts, publishToAll } from '../../usecases/ownerAlerts';
import type { FanOutPageDeps } from '../../usecases/enqueueFanOutPage';
import { currentGrants, type GrantsCache, grantsCache } from '../../usecases/tenantGrants';
import type { TenantGrants } from '../../ports/tenantGrants';
import { observedAttemptLog, recordDeliveryAttempt } from '../../telemetry/telemetry';
import { type Dependencies, getDependencies } from './dependencies';

export type DeliveryDependencies = Dependencies & {
  readonly queue: ReturnType<typeof storageDeliveryQueue>;
  readonly attemptLog: AttemptLog;
  readonly lookup: WebhookLookup;
  /** The undici sender deliveries use; endpoint and WebSub verification use it too (same SSRF guard). */
  readonly sender: HttpSender;
  readonly fanOut: FanOutPageDeps;
  /** Every tenant's routing grants, cached for the fan-out; the tenant routes' writes invalidate it. */
  readonly grants: GrantsCache;
  /** A tenant's grants read now, for registration checks. */
  readonly grantsOf: TenantGrants;
  /** Per-webhook counters (GET /api/webhooks/{id}/stats). */
  readonly stats: DeliveryStats;
  /** OPS_WEBHOOK_URL's signed events; a no-op without it. Replay calls it with `replay.completed`. */
  readonly publishOpsEvent: PublishOpsEvent;
  /** The delivery use case's ports; `log` receives one trace line per attempt, `warn` what went wrong on the side. */
  readonly deliver: (logs: { log: (line: string) => void; warn: (message: string) => void }) => DeliverDeps;
};

let cached: DeliveryDependencies | undefined;

/** The fan-out and delivery adapters, built once per process on top of the HTTP ones. */
export const getDeliveryDependencies = (): DeliveryDependencies => {
  if (cached === undefined) {
    const base = getDependencies();
    const { config } = base;
    const connectionString = config.AzureWebJobsStorage;
    const timeoutMs = config.STORAGE_TIMEOUT_MS;
    // Poison entries hold personal data: they expire with the retention (docs/privacy.md).
    const queue = storageDeliveryQueue({ connectionString, queueName: config.DELIVERIES_QUEUE, poisonTimeToLiveSeconds: config.RETENTION_DAYS * 86_400, timeoutMs });
    const attemptLog = tableAttemptLog(ensuredTable({ connectionString, tableName: config.ATTEMPTS_TABLE, timeoutMs }));
    const webhooksTable = ensuredTable({ connectionString, tableName: config.WEBHOOKS_TABLE, timeoutMs });
    // Webhooks kept REGISTRY_CACHE_MS; this process's registry writes drop them at once (docs/architecture.md item 26).
    const lookup = cachedLookup(tableWebhookLookup(webhooksTable, { keyring: base.keyring }), {
      clock: base.clock,
      ttlMs: config.REGISTRY_CACHE_MS,
      readAll: tableRegistrySnapshot(webhooksTable, { keyring: base.keyring }),
    });
    base.registryWrites.add(lookup.invalidate);
    const sender = createUndiciHttpSender({
      timeoutMs: config.DELIVERY_TIMEOUT_MS,
      maxResponseBytes: config.MAX_RESPONSE_BYTES,
      maxConnectionsPerOrigin: config.MAX_CONNECTIONS_PER_ORIGIN,
      allowPrivateDestinations: config.ALLOW_PRIVATE_DESTINATIONS,
      allowedDestinationPorts: config.ALLOWED_DESTINATION_PORTS,
    });
    // Deliveries only: endpoint and WebSub verification always send (one request, a person waiting).
    const deliverySender = withTimeoutBreaker(sender, { threshold: config.CIRCUIT_BREAKER_TIMEOUTS, cooldownMs: config.CIRCUIT_BREAKER_COOLDOWN_MS });
    const policy = retryPolicyOf(config);
    // The timer's writes have no invocation to report to: one warning line each.
    const stats = tableDeliveryStats(ensuredTable({ connectionString, tableName: config.STATS_TABLE }), { onError: (message) => console.warn(message) });
    const toOpsUrl =
      config.OPS_WEBHOOK_URL === '' || config.OPS_WEBHOOK_SECRET === '' ? noOpsEvents : httpOpsEvents({ url: config.OPS_WEBHOOK_URL, secret: config.OPS_WEBHOOK_SECRET, sender, clock: base.clock });
    // Tenants' own webhooks subscribed to webhook.disabled / delivery.exhausted hear about their other webhooks.
    const publishOpsEvent = publishToAll([toOpsUrl, ownerAlerts({ webhooks: base.webhooks, sender, clock: base.clock, userAgent: USER_AGENT })]);
    const unwrittenFailures = new Map<string, number>();
    const autoDisable = { afterSeconds: config.AUTO_DISABLE_AFTER_SECONDS, minFailures: config.AUTO_DISABLE_MIN_FAILURES };
    // Tenants stored before grants are initialised on first read; one line each, counts only.
    const grantsDeps = { tenants: base.tenants, webhooks: base.webhooks, log: (line: string) => console.log(line) };
    const grants = grantsCache({ ...grantsDeps, clock: base.clock, ttlSeconds: config.TENANT_GRANTS_CACHE_SECONDS });
    cached = {
      ...base,
      queue,
      attemptLog,
      lookup,
      sender,
      grants,
      grantsOf: currentGrants(grantsDeps),
      stats,
      publishOpsEvent,
      fanOut: {
        events: base.events,
        webhooks: base.webhooks,
        queue,
        pageSize: config.FANOUT_PAGE_SIZE,
        maxDeliveriesPerMessage: config.MAX_DELIVERIES_PER_MESSAGE,
        clock: base.clock,
        disabledEvents: new Set(config.DISABLED_EVENTS),
        grantsOf: grants.grantsOf,
      },
      deliver: ({ log, warn }) => ({ lookup, webhooks: base.webhooks, sender: deliverySender, queue, attemptLog: observedAttemptLog(attemptLog, (entry) => log(recordDeliveryAttempt(entry))), clock: base.clock, policy, warn, autoDisable, unwrittenFailures, stats, publishOpsEvent, events: base.events }),
    };
  }
  return cached;
};
