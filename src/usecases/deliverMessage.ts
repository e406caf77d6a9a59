import * as A from 'fp-ts/Array';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as T from 'fp-ts/Task';
import * as TE from 'fp-ts/TaskEither';
import type { HttpSender, OutgoingRequest } from '../ports/httpSender';
import type { RetryPolicy } from '../domain/backoff';
import { type AttemptRecord, carriedRecord, type DeliveryItem, type DeliveryMessage, MESSAGE_VERSION, type PoisonEntry } from '../domain/delivery';
import { publicEventCarriesPersonalData } from '../domain/catalogue';
import type { AppError } from '../domain/errors';
import type { StatsObservation, StatsOutcome } from '../domain/deliveryStats';
import { applyHealthChange, type AutoDisablePolicy, healthChange, type HealthObservation } from '../domain/endpointHealth';
import type { OpsEvent } from '../domain/opsEvents';
import { type AttemptResult, decide, loggedResult } from '../domain/outcome';
import { redactFiscalCodes } from '../domain/privacy';
import { signatureHeaders } from '../domain/signature';
import { formatBody } from '../domain/bodyFormat';
import { isActive, isReservedHeaderName, signingSecrets, type Webhook } from '../domain/webhook';
import { hubSignature } from '../domain/websub';
import type { AttemptLog, AttemptLogEntry } from '../ports/attemptLog';
import type { Clock } from '../ports/clock';
import type { DeliveryQueue } from '../ports/deliveryQueue';
import type { DeliveryStats } from '../ports/deliveryStats';
import type { EventStore } from '../ports/eventStore';
import type { PublishOpsEvent } from '../ports/opsEvents';
import type { WebhookLookup } from '../ports/webhookLookup';
import type { WebhookStore } from '../ports/webhookStore';
import type { RateLimiter } from '../ports/rateLimiter';
import { heldItem, paceDeliveries } from './paceDeliveries';
import { HOLD_ON_ERROR_SECONDS } from '../domain/rateLimit';
import type { PayloadStore } from '../ports/payloadStore';
import { type RestoredBodies, restoreBodies } from './claimCheck';
import type { InFlightBytes } from './inFlightBytes';
import { endpointOf, type EndpointSlots, HOLD_BUSY_ENDPOINT_SECONDS } from './endpointSlots';

export const USER_AGENT = 'webhook-dispatcher/0.1';

export type DeliverDeps = {
  readonly lookup: WebhookLookup;
  readonly webhooks: Pick<WebhookStore, 'update'>;
  readonly sender: HttpSender;
  readonly queue: DeliveryQueue;
  readonly attemptLog: AttemptLog;
  readonly clock: Clock;
  readonly policy: RetryPolicy;
  readonly random?: () => number;
  /** Reports what cannot change the outcome (an attempt log that failed to write). */
  readonly warn: (message: string) => void;
  /**
   * Where a message whose deliveries carry personal data checks that its event still exists: an
   * erased or purged event's deliveries are skipped (docs/privacy.md). Absent: no check.
   */
  readonly events?: Pick<EventStore, 'get'>;
  /** AUTO_DISABLE_AFTER_SECONDS and AUTO_DISABLE_MIN_FAILURES; absent, only a 410 disables. */
  readonly autoDisable?: AutoDisablePolicy;
  /**
   * Failures of a running streak this process saw but did not write (the row's count is written up
   * to the minimum, then at most hourly): added at the next write, so the count stays exact per process.
   */
  readonly unwrittenFailures?: Map<string, number>;
  /** Per-webhook counters for GET /api/webhooks/{id}/stats; best effort, like the attempt log. */
  readonly stats?: DeliveryStats;
  /** OPS_WEBHOOK_URL: webhook.disabled and delivery.exhausted; best effort. */
  readonly publishOpsEvent?: PublishOpsEvent;
  /** Send slots of rate-limited webhooks (./paceDeliveries); unlimited webhooks never reach it. */
  readonly rateLimiter?: RateLimiter;
  /** Large payloads' blobs, read once per message that names one (docs/delivery.md, "Large payloads"). */
  readonly payloads?: PayloadStore;
  /** MAX_INFLIGHT_DELIVERY_BYTES: request bodies being sent at once, process-wide; absent = no bound. */
  readonly inFlight?: InFlightBytes;
  /** MAX_INFLIGHT_REQUESTS_PER_ENDPOINT: requests in flight to one webhook URL, process-wide; absent = no bound. */
  readonly endpointSlots?: EndpointSlots;
};

/** What one delivery came to; the effects are applied together after every POST of the message. */
type ItemResult = {
  readonly log: AttemptLogEntry;
  readonly retry?: { readonly item: DeliveryItem; readonly delaySeconds: number };
  readonly poison?: PoisonEntry;
  readonly disable?: string;
  /** The webhook as the lookup read it, when an attempt was made (endpoint health starts from it). */
  readonly webhook?: Webhook;
};

export type DeliverySummary = { readonly delivered: number; readonly retried: number; readonly poisoned: number; readonly gone: number; readonly skipped: number; readonly held: number };

/** A delivery held back by its webhook's rate limit: re-enqueued as it is, no attempt made or logged. */
type HeldItem = { readonly item: DeliveryItem; readonly delaySeconds: number };
type MessageResults = { readonly results: readonly ItemResult[]; readonly held: readonly HeldItem[] };

const tenantOf = (item: DeliveryItem): { tenantId?: string } => (item.tenantId === undefined ? {} : { tenantId: item.tenantId });

const skipped = (message: DeliveryMessage, item: DeliveryItem, at: string, decision: 'SkippedDisabledWebhook' | 'SkippedDeletedWebhook' | 'SkippedErasedEvent'): ItemResult => ({
  log: { eventId: message.eventId, deliveryId: item.deliveryId, webhookId: item.webhookId, attempt: 0, at, decision, ...tenantOf(item) },
});

/** The signed POST of one delivery to a webhook (DESIGN.md section 5); replays and test sends use it too. */
export const signedRequest = (input: { webhook: Webhook; deliveryId: string; body: unknown; at: Date }): OutgoingRequest => {
  const { webhook, at } = input;
  const formatted = formatBody({ format: webhook.format, deliveryId: input.deliveryId, body: input.body, at });
  const body = formatted.text;
  const own: Record<string, string> = {
    'content-type': formatted.contentType,
    'user-agent': USER_AGENT,
    // During a rotation's overlap both secrets sign: receivers holding either one verify.
    ...signatureHeaders({ secrets: signingSecrets(webhook, at), id: input.deliveryId, timestampSeconds: Math.floor(at.getTime() / 1000), body }),
    ...(webhook.websubTopic === undefined ? {} : { 'x-hub-signature': hubSignature(webhook.secret, body) }),
  };
  // Header names ignore case: a webhook header spelled `Content-Type` or `Webhook-Signature` would be
  // sent beside ours, not instead of it. The registry refuses them; rows written earlier may not have.
  const added = Object.entries(webhook.headers).filter(([name]) => !isReservedHeaderName(name) && !(name.toLowerCase() in own));
  return { url: webhook.url, headers: { ...Object.fromEntries(added), ...own }, body, ...(webhook.timeoutMs === undefined ? {} : { timeoutMs: webhook.timeoutMs }) };
};

const withoutSlot = ({ slotMs: _slot, ...item }: DeliveryItem): DeliveryItem => item;

/** One signed POST and what to do next (DESIGN.md section 5 for the headers). */
const attempt =
  (deps: DeliverDeps, message: DeliveryMessage) =>
  (item: DeliveryItem, webhook: Webhook, body: DeliveryItem['body'] = item.body): T.Task<ItemResult> => {
    const started = deps.clock.now();
    return pipe(
      deps.sender.send(signedRequest({ webhook, deliveryId: item.deliveryId, body, at: started })),
      // A receiver may echo the body: its excerpt goes to attempt rows and poison reasons, never a fiscal code.
      T.map((sent): AttemptResult => (sent.kind === 'Response' ? { ...sent, excerpt: redactFiscalCodes(sent.excerpt) } : sent)),
      T.map((result): ItemResult => {
        const now = deps.clock.now();
        const attemptNumber = item.attempts.length + 1;
        const record: AttemptRecord = { at: started.toISOString(), result };
        const carried = [...item.attempts, carriedRecord(record)];
        const base = { eventId: message.eventId, deliveryId: item.deliveryId, webhookId: item.webhookId, attempt: attemptNumber, at: record.at, result: loggedResult(result), ...tenantOf(item) };
        const decision = decide({ result, attempt: attemptNumber, policy: deps.policy, now, random: deps.random, maxAttempts: webhook.maxAttempts });
        switch (decision.kind) {
          case 'Delivered':
            return { log: { ...base, decision: 'Delivered' } };
          case 'RetryLater':
            return {
              log: { ...base, decision: 'RetryLater', nextAttemptAt: new Date(now.getTime() + decision.delaySeconds * 1000).toISOString() },
              // A retry is a new send: it reserves a new slot (the one it held is spent).
              retry: { item: { ...withoutSlot(item), attempts: carried }, delaySeconds: decision.delaySeconds },
            };
          case 'DisableWebhook':
            return { log: { ...base, decision: 'WebhookDisabledByGone' }, disable: item.webhookId };
          case 'Poison':
            return {
              log: { ...base, decision: 'Poisoned' },
              poison: {
                kind: 'undeliverable',
                v: MESSAGE_VERSION,
                eventId: message.eventId,
                deliveryId: item.deliveryId,
                webhookId: item.webhookId,
                body: item.body,
                attempts: carried,
                reason: decision.reason,
                poisonedAt: now.toISOString(),
                ...tenantOf(item),
                ...(item.claimed === undefined || message.payloadRef === undefined ? {} : { payloadRef: message.payloadRef, claimed: item.claimed }),
              },
            };
        }
      }),
    );
  };

/** What a body weighs while it is sent: its longest strings dominate (a UTF-16 estimate is enough for a budget). */
const bodyBytes = (body: DeliveryItem['body']): number => Object.values(body.payload).reduce((sum, v) => sum + v.length, 64);

/**
 * `send` holding one of the endpoint's slots (./endpointSlots), told whether it waited for it; `busy`
 * when none freed in time. Without a bound, `send` at once.
 */
const endpointBound = (input: {
  readonly slots: EndpointSlots | undefined;
  readonly url: string;
  readonly send: (waited: boolean) => T.Task<ItemResult | undefined>;
  readonly busy: () => void;
}): T.Task<ItemResult | undefined> => {
  const { slots, url, send, busy } = input;
  return slots === undefined
    ? () => send(false)()
    : async () => {
        const admission = await slots.acquire(endpointOf(url))();
        if (admission.kind === 'Busy') {
          busy();
          return undefined;
        }
        try {
          return await send(admission.waitedMs > 0)();
        } finally {
          admission.release();
        }
      };
};

/** A message of deliveries sent again (retries, held back); claimed fields still come from the event's payload blob. */
const requeued = ({ eventId, payloadRef }: Pick<DeliveryMessage, 'eventId' | 'payloadRef'>, items: readonly DeliveryItem[]): DeliveryMessage => ({
  v: MESSAGE_VERSION,
  eventId,
  ...(payloadRef === undefined || items.every((i) => i.claimed === undefined) ? {} : { payloadRef }),
  items: [...items],
});

const all = (tasks: readonly TE.TaskEither<AppError, unknown>[]): TE.TaskEither<AppError, readonly unknown[]> => pipe([...tasks], A.sequence(TE.ApplicativePar));

/** The stores a message's results must reach before the message may complete. */
const consequences = (deps: DeliverDeps, { eventId, payloadRef }: DeliveryMessage, results: readonly ItemResult[]): TE.TaskEither<AppError, unknown>[] => {
  const poison = results.flatMap((r) => (r.poison ? [r.poison] : []));
  const disableAt = deps.clock.now().toISOString() as Webhook['updatedAt'];
  return [
    ...results.flatMap((r) =>
      r.retry
        ? [
            deps.queue.enqueue([requeued({ eventId, payloadRef }, [r.retry.item])], {
              delaySeconds: r.retry.delaySeconds,
            }),
          ]
        : [],
    ),
    ...(poison.length > 0 ? [deps.queue.poison(poison)] : []),
    ...results.flatMap((r) =>
      r.disable
        ? [
            pipe(
              deps.webhooks.update(r.disable as Webhook['id'], (w) => E.right({ ...applyHealthChange(w, { kind: 'Disable', reason: { kind: 'Gone' } }), updatedAt: disableAt })),
              // Deleted meanwhile: nothing is left to disable, and failing would re-send the whole message.
              TE.orElse((e) => (e.kind === 'NotFound' ? TE.right(undefined) : TE.left(e))),
            ),
          ]
        : [],
    ),
  ];
};

/** Held deliveries go back to the queue, one message per delay (they came from one message: they fit in one). */
const holdBack = (deps: DeliverDeps, { eventId, payloadRef }: DeliveryMessage, held: readonly HeldItem[]): TE.TaskEither<AppError, unknown>[] => {
  const byDelay = new Map<number, DeliveryItem[]>();
  for (const h of held) byDelay.set(h.delaySeconds, [...(byDelay.get(h.delaySeconds) ?? []), h.item]);
  return [...byDelay].map(([delaySeconds, items]) => deps.queue.enqueue([requeued({ eventId, payloadRef }, items)], { delaySeconds }));
};

const STATS_OUTCOMES: Partial<Record<AttemptLogEntry['decision'], StatsOutcome>> = { Delivered: 'Delivered', RetryLater: 'RetryLater', Poisoned: 'Poisoned', WebhookDisabledByGone: 'Gone' };

/** The message's attempts as the stats counters take them (skipped deliveries made none). */
const statsObservations = (results: readonly ItemResult[]): StatsObservation[] =>
  results.flatMap(({ log }) => {
    const outcome = STATS_OUTCOMES[log.decision];
    return outcome === undefined || log.result === undefined ? [] : [{ webhookId: log.webhookId, at: log.at, outcome, latencyMs: log.result.latencyMs }];
  });

/** Per webhook of the message: did an attempt succeed, and how many failed (a 410 disables on its own). */
const healthObservations = (results: readonly ItemResult[]): Map<string, HealthObservation> => {
  const byWebhook = new Map<string, HealthObservation>();
  for (const { log } of results) {
    if (log.decision !== 'Delivered' && log.decision !== 'RetryLater' && log.decision !== 'Poisoned') continue;
    const seen = byWebhook.get(log.webhookId) ?? { succeeded: false, failures: 0 };
    byWebhook.set(
      log.webhookId,
      log.decision === 'Delivered'
        ? { ...seen, succeeded: true }
        : { ...seen, failures: seen.failures + 1, firstFailureAt: seen.firstFailureAt === undefined || log.at < seen.firstFailureAt ? log.at : seen.firstFailureAt },
    );
  }
  return byWebhook;
};

const bestEffort =
  (deps: DeliverDeps, what: string) =>
  (task: TE.TaskEither<AppError, unknown>): T.Task<void> =>
    pipe(
      task,
      TE.match(
        (e) => deps.warn(`${what}: ${e.message}`),
        () => undefined,
      ),
    );

/**
 * Auto-disable (docs/delivery.md, "Endpoint health"): the webhook row is written only when its
 * state changes, decided first on the copy the lookup read and again on the row being written.
 * Returns the webhooks this message disabled.
 */
const updateHealth = (deps: DeliverDeps, results: readonly ItemResult[]): T.Task<Webhook[]> => {
  const policy = deps.autoDisable;
  if (policy === undefined || policy.afterSeconds === 0) return T.of([]);
  const now = deps.clock.now();
  const unwritten = deps.unwrittenFailures ?? new Map<string, number>();
  const writes = [...healthObservations(results)].flatMap(([webhookId, seen]) => {
    const read = results.find((r) => r.webhook?.id === webhookId)?.webhook;
    if (read === undefined) return [];
    const observed = seen.succeeded ? seen : { ...seen, failures: seen.failures + (unwritten.get(webhookId) ?? 0) };
    if (healthChange({ current: read, observed, now, policy }) === undefined) {
      if (seen.succeeded) unwritten.delete(webhookId);
      else if (read.failing !== undefined) unwritten.set(webhookId, observed.failures);
      return [];
    }
    let disabled: Webhook | undefined;
    const write = pipe(
      deps.webhooks.update(webhookId as Webhook['id'], (current) => {
        const change = healthChange({ current, observed, now, policy });
        const next = change === undefined ? current : applyHealthChange(current, change);
        disabled = change?.kind === 'Disable' ? next : undefined;
        return E.right(next);
      }),
      TE.map(() => {
        unwritten.delete(webhookId);
        return disabled === undefined ? [] : [disabled];
      }),
      TE.getOrElse((e) => {
        deps.warn(`endpoint health of webhook ${webhookId} not written: ${e.message}`);
        return T.of<Webhook[]>([]);
      }),
    );
    return [write];
  });
  return pipe(
    writes,
    A.sequence(T.ApplicativePar),
    T.map((lists) => lists.flat()),
  );
};

const disabledEvent = (webhook: Webhook, at: string): OpsEvent => ({
  name: 'webhook.disabled',
  payload: { webhookId: webhook.id, reason: webhook.disabledReason ?? { kind: 'Gone' }, at, ...(webhook.tenantId === undefined ? {} : { tenantId: webhook.tenantId }) },
});

/** The reason and the counts, never the payload. */
const exhaustedEvent = (entry: PoisonEntry): OpsEvent => ({
  name: 'delivery.exhausted',
  payload: {
    webhookId: entry.webhookId,
    eventId: entry.eventId,
    deliveryId: entry.deliveryId,
    attempts: entry.attempts.length,
    reason: entry.reason.kind === 'UnreadableMessage' ? { kind: 'InvalidRequest', message: entry.reason.message } : entry.reason,
    at: entry.poisonedAt,
    ...(entry.tenantId === undefined ? {} : { tenantId: entry.tenantId }),
  },
});

/** What the ops receiver hears of this message: disabled webhooks and exhausted deliveries. */
const publishOps = (deps: DeliverDeps, results: readonly ItemResult[], autoDisabled: readonly Webhook[]): T.Task<void> => {
  const publish = deps.publishOpsEvent;
  if (publish === undefined) return T.of(undefined);
  const at = deps.clock.now().toISOString();
  const gone = results.flatMap((r) => {
    const w = r.disable === undefined ? undefined : r.webhook;
    return w === undefined ? [] : [disabledEvent({ ...w, disabledReason: { kind: 'Gone' } }, at)];
  });
  const events = [...gone, ...autoDisabled.map((w) => disabledEvent(w, at)), ...results.flatMap((r) => (r.poison ? [exhaustedEvent(r.poison)] : []))];
  return pipe(
    events.map((event) => bestEffort(deps, `operational event ${event.name} not sent`)(publish(event))),
    A.sequence(T.ApplicativePar),
    T.map(() => undefined),
  );
};

/** Stats counters, endpoint health, then operational events: all best effort, after the consequences are stored. */
const afterDelivery = (deps: DeliverDeps, message: DeliveryMessage, results: readonly ItemResult[]): T.Task<unknown> =>
  pipe(
    [
      deps.stats === undefined ? T.of(undefined) : bestEffort(deps, `delivery stats not written for event ${message.eventId}`)(deps.stats.record(statsObservations(results))),
      pipe(
        updateHealth(deps, results),
        T.chain((autoDisabled) => publishOps(deps, results, autoDisabled)),
      ),
    ],
    A.sequence(T.ApplicativePar),
  );

/**
 * Delivers every item of one queue message concurrently, then applies the consequences: retries
 * re-enqueued alone with their backoff, poison entries set aside, 410s disabling their webhook.
 * Fails (Transient) only when a consequence could not be stored: the host then runs the whole
 * message again, and receivers drop the repeats by `webhook-id`. The attempt log, the stats
 * counters, endpoint health and operational events are best effort.
 */
/**
 * Whether the message's event is gone (erased or purged). Only messages carrying personal data pay
 * the point read; a failed read fails the message (it is retried), so nothing is sent unchecked.
 */
const eventErased = (deps: DeliverDeps, message: DeliveryMessage): TE.TaskEither<AppError, boolean> =>
  deps.events === undefined || !message.items.some((i) => publicEventCarriesPersonalData(i.body.name))
    ? TE.right(false)
    : pipe(
        deps.events.get(message.eventId),
        TE.map(() => false),
        TE.orElse((e) => (e.kind === 'NotFound' ? TE.right(true) : TE.left(e))),
      );

/**
 * The webhooks first, then the event check, then the sends at once: the check is the last storage
 * call before a request leaves, so an erasure that answered (it waits ERASURE_SETTLE_MS after its
 * deletes, docs/privacy.md) is never followed by a send that checked before it.
 */
const deliverItems = (deps: DeliverDeps, message: DeliveryMessage): TE.TaskEither<AppError, MessageResults> =>
  pipe(
    deps.lookup([...new Set(message.items.map((i) => i.webhookId))], message.lookupHint),
    TE.chain((webhooks) => {
      const now = deps.clock.now();
      const active = message.items.flatMap((item) => {
        const webhook = webhooks.get(item.webhookId);
        return webhook !== undefined && isActive(webhook, now) ? [{ item, webhook }] : [];
      });
      // Rate limit slots are reserved before the event check, which stays the last storage call before a send.
      return pipe(
        TE.fromTask(paceDeliveries(deps, active)),
        TE.chain((paces) =>
          pipe(
            eventErased(deps, message),
            // A large payload's blob, once for the whole message, after the erasure check (its blob goes with the event).
            TE.chain((erased): TE.TaskEither<AppError, { erased: boolean; restored?: RestoredBodies }> =>
              erased
                ? TE.right({ erased })
                : pipe(
                    restoreBodies(deps.payloads, message),
                    TE.map((restored) => ({ erased, restored })),
                  ),
            ),
            TE.map(({ erased, restored }) => ({ paces, erased, restored })),
          ),
        ),
        TE.chain(({ paces, erased, restored }): TE.TaskEither<AppError, MessageResults> => {
          if (erased || restored?.kind === 'Gone') {
            const at = deps.clock.now().toISOString();
            return TE.right({ results: message.items.map((item) => skipped(message, item, at, 'SkippedErasedEvent')), held: [] });
          }
          const held: HeldItem[] = [];
          return TE.fromTask(
            pipe(
              message.items.flatMap((item): T.Task<ItemResult | undefined>[] => {
                const webhook = webhooks.get(item.webhookId);
                const at = deps.clock.now().toISOString();
                if (webhook === undefined) return [T.of(skipped(message, item, at, 'SkippedDeletedWebhook'))];
                // Disabled, lease over, or endpoint not verified: the webhook receives nothing now.
                if (!isActive(webhook, new Date(at))) return [T.of(skipped(message, item, at, 'SkippedDisabledWebhook'))];
                const pace = paces.get(item.deliveryId);
                if (pace?.kind === 'Hold') {
                  held.push({ item: heldItem(item, pace), delaySeconds: pace.delaySeconds });
                  return [];
                }
                const body = restored?.kind === 'Bodies' ? (restored.bodies.get(item.deliveryId) ?? item.body) : item.body;
                // Lazily, so the body is serialized only once the in-flight budget lets it go.
                const attemptNow: T.Task<ItemResult> = () => attempt(deps, message)(item, webhook, body)();
                const send = pipe(
                  deps.inFlight === undefined ? attemptNow : deps.inFlight.within(bodyBytes(body), attemptNow),
                  T.map((r): ItemResult | undefined => ({ ...r, webhook })),
                );
                // Waiting (for a rate limit slot or an endpoint slot) puts time between the event check and the send: a personal-data event is checked again.
                // Built only when needed: a port may start its read when called.
                const checkedAgain = (): T.Task<ItemResult | undefined> =>
                  pipe(
                    eventErased(deps, { ...message, items: [item] }),
                    T.chain(
                      E.match(
                        (): T.Task<ItemResult | undefined> => {
                          held.push({ item: heldItem(item, { kind: 'Hold', delaySeconds: HOLD_ON_ERROR_SECONDS }), delaySeconds: HOLD_ON_ERROR_SECONDS });
                          return T.of(undefined);
                        },
                        (gone) => (gone ? T.of(skipped(message, item, deps.clock.now().toISOString(), 'SkippedErasedEvent')) : send),
                      ),
                    ),
                  );
                const waitedForPace = pace !== undefined && pace.waitMs > 0;
                const withinEndpoint = endpointBound({
                  slots: deps.endpointSlots,
                  url: webhook.url,
                  send: (waited) => (waited || waitedForPace ? checkedAgain() : send),
                  // Every slot of the endpoint stayed taken: held back like a rate-limited delivery, not an attempt.
                  busy: () => held.push({ item, delaySeconds: HOLD_BUSY_ENDPOINT_SECONDS }),
                });
                return [waitedForPace ? T.delay(pace.waitMs)(withinEndpoint) : withinEndpoint];
              }),
              A.sequence(T.ApplicativePar),
              T.map((results) => ({ results: results.filter((r): r is ItemResult => r !== undefined), held })),
            ),
          );
        }),
      );
    }),
  );

export const deliverMessage =
  (deps: DeliverDeps) =>
  (message: DeliveryMessage): TE.TaskEither<AppError, DeliverySummary> =>
    pipe(
      deliverItems(deps, message),
      TE.chainFirst(({ results, held }) => all([...consequences(deps, message, results), ...holdBack(deps, message, held)])),
      TE.chainFirst(({ results }) =>
        pipe(
          // An erased event's attempts are not written: they would bring back rows the erasure deleted.
          deps.attemptLog.record(results.filter((r) => r.log.decision !== 'SkippedErasedEvent').map((r) => r.log)),
          TE.orElse((e): TE.TaskEither<AppError, void> => {
            deps.warn(`attempt log not written for event ${message.eventId}: ${e.message}`);
            return TE.right(undefined);
          }),
        ),
      ),
      TE.chainFirst(({ results }) => TE.fromTask(afterDelivery(deps, message, results))),
      TE.map(({ results, held }) => ({
        delivered: results.filter((r) => r.log.decision === 'Delivered').length,
        retried: results.filter((r) => r.retry).length,
        poisoned: results.filter((r) => r.poison).length,
        gone: results.filter((r) => r.disable).length,
        skipped: results.filter((r) => r.log.attempt === 0).length,
        held: held.length,
      })),
    );
