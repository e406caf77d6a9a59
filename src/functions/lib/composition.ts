import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { randomBytes } from 'node:crypto';
import * as TE from 'fp-ts/TaskEither';
import { durableContinueFanOut, durableReadDispatch } from '../../adapters/durable/durableDispatch';
import { durablePurgeHistory } from '../../adapters/durable/durablePurgeHistory';
import { blobPayloadStore } from '../../adapters/blobs/blobPayloadStore';
import { durableReadReplay, durableStartReplay } from '../../adapters/durable/durableReplay';
import { httpOpsEvents, noOpsEvents } from '../../adapters/http/httpOpsEvents';
import { withTimeoutBreaker } from '../../adapters/http/timeoutBreaker';
import { createUndiciHttpSender } from '../../adapters/http/undiciHttpSender';
import { encodeMessage, ensuredQueue, storageDeliveryQueue } from '../../adapters/queues/storageDeliveryQueue';
import { storagePoisonQueue } from '../../adapters/queues/storagePoisonQueue';
import { storageHealthProbes } from '../../adapters/tables/healthProbes';
import { storageError } from '../../adapters/tables/storageErrors';
import { tableAttemptLog } from '../../adapters/tables/tableAttemptLog';
import { tableDeliveryStats } from '../../adapters/tables/tableDeliveryStats';
import { tableEventStore } from '../../adapters/tables/tableEventStore';
import { tablePrivacyIndex } from '../../adapters/tables/tablePrivacyIndex';
import { ensuredTable } from '../../adapters/tables/tables';
import { tableStaleSecrets } from '../../adapters/tables/tableStaleSecrets';
import { tableTenantStore } from '../../adapters/tables/tableTenantStore';
import { tableWebhookLookup } from '../../adapters/tables/tableWebhookLookup';
import { cachedLookup } from '../../adapters/cachedLookup';
import { cachedRegistry } from '../../adapters/cachedRegistry';
import { tableWebhookStore } from '../../adapters/tables/tableWebhookStore';
import { type Config, getConfig } from '../../config';
import { retryPolicyOf } from '../../domain/deliverySettings';
import type { EventId } from '../../domain/events';
import { ULID_RANDOM_BYTES, ulid } from '../../domain/ids';
import { keyring } from '../../domain/secretBox';
import { websubQueueName } from '../../domain/websub';
import { systemClock } from '../../ports/clock';
import type { ContinueFanOut, FanOutCursor } from '../../ports/dispatch';
import { startAzureMonitor } from '../../telemetry/azureMonitor';
import { observedAttemptLog, recordDeliveryAttempt, recordFanOutPage } from '../../telemetry/telemetry';
import { backfillPrivacyIndex } from '../../usecases/backfillPrivacyIndex';
import { type DeliverDeps, USER_AGENT } from '../../usecases/deliverMessage';
import { dispatchEvent, dispatchFreshEvent } from '../../usecases/dispatchEvent';
import type { FanOutPageResult } from '../../usecases/enqueueFanOutPage';
import { ownerAlerts, publishToAll } from '../../usecases/ownerAlerts';
import { purgeEvents, type PurgeDeps } from '../../usecases/purgeEvents';
import { eraseSubject } from '../../usecases/eraseSubject';
import { tenantOwnedCreate } from '../../usecases/tenantOwnedCreate';
import { inFlightBytes } from '../../usecases/inFlightBytes';
import { endpointSlots } from '../../usecases/endpointSlots';
import { WAIT_IN_INVOCATION_MS } from '../../domain/rateLimit';
import { currentGrants, grantsCache } from '../../usecases/tenantGrants';
import { FAN_OUT_ORCHESTRATOR, REPLAY_ORCHESTRATOR } from './orchestrations';
import { tableRateLimiter } from '../../adapters/tables/tableRateLimiter';
import { scheduleAttempts } from '../../domain/endpointControls';

/*
 * The composition root: every adapter of the app is built here, once per process, on first use
 * (never at load: registration must not depend on valid settings, src/functions/lib/configured.ts).
 * Each function takes only its own record below; a new adapter goes into `build`, a new function
 * gets a record of what it uses.
 */

/** Poison messages one purge or erasure looks at, at most (the answer says `truncated` when more wait). */
const MAX_POISON_MESSAGES_PER_RUN = 5_000;

/** Storage: tables and queues, each client built once (tables are created on first access, no I/O here). */
const storage = (config: Config) => {
  const connectionString = config.AzureWebJobsStorage;
  const timeoutMs = config.STORAGE_TIMEOUT_MS;
  const table = (tableName: string) => ensuredTable({ connectionString, tableName, timeoutMs });
  const secretsKeyring = keyring(config.SECRETS_KEY, config.SECRETS_KEYS_PREVIOUS);
  // Tenants share the registry table (their own partition): docs/tenants.md.
  const tenants = tableTenantStore(table(config.WEBHOOKS_TABLE));
  // Poison entries hold personal data: they expire with the retention (docs/privacy.md).
  const queue = storageDeliveryQueue({
    connectionString,
    queueName: config.DELIVERIES_QUEUE,
    poisonTimeToLiveSeconds: config.RETENTION_DAYS * 86_400,
    timeoutMs,
    // Concurrent immediate enqueues share one queue message, an envelope (docs/delivery.md, "Envelopes").
    coalesceMaxItems: config.MAX_DELIVERIES_PER_MESSAGE,
  });
  const websubQueue = ensuredQueue({ connectionString, queueName: websubQueueName(config.DELIVERIES_QUEUE), timeoutMs });
  // Large payloads' blobs (the claim check): written and deleted with their events by the event store.
  const payloads = blobPayloadStore({ connectionString, containerName: config.PAYLOADS_CONTAINER, timeoutMs });
  // The worker's webhooks and the fan-out's first pages, kept REGISTRY_CACHE_MS; this process's
  // registry writes drop both at once (docs/architecture.md item 28).
  const lookup = cachedLookup(tableWebhookLookup(table(config.WEBHOOKS_TABLE), { keyring: secretsKeyring }), { clock: systemClock, ttlMs: config.REGISTRY_CACHE_MS });
  return {
    tenants,
    webhooks: cachedRegistry(tenantOwnedCreate(tableWebhookStore(table(config.WEBHOOKS_TABLE), { keyring: secretsKeyring }), tenants), {
      clock: systemClock,
      ttlMs: config.REGISTRY_CACHE_MS,
      onWrite: lookup.invalidate,
    }),
    lookup,
    staleSecrets: tableStaleSecrets(table(config.WEBHOOKS_TABLE), secretsKeyring.current.id),
    events: tableEventStore(table(config.EVENTS_TABLE), { payloads }),
    payloads,
    // The retention and erasure indexes, written by ingest before the event (docs/privacy.md).
    privacy: { index: tablePrivacyIndex(table(config.PRIVACY_TABLE)), subjectHashKey: config.SUBJECT_HASH_KEY },
    attemptLog: tableAttemptLog(table(config.ATTEMPTS_TABLE)),
    // The timer's writes have no invocation to report to: one warning line each.
    stats: tableDeliveryStats(ensuredTable({ connectionString, tableName: config.STATS_TABLE }), { onError: (message) => console.warn(message) }),
    // Send slots of rate-limited webhooks (docs/delivery.md, "Rate limits"); unlimited ones never touch it.
    rateLimiter: tableRateLimiter(table(config.RATE_LIMITS_TABLE)),
    queue,
    poison: storagePoisonQueue(queue.poisonQueue),
    healthProbes: storageHealthProbes(connectionString),
    enqueueWebSubVerification: (job: unknown) =>
      TE.tryCatch(async () => {
        await (await websubQueue.ready()).sendMessage(encodeMessage(job), { abortSignal: websubQueue.signal() });
      }, storageError('queue a WebSub verification')),
  };
};

/** Outgoing requests: one undici sender (one SSRF guard) for deliveries, verification and operational events. */
const outgoing = (config: Config, stores: Pick<ReturnType<typeof storage>, 'webhooks'>) => {
  const sender = createUndiciHttpSender({
    timeoutMs: config.DELIVERY_TIMEOUT_MS,
    maxResponseBytes: config.MAX_RESPONSE_BYTES,
    maxConnectionsPerOrigin: config.MAX_CONNECTIONS_PER_ORIGIN,
    allowPrivateDestinations: config.ALLOW_PRIVATE_DESTINATIONS,
    allowedDestinationPorts: config.ALLOWED_DESTINATION_PORTS,
  });
  const clock = systemClock;
  const toOpsUrl = config.OPS_WEBHOOK_URL === '' || config.OPS_WEBHOOK_SECRET === '' ? noOpsEvents : httpOpsEvents({ url: config.OPS_WEBHOOK_URL, secret: config.OPS_WEBHOOK_SECRET, sender, clock });
  return {
    sender,
    // Deliveries only: endpoint and WebSub verification always send (one request, a person waiting).
    deliverySender: withTimeoutBreaker(sender, { threshold: config.CIRCUIT_BREAKER_TIMEOUTS, cooldownMs: config.CIRCUIT_BREAKER_COOLDOWN_MS }),
    // Tenants' own webhooks subscribed to webhook.disabled / delivery.exhausted hear about their other webhooks.
    publishOpsEvent: publishToAll([toOpsUrl, ownerAlerts({ webhooks: stores.webhooks, sender, clock, userAgent: USER_AGENT })]),
  };
};

const build = (config: Config) => {
  // Metrics to Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set; a failure only warns.
  startAzureMonitor(process.env, { onShutdown: (shutdown) => app.hook.appTerminate(shutdown) });
  const clock = systemClock;
  const stores = storage(config);
  // Tenants stored before grants are initialised on first read; one line each, counts only.
  const log = (line: string) => console.log(line);
  const grantsDeps = { tenants: stores.tenants, webhooks: stores.webhooks, log };
  return {
    config,
    clock,
    log,
    ...stores,
    ...outgoing(config, stores),
    // Every tenant's grants, cached for the fan-out; the tenant routes' writes invalidate it.
    grants: grantsCache({ ...grantsDeps, clock, ttlSeconds: config.TENANT_GRANTS_CACHE_SECONDS }),
    /** A tenant's grants read now, for registration checks. */
    grantsOf: currentGrants(grantsDeps),
    randomBytes: (size: number) => randomBytes(size),
    newEventId: () => ulid(Date.now(), randomBytes(ULID_RANDOM_BYTES)) as EventId,
    retryPolicy: retryPolicyOf(config),
    unwrittenFailures: new Map<string, number>(),
    // MAX_INFLIGHT_DELIVERY_BYTES: request bodies this process sends at once (large payloads fanned out wide).
    inFlight: inFlightBytes(config.MAX_INFLIGHT_DELIVERY_BYTES),
    // MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: one hanging URL cannot take its origin's sockets (docs/delivery.md, "Endpoint isolation").
    endpointSlots: endpointSlots({ perEndpoint: config.MAX_INFLIGHT_REQUESTS_PER_ENDPOINT, waitMs: WAIT_IN_INVOCATION_MS }),
  };
};

type Adapters = ReturnType<typeof build>;
let built: Adapters | undefined;

/** The one graph of adapters; a bad setting throws ConfigError on every call until it is fixed. */
const adapters = (): Adapters => {
  if (built === undefined) built = build(getConfig());
  return built;
};

/** Ingest's fan-out of the first page, and the orchestration's start for the rest. */
const fanOutPage = (a: Adapters) => ({
  events: a.events,
  webhooks: a.webhooks,
  queue: a.queue,
  pageSize: a.config.FANOUT_PAGE_SIZE,
  maxDeliveriesPerMessage: a.config.MAX_DELIVERIES_PER_MESSAGE,
  clock: a.clock,
  disabledEvents: new Set(a.config.DISABLED_EVENTS),
  grantsOf: a.grants.grantsOf,
});

const logFanOutPage = (context: InvocationContext) => (cursor: FanOutCursor, page: FanOutPageResult) =>
  context.log(recordFanOutPage({ eventId: cursor.eventId, planIndex: cursor.planIndex, deliveries: page.deliveries, messages: page.messages, more: page.next !== undefined }));

/* One record per function file (or per route where they differ), in the order of src/functions. */

export const healthRecord = () => ({ healthProbes: adapters().healthProbes });

export const ingestRecord = () => {
  const a = adapters();
  const fanOut = fanOutPage(a);
  /**
   * The durable client is the invocation's (df.getClient reads it from the context), made only when
   * an event has more than one page: building it (URL checks, an HTTP client) was a share of the host's
   * CPU per event at fan-out 1 (its profile: 5%, 0.6 ms), where it is never used.
   */
  const dispatchDeps = (context: InvocationContext) => ({
    events: a.events,
    fanOut,
    continueFanOut: (input: Parameters<ContinueFanOut>[0]) => durableContinueFanOut(df.getClient(context), FAN_OUT_ORCHESTRATOR)(input),
    onPage: logFanOutPage(context),
  });
  return {
    events: a.events,
    clock: a.clock,
    newEventId: a.newEventId,
    privacy: a.privacy,
    ingestApiKey: a.config.INGEST_API_KEY,
    maxEventBodyBytes: a.config.MAX_EVENT_BODY_BYTES,
    disabledEvents: new Set(a.config.DISABLED_EVENTS),
    startDispatch: (context: InvocationContext) => dispatchEvent(dispatchDeps(context)),
    dispatchFresh: (context: InvocationContext) => dispatchFreshEvent(dispatchDeps(context)),
  };
};

export const eventStatusRecord = () => {
  const a = adapters();
  return { events: a.events, attemptLog: a.attemptLog, adminApiKey: a.config.ADMIN_API_KEY, readDispatch: (context: InvocationContext) => durableReadDispatch(df.getClient(context)) };
};

export const eventListRecord = () => {
  const a = adapters();
  return { events: a.events, clock: a.clock, adminApiKey: a.config.ADMIN_API_KEY };
};

/** The orchestration's pages are FANOUT_STEP_SIZE (ingest's first page is FANOUT_PAGE_SIZE: it answers the sender). */
export const fanOutStepRecord = () => {
  const a = adapters();
  return { ...fanOutPage(a), pageSize: a.config.FANOUT_STEP_SIZE };
};

export const deliveryRecord = () => {
  const a = adapters();
  const autoDisable = { afterSeconds: a.config.AUTO_DISABLE_AFTER_SECONDS, minFailures: a.config.AUTO_DISABLE_MIN_FAILURES };
  return {
    poison: a.queue.poison,
    requeue: a.queue.enqueue,
    clock: a.clock,
    /** The delivery use case's ports; `log` receives one trace line per attempt, `warn` what went wrong on the side. */
    deliver: ({ log, warn }: { log: (line: string) => void; warn: (message: string) => void }): DeliverDeps => ({
      lookup: a.lookup,
      webhooks: a.webhooks,
      sender: a.deliverySender,
      queue: a.queue,
      attemptLog: observedAttemptLog(a.attemptLog, (entry) => log(recordDeliveryAttempt(entry))),
      clock: a.clock,
      policy: a.retryPolicy,
      warn,
      autoDisable,
      unwrittenFailures: a.unwrittenFailures,
      stats: a.stats,
      publishOpsEvent: a.publishOpsEvent,
      events: a.events,
      rateLimiter: a.rateLimiter,
      payloads: a.payloads,
      inFlight: a.inFlight,
      endpointSlots: a.endpointSlots,
    }),
  };
};

export const webhooksRecord = () => {
  const a = adapters();
  return {
    webhooks: a.webhooks,
    tenants: a.tenants,
    clock: a.clock,
    randomBytes: a.randomBytes,
    sender: a.sender,
    grantsOf: a.grantsOf,
    adminApiKey: a.config.ADMIN_API_KEY,
    allowPrivateDestinations: a.config.ALLOW_PRIVATE_DESTINATIONS,
    allowedDestinationPorts: a.config.ALLOWED_DESTINATION_PORTS,
    verifyEndpointsDefault: a.config.VERIFY_ENDPOINTS_DEFAULT,
    maxAttemptsAllowed: scheduleAttempts(a.retryPolicy),
  };
};

export const tenantsRecord = () => {
  const a = adapters();
  return {
    adminApiKey: a.config.ADMIN_API_KEY,
    tenants: a.tenants,
    webhooks: a.webhooks,
    clock: a.clock,
    randomBytes: a.randomBytes,
    sender: a.sender,
    grants: a.grants,
    grantsOf: a.grantsOf,
    log: a.log,
  };
};

/** The subscriber portal's links, sessions and page (docs/portal.md). */
export const portalRecord = () => {
  const a = adapters();
  return { adminApiKey: a.config.ADMIN_API_KEY, tenants: a.tenants, webhooks: a.webhooks, clock: a.clock };
};

export const statsRecord = () => {
  const a = adapters();
  return { webhooks: a.webhooks, stats: a.stats, clock: a.clock, adminApiKey: a.config.ADMIN_API_KEY, tenants: a.tenants };
};

export const opsRecord = () => {
  const a = adapters();
  return { adminApiKey: a.config.ADMIN_API_KEY, tenants: a.tenants, webhooks: a.webhooks, attemptLog: a.attemptLog, poison: a.poison, deliveries: a.queue };
};

export const secretsRecord = () => {
  const a = adapters();
  return { adminApiKey: a.config.ADMIN_API_KEY, webhooks: a.webhooks, staleSecrets: a.staleSecrets };
};

export const sweepRecord = () => {
  const a = adapters();
  return { events: a.events, clock: a.clock, strandedAfterSeconds: a.config.STRANDED_EVENT_SECONDS };
};

export const websubRecord = () => {
  const a = adapters();
  return {
    adminApiKey: a.config.ADMIN_API_KEY,
    tenants: a.tenants,
    webhooks: a.webhooks,
    clock: a.clock,
    randomBytes: a.randomBytes,
    grantsOf: a.grantsOf,
    allowPrivateDestinations: a.config.ALLOW_PRIVATE_DESTINATIONS,
    allowedDestinationPorts: a.config.ALLOWED_DESTINATION_PORTS,
    enqueueVerification: a.enqueueWebSubVerification,
  };
};

export const websubIntentRecord = () => {
  const a = adapters();
  return { webhooks: a.webhooks, sender: a.sender, clock: a.clock, randomBytes: a.randomBytes };
};

export const replayRecord = () => {
  const a = adapters();
  return {
    auth: { adminApiKey: a.config.ADMIN_API_KEY, tenants: a.tenants },
    redeliver: {
      webhooks: a.webhooks,
      events: a.events,
      buckets: a.privacy.index,
      attemptLog: a.attemptLog,
      queue: a.queue,
      grantsOf: a.grants.grantsOf,
      clock: a.clock,
      maxDeliveriesPerMessage: a.config.MAX_DELIVERIES_PER_MESSAGE,
    },
    publishOpsEvent: a.publishOpsEvent,
    testSend: { webhooks: a.webhooks, sender: a.sender, clock: a.clock, randomBytes: a.randomBytes },
    start: (context: InvocationContext) => ({ webhooks: a.webhooks, clock: a.clock, retentionDays: a.config.RETENTION_DAYS, start: durableStartReplay(df.getClient(context), REPLAY_ORCHESTRATOR) }),
    read: (context: InvocationContext) => ({ webhooks: a.webhooks, read: durableReadReplay(df.getClient(context)) }),
  };
};

/** Events one erasure deletes at most; a person with more is finished by calling again. */
const MAX_EVENTS_PER_ERASURE = 10_000;
/** An erasure answers this long after its deletes: longer than a worker takes from its event check to its sends. */
const ERASURE_SETTLE_MS = 2_000;

export const privacyRecord = () => {
  const a = adapters();
  const removal = {
    events: a.events,
    attemptLog: a.attemptLog,
    index: a.privacy.index,
    subjectHashKey: a.privacy.subjectHashKey,
    poison: a.poison,
    maxPoisonMessages: MAX_POISON_MESSAGES_PER_RUN,
  };
  const purgeDeps = (context: InvocationContext): PurgeDeps => ({
    ...removal,
    purgeHistory: durablePurgeHistory(df.getClient(context)),
    // Events stored before this index existed: one more page of them indexed per run, until done.
    backfill: () => backfillPrivacyIndex({ events: a.events, index: a.privacy.index, subjectHashKey: a.privacy.subjectHashKey, maxEvents: a.config.RETENTION_MAX_EVENTS_PER_RUN }),
    maxEvents: a.config.RETENTION_MAX_EVENTS_PER_RUN,
  });
  return {
    adminApiKey: a.config.ADMIN_API_KEY,
    clock: a.clock,
    retentionDays: a.config.RETENTION_DAYS,
    purge: (before: Date, context: InvocationContext) => purgeEvents(purgeDeps(context))(before),
    erase: eraseSubject({ ...removal, maxEvents: MAX_EVENTS_PER_ERASURE, settleMs: ERASURE_SETTLE_MS }),
  };
};
