import * as A from 'fp-ts/Array';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as T from 'fp-ts/Task';
import * as TE from 'fp-ts/TaskEither';
import type { HttpSender, OutgoingRequest } from '../adapters/http/httpSender';
import type { RetryPolicy } from '../domain/backoff';
import { type AttemptRecord, carriedRecord, type DeliveryItem, type DeliveryMessage, MESSAGE_VERSION, type PoisonEntry } from '../domain/delivery';
import { publicEventCarriesPersonalData } from '../domain/catalogue';
import type { AppError } from '../domain/errors';
import { type AttemptResult, decide, loggedResult } from '../domain/outcome';
import { redactFiscalCodes } from '../domain/privacy';
import { signatureHeaders } from '../domain/signature';
import { isActive, isReservedHeaderName, signingSecrets, type Webhook } from '../domain/webhook';
import { hubSignature } from '../domain/websub';
import type { AttemptLog, AttemptLogEntry } from '../ports/attemptLog';
import type { Clock } from '../ports/clock';
import type { DeliveryQueue } from '../ports/deliveryQueue';
import type { EventStore } from '../ports/eventStore';
import type { WebhookLookup } from '../ports/webhookLookup';
import type { WebhookStore } from '../ports/webhookStore';

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
};

/** What one delivery came to; the effects are applied together after every POST of the message. */
type ItemResult = {
  readonly log: AttemptLogEntry;
  readonly retry?: { readonly item: DeliveryItem; readonly delaySeconds: number };
  readonly poison?: PoisonEntry;
  readonly disable?: string;
};

export type DeliverySummary = { readonly delivered: number; readonly retried: number; readonly poisoned: number; readonly gone: number; readonly skipped: number };

const tenantOf = (item: DeliveryItem): { tenantId?: string } => (item.tenantId === undefined ? {} : { tenantId: item.tenantId });

const skipped = (message: DeliveryMessage, item: DeliveryItem, at: string, decision: 'SkippedDisabledWebhook' | 'SkippedDeletedWebhook' | 'SkippedErasedEvent'): ItemResult => ({
  log: { eventId: message.eventId, deliveryId: item.deliveryId, webhookId: item.webhookId, attempt: 0, at, decision, ...tenantOf(item) },
});

/** The signed POST of one delivery to a webhook (DESIGN.md section 5); replays and test sends use it too. */
export const signedRequest = (input: { webhook: Webhook; deliveryId: string; body: unknown; at: Date }): OutgoingRequest => {
  const { webhook, at } = input;
  const body = JSON.stringify(input.body);
  const own: Record<string, string> = {
    'content-type': 'application/json',
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

/** One signed POST and what to do next (DESIGN.md section 5 for the headers). */
const attempt =
  (deps: DeliverDeps, message: DeliveryMessage) =>
  (item: DeliveryItem, webhook: Webhook): T.Task<ItemResult> => {
    const started = deps.clock.now();
    return pipe(
      deps.sender.send(signedRequest({ webhook, deliveryId: item.deliveryId, body: item.body, at: started })),
      // A receiver may echo the body: its excerpt goes to attempt rows and poison reasons, never a fiscal code.
      T.map((sent): AttemptResult => (sent.kind === 'Response' ? { ...sent, excerpt: redactFiscalCodes(sent.excerpt) } : sent)),
      T.map((result): ItemResult => {
        const now = deps.clock.now();
        const attemptNumber = item.attempts.length + 1;
        const record: AttemptRecord = { at: started.toISOString(), result };
        const carried = [...item.attempts, carriedRecord(record)];
        const base = { eventId: message.eventId, deliveryId: item.deliveryId, webhookId: item.webhookId, attempt: attemptNumber, at: record.at, result: loggedResult(result), ...tenantOf(item) };
        const decision = decide({ result, attempt: attemptNumber, policy: deps.policy, now, random: deps.random });
        switch (decision.kind) {
          case 'Delivered':
            return { log: { ...base, decision: 'Delivered' } };
          case 'RetryLater':
            return {
              log: { ...base, decision: 'RetryLater', nextAttemptAt: new Date(now.getTime() + decision.delaySeconds * 1000).toISOString() },
              retry: { item: { ...item, attempts: carried }, delaySeconds: decision.delaySeconds },
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
              },
            };
        }
      }),
    );
  };

const all = (tasks: readonly TE.TaskEither<AppError, unknown>[]): TE.TaskEither<AppError, readonly unknown[]> => pipe([...tasks], A.sequence(TE.ApplicativePar));

/** The stores a message's results must reach before the message may complete. */
const consequences = (deps: DeliverDeps, eventId: DeliveryMessage['eventId'], results: readonly ItemResult[]): TE.TaskEither<AppError, unknown>[] => {
  const poison = results.flatMap((r) => (r.poison ? [r.poison] : []));
  const disableAt = deps.clock.now().toISOString() as Webhook['updatedAt'];
  return [
    ...results.flatMap((r) => (r.retry ? [deps.queue.enqueue([{ v: MESSAGE_VERSION, eventId, items: [r.retry.item] }], { delaySeconds: r.retry.delaySeconds })] : [])),
    ...(poison.length > 0 ? [deps.queue.poison(poison)] : []),
    ...results.flatMap((r) =>
      r.disable
        ? [
            pipe(
              deps.webhooks.update(r.disable as Webhook['id'], (w) => E.right({ ...w, disabled: true, updatedAt: disableAt })),
              // Deleted meanwhile: nothing is left to disable, and failing would re-send the whole message.
              TE.orElse((e) => (e.kind === 'NotFound' ? TE.right(undefined) : TE.left(e))),
            ),
          ]
        : [],
    ),
  ];
};

/**
 * Delivers every item of one queue message concurrently, then applies the consequences: retries
 * re-enqueued alone with their backoff, poison entries set aside, 410s disabling their webhook.
 * Fails (Transient) only when a consequence could not be stored: the host then runs the whole
 * message again, and receivers drop the repeats by `webhook-id`. The attempt log is best effort.
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
const deliverItems = (deps: DeliverDeps, message: DeliveryMessage): TE.TaskEither<AppError, readonly ItemResult[]> =>
  pipe(
    deps.lookup([...new Set(message.items.map((i) => i.webhookId))], message.lookupRange),
    TE.chain((webhooks) =>
      pipe(
        eventErased(deps, message),
        TE.chain((erased): TE.TaskEither<AppError, readonly ItemResult[]> => {
          if (erased) {
            const at = deps.clock.now().toISOString();
            return TE.right(message.items.map((item) => skipped(message, item, at, 'SkippedErasedEvent')));
          }
          return TE.fromTask(
            pipe(
              message.items.map((item): T.Task<ItemResult> => {
                const webhook = webhooks.get(item.webhookId);
                const at = deps.clock.now().toISOString();
                if (webhook === undefined) return T.of(skipped(message, item, at, 'SkippedDeletedWebhook'));
                // Disabled, lease over, or endpoint not verified: the webhook receives nothing now.
                if (!isActive(webhook, new Date(at))) return T.of(skipped(message, item, at, 'SkippedDisabledWebhook'));
                return attempt(deps, message)(item, webhook);
              }),
              A.sequence(T.ApplicativePar),
            ),
          );
        }),
      ),
    ),
  );

export const deliverMessage =
  (deps: DeliverDeps) =>
  (message: DeliveryMessage): TE.TaskEither<AppError, DeliverySummary> =>
    pipe(
      deliverItems(deps, message),
      TE.chainFirst((results) => all(consequences(deps, message.eventId, results))),
      TE.chainFirst((results) =>
        pipe(
          // An erased event's attempts are not written: they would bring back rows the erasure deleted.
          deps.attemptLog.record(results.filter((r) => r.log.decision !== 'SkippedErasedEvent').map((r) => r.log)),
          TE.orElse((e): TE.TaskEither<AppError, void> => {
            deps.warn(`attempt log not written for event ${message.eventId}: ${e.message}`);
            return TE.right(undefined);
          }),
        ),
      ),
      TE.map((results) => ({
        delivered: results.filter((r) => r.log.decision === 'Delivered').length,
        retried: results.filter((r) => r.retry).length,
        poisoned: results.filter((r) => r.poison).length,
        gone: results.filter((r) => r.disable).length,
        skipped: results.filter((r) => r.log.attempt === 0).length,
      })),
    );
