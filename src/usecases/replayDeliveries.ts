import { claimCheckOf, type PayloadRef } from '../domain/claimCheck';
import { claimedItems, withPayloadRef } from './claimCheck';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { decodePayload, planForEvent } from '../domain/catalogue';
import { type DeliveryItem, deliveryIdFor, type DeliveryMessage, packMessages } from '../domain/delivery';
import { type AppError, conflict, notFound } from '../domain/errors';
import type { EventId } from '../domain/events';
import { deliveriesFor } from '../domain/mapping';
import { hourBucketOf } from '../domain/privacy';
import { type ReplayId, ReplayRequest, type ReplayStatus, replayIdFor, replayWindow, ResendRequest } from '../domain/replay';
import { type Principal } from '../domain/tenant';
import { canReceive, type WebhookWithoutSecrets } from '../domain/webhook';
import type { AttemptLog, AttemptLogEntry } from '../ports/attemptLog';
import type { Clock } from '../ports/clock';
import type { DeliveryQueue } from '../ports/deliveryQueue';
import type { EventStore, StoredEvent } from '../ports/eventStore';
import type { PrivacyIndex } from '../ports/privacyIndex';
import type { ReadReplay, ReplayCursor, StartReplay } from '../ports/replay';
import type { TenantGrants } from '../ports/tenantGrants';
import type { WebhookStore } from '../ports/webhookStore';
import { decodeOrInvalid } from './decode';
import { grantedOnly } from './enqueueFanOutPage';
import { getWebhook } from './getWebhook';

export type RedeliverDeps = {
  readonly webhooks: Pick<WebhookStore, 'get'>;
  readonly events: Pick<EventStore, 'get'>;
  /** The retention index's hour buckets (docs/privacy.md): replay "all" pages the window's events without a scan. */
  readonly buckets: Pick<PrivacyIndex, 'bucketPage'>;
  readonly attemptLog: Pick<AttemptLog, 'forEvent' | 'problemsBetween' | 'record'>;
  readonly queue: DeliveryQueue;
  readonly grantsOf: TenantGrants;
  readonly clock: Clock;
  readonly maxDeliveriesPerMessage: number;
};

/** The blob reference of a large payload's event, for its replayed messages. */
const payloadRefOf = (event: StoredEvent): { payloadRef?: PayloadRef } => {
  const ref = claimCheckOf(event.payload)?.ref;
  return ref === undefined ? {} : { payloadRef: ref };
};

/**
 * The deliveries of one stored event to one webhook, as the fan-out makes them (same plans, same
 * matching, same routing grants), so the `webhook-id` and the body are those of the original. A
 * tenant's webhook gets nothing outside its grants: another tenant's events are never replayed to it.
 */
export const redeliveriesFor =
  (deps: Pick<RedeliverDeps, 'grantsOf'>) =>
  (event: StoredEvent, webhook: WebhookWithoutSecrets): TE.TaskEither<AppError, DeliveryItem[]> => {
    const decoded = decodePayload(event.name, event.payload);
    if (decoded._tag === 'Left') return TE.right([]);
    return pipe(
      [...planForEvent(decoded.right)],
      TE.traverseSeqArray((plan) =>
        pipe(
          grantedOnly(deps.grantsOf, plan, [webhook]),
          TE.map((granted) =>
            deliveriesFor(plan, granted).map((d): DeliveryItem => ({
              deliveryId: deliveryIdFor({ eventId: event.id, publicEventName: d.body.name, webhookId: d.webhook.id }),
              webhookId: d.webhook.id,
              ...(d.webhook.tenantId === undefined ? {} : { tenantId: d.webhook.tenantId }),
              body: { name: d.body.name, payload: { ...d.body.payload } },
              attempts: [],
            })),
          ),
        ),
      ),
      // A large payload's long fields stay in its blob (enqueueAll names it in the messages).
      TE.map((lists) => claimedItems(event.payload, lists.flat()).items),
    );
  };

/**
 * Enqueues the deliveries, after writing a `Requeued` entry for each: a replay that runs meanwhile
 * (another window, the same request after this one finished) then finds them no longer failed.
 */
const enqueueAll = (
  deps: Pick<RedeliverDeps, 'queue' | 'maxDeliveriesPerMessage' | 'attemptLog' | 'clock'>,
  byEvent: readonly { eventId: EventId; items: DeliveryItem[]; payloadRef?: PayloadRef }[],
): TE.TaskEither<AppError, number> => {
  const messages: DeliveryMessage[] = byEvent.flatMap(({ eventId, items, payloadRef }) => withPayloadRef(packMessages(eventId, items, deps.maxDeliveriesPerMessage), payloadRef));
  const at = deps.clock.now().toISOString();
  const entries: AttemptLogEntry[] = byEvent.flatMap(({ eventId, items }) =>
    items.map((i) => ({ eventId, deliveryId: i.deliveryId, webhookId: i.webhookId, attempt: 0, at, decision: 'Requeued' as const, ...(i.tenantId === undefined ? {} : { tenantId: i.tenantId }) })),
  );
  const count = entries.length;
  return messages.length === 0
    ? TE.right(0)
    : pipe(
        deps.attemptLog.record(entries),
        TE.chain(() => deps.queue.enqueue(messages)),
        TE.map(() => count),
      );
};

const receiving = (webhook: WebhookWithoutSecrets): TE.TaskEither<AppError, WebhookWithoutSecrets> =>
  canReceive(webhook) ? TE.right(webhook) : TE.left(conflict(`Webhook ${webhook.id} is disabled or not verified: enable it first (PATCH {"disabled": false})`));

/** POST /api/webhooks/{id}/resend {"eventId"}: that event's delivery to the webhook again, whatever its state. */
export const resendDelivery =
  (deps: RedeliverDeps) =>
  (input: { webhookId: string; body: unknown; principal: Principal }): TE.TaskEither<AppError, { deliveryIds: string[] }> =>
    pipe(
      TE.fromEither(decodeOrInvalid(ResendRequest, input.body, { what: 'The resend request' })),
      TE.chain((request) =>
        pipe(
          getWebhook(deps.webhooks as WebhookStore)(input.webhookId, input.principal),
          TE.chain(receiving),
          TE.chain((webhook) =>
            pipe(
              deps.events.get(request.eventId),
              TE.chain((event) =>
                pipe(
                  redeliveriesFor(deps)(event, webhook),
                  TE.map((items) => ({ items, ref: payloadRefOf(event) })),
                ),
              ),
              TE.chain(({ items, ref }) =>
                items.length === 0
                  ? TE.left(notFound(`Event ${request.eventId} has no delivery to webhook ${webhook.id}`))
                  : pipe(
                      enqueueAll(deps, [{ eventId: request.eventId, items, ...ref }]),
                      TE.map(() => ({ deliveryIds: items.map((i) => i.deliveryId as string) })),
                    ),
              ),
            ),
          ),
        ),
      ),
    );

/** POST /api/webhooks/{id}/replay: checks the request and starts (or finds running) its orchestration. */
export const startReplay =
  (deps: Pick<RedeliverDeps, 'webhooks' | 'clock'> & { readonly start: StartReplay; readonly retentionDays: number }) =>
  (input: { webhookId: string; body: unknown; principal: Principal }): TE.TaskEither<AppError, { id: ReplayId }> => {
    const now = deps.clock.now();
    return pipe(
      getWebhook(deps.webhooks as WebhookStore)(input.webhookId, input.principal),
      TE.chain((webhook) =>
        pipe(
          TE.fromEither(decodeOrInvalid(ReplayRequest, input.body, { what: 'The replay request' })),
          TE.chainEitherK((request) => replayWindow(request, { now, retentionDays: deps.retentionDays })),
          TE.chain((window) =>
            pipe(
              receiving(webhook),
              TE.map(() => window),
            ),
          ),
          TE.chain((window) => {
            const body = input.body as ReplayRequest;
            const replayId = replayIdFor({ webhookId: webhook.id, since: window.since, ...(body.until === undefined ? {} : { until: window.until }), only: window.only });
            return pipe(
              deps.start({ ...window, replayId, webhookId: webhook.id, scanUntil: now.toISOString(), deliveries: 0 }),
              TE.map(() => ({ id: replayId })),
            );
          }),
        ),
      ),
    );
  };

/** GET /api/webhooks/{id}/replays/{replayId}: 404 for an unknown id, or one of another webhook. */
export const readReplay =
  (deps: Pick<RedeliverDeps, 'webhooks'> & { readonly read: ReadReplay }) =>
  (input: { webhookId: string; replayId: string; principal: Principal }): TE.TaskEither<AppError, ReplayStatus> =>
    pipe(
      getWebhook(deps.webhooks as WebhookStore)(input.webhookId, input.principal),
      TE.chain((webhook) =>
        /^rpl_[0-9a-f]{32}$/.test(input.replayId)
          ? pipe(
              deps.read(input.replayId as ReplayId),
              TE.map((status) => (status?.webhookId === webhook.id ? status : undefined)),
            )
          : TE.right(undefined),
      ),
      TE.chain((status) => {
        if (status === undefined) return TE.left(notFound(`No replay "${input.replayId.slice(0, 64)}" of webhook ${input.webhookId.slice(0, 64)}`));
        const { webhookId: _w, ...shown } = status;
        return TE.right(shown);
      }),
    );

export type ReplayPageResult = { readonly deliveries: number; readonly next?: ReplayCursor };

/** Attempts per page in failed mode, events per page in all mode: each page is one activity. */
export const REPLAY_PAGE_SIZE = 200;

const isFinalFailure = (e: AttemptLogEntry): boolean => e.decision === 'Poisoned' || e.decision === 'WebhookDisabledByGone';

/**
 * A final failure is replayed only when it is still its delivery's last word (nothing after it in the
 * event's log: no later success, no resend under way), and only from that one row, so a delivery
 * poisoned twice is replayed once.
 */
const stillFailed = (failure: AttemptLogEntry, log: readonly AttemptLogEntry[]): boolean => {
  const own = log.filter((e) => e.deliveryId === failure.deliveryId).sort((a, b) => a.at.localeCompare(b.at) || a.attempt - b.attempt);
  const last = own[own.length - 1];
  return last === undefined || (last.at === failure.at && last.attempt === failure.attempt && isFinalFailure(last));
};

const inWindow = (event: StoredEvent, cursor: ReplayCursor): boolean => event.receivedAt >= cursor.since && event.receivedAt < cursor.until;

/** The event, or undefined when it is gone (expired or erased): nothing is left to replay. */
const eventOrGone = (deps: Pick<RedeliverDeps, 'events'>, id: string): TE.TaskEither<AppError, StoredEvent | undefined> =>
  pipe(
    deps.events.get(id as EventId),
    TE.map((e): StoredEvent | undefined => e),
    TE.orElse((e) => (e.kind === 'NotFound' ? TE.right(undefined) : TE.left(e))),
  );

const failedPage = (deps: RedeliverDeps, cursor: ReplayCursor, webhook: WebhookWithoutSecrets) =>
  pipe(
    deps.attemptLog.problemsBetween({
      webhookId: cursor.webhookId,
      from: cursor.since,
      to: cursor.scanUntil,
      pageSize: REPLAY_PAGE_SIZE,
      ...(cursor.continuationToken === undefined ? {} : { continuationToken: cursor.continuationToken }),
    }),
    TE.chain((page) => {
      const failures = page.items.filter(isFinalFailure);
      const eventIds = [...new Set(failures.map((f) => f.eventId))];
      return pipe(
        eventIds,
        TE.traverseSeqArray((eventId) =>
          pipe(
            eventOrGone(deps, eventId),
            TE.chain((event) => {
              if (event === undefined || !inWindow(event, cursor)) return TE.right(undefined);
              return pipe(
                deps.attemptLog.forEvent(eventId),
                TE.map((log) => new Set(failures.filter((f) => f.eventId === eventId && stillFailed(f, log)).map((f) => f.deliveryId))),
                TE.chain((ids) =>
                  ids.size === 0
                    ? TE.right(undefined)
                    : pipe(
                        redeliveriesFor(deps)(event, webhook),
                        TE.map((items) => ({ eventId: event.id, items: items.filter((i) => ids.has(i.deliveryId)), ...payloadRefOf(event) })),
                      ),
                ),
              );
            }),
          ),
        ),
        TE.map((found) => ({ found: found.flatMap((f) => (f === undefined ? [] : [f])), continuationToken: page.continuationToken })),
      );
    }),
  );

/** The hour buckets cover whole hours: each event is read, and kept only when received inside the window. */
const allPage = (deps: RedeliverDeps, cursor: ReplayCursor, webhook: WebhookWithoutSecrets) =>
  pipe(
    deps.buckets.bucketPage({
      fromHour: hourBucketOf(cursor.since),
      toHour: hourBucketOf(cursor.until),
      pageSize: REPLAY_PAGE_SIZE,
      ...(cursor.continuationToken === undefined ? {} : { continuationToken: cursor.continuationToken }),
    }),
    TE.chain((page) =>
      pipe(
        page.items,
        TE.traverseSeqArray((row) =>
          pipe(
            eventOrGone(deps, row.eventId),
            TE.chain((event) =>
              event === undefined || !inWindow(event, cursor)
                ? TE.right(undefined)
                : pipe(
                    redeliveriesFor(deps)(event, webhook),
                    TE.map((items) => ({ eventId: event.id, items, ...payloadRefOf(event) })),
                  ),
            ),
          ),
        ),
        TE.map((found) => ({ found: found.flatMap((f) => (f === undefined ? [] : [f])), continuationToken: page.continuationToken })),
      ),
    ),
  );

/**
 * One page of a replay (one orchestration activity): reads a page of the window, enqueues what must
 * go again with its original `webhook-id`, and says where the next page starts. A webhook disabled
 * or deleted meanwhile ends the replay.
 */
export const replayPage =
  (deps: RedeliverDeps) =>
  (cursor: ReplayCursor): TE.TaskEither<AppError, ReplayPageResult> =>
    pipe(
      deps.webhooks.get(cursor.webhookId as WebhookWithoutSecrets['id']),
      TE.map((w): WebhookWithoutSecrets | undefined => (canReceive(w) ? w : undefined)),
      TE.orElse((e) => (e.kind === 'NotFound' ? TE.right<AppError, WebhookWithoutSecrets | undefined>(undefined) : TE.left(e))),
      TE.chain((webhook) => {
        if (webhook === undefined) return TE.right<AppError, ReplayPageResult>({ deliveries: 0 });
        return pipe(
          cursor.only === 'all' ? allPage(deps, cursor, webhook) : failedPage(deps, cursor, webhook),
          TE.chain(({ found, continuationToken }) =>
            pipe(
              enqueueAll(deps, found),
              TE.map((deliveries): ReplayPageResult => {
                const { continuationToken: _old, ...rest } = cursor;
                const total = cursor.deliveries + deliveries;
                return { deliveries, ...(continuationToken === undefined ? {} : { next: { ...rest, continuationToken, deliveries: total } }) };
              }),
            ),
          ),
        );
      }),
    );
