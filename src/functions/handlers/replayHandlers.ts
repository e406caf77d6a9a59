import type { InvocationContext } from '@azure/functions';
import type * as df from 'durable-functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { PublishOpsEvent } from '../../ports/opsEvents';
import type { ReadReplay, StartReplay } from '../../ports/replay';
import type { TenantStore } from '../../ports/tenantStore';
import type { WebhookStore } from '../../ports/webhookStore';
import type { Clock } from '../../ports/clock';
import { traceLine } from '../../telemetry/telemetry';
import { readReplay, type RedeliverDeps, replayPage, resendDelivery, startReplay } from '../../usecases/replayDeliveries';
import { testSend } from '../../usecases/testSend';
import { decodeOrThrow } from '../lib/decodeOrThrow';
import { PAGE_RETRY, REPLAY_PAGE_ACTIVITY, ReplayCursor, ReplayPageResult, STEPS_PER_RUN } from '../lib/orchestrations';
import type { Handler } from '../lib/responses';
import { adminOrTenant, route } from '../lib/route';

/*
 * Replay by time range, resend of one delivery, test send (docs/delivery.md, "Replay and resend").
 * A replay is one orchestration (instance id = replay id), one activity per page of its window.
 */

/** A replay or resend request is a few fields. */
export const MAX_REPLAY_BODY_BYTES = 4 * 1024;

export type ReplayAuthDeps = { readonly adminApiKey: string; readonly tenants: Pick<TenantStore, 'findByKeyHash' | 'get'> };

/** Pages through the replay's window; replayable: no I/O, no clock. */
export const replayOrchestrator: df.OrchestrationHandler = function* (context: df.OrchestrationContext) {
  let cursor = decodeOrThrow(ReplayCursor, context.df.getInput(), 'The replay input');
  for (let run = 0; run < STEPS_PER_RUN; run++) {
    const result = decodeOrThrow(ReplayPageResult, yield context.df.callActivityWithRetry(REPLAY_PAGE_ACTIVITY, PAGE_RETRY, cursor), 'The replay page result');
    const deliveries = cursor.deliveries + result.deliveries;
    context.df.setCustomStatus({ deliveries });
    if (result.next === undefined) {
      if (!context.df.isReplaying) context.log(traceLine('replay.completed', { replayId: cursor.replayId, webhookId: cursor.webhookId, deliveries }));
      return { deliveries };
    }
    cursor = result.next;
  }
  context.df.continueAsNew(cursor);
  return undefined;
};

export const replayPageActivity =
  (deps: { readonly redeliver: RedeliverDeps; readonly publishOpsEvent: PublishOpsEvent }) =>
  async (input: unknown, context: InvocationContext): Promise<ReplayPageResult> => {
    const cursor = decodeOrThrow(ReplayCursor, input, 'The replay cursor');
    const result = await replayPage(deps.redeliver)(cursor)();
    if (E.isLeft(result)) throw new Error(`${result.left.kind} (replay ${cursor.replayId}): ${result.left.message}`);
    context.log(traceLine('replay.page', { replayId: cursor.replayId, deliveries: result.right.deliveries, more: result.right.next !== undefined }));
    if (result.right.next === undefined) {
      // The last page: OPS_WEBHOOK_URL hears replay.completed (best effort; a retried activity sends the same webhook-id).
      const payload = {
        webhookId: cursor.webhookId,
        replayId: cursor.replayId,
        status: 'Completed' as const,
        deliveries: cursor.deliveries + result.right.deliveries,
        since: cursor.since,
        until: cursor.until,
        only: cursor.only,
        at: deps.redeliver.clock.now().toISOString(),
      };
      const sent = await deps.publishOpsEvent({ name: 'replay.completed', payload })();
      if (E.isLeft(sent)) context.warn(`operational event replay.completed not sent: ${sent.left.message}`);
    }
    return result.right;
  };

/** POST /api/webhooks/{id}/replay: 202 with the replay id (admin, or the owning tenant). */
export const startReplayHandler = (deps: {
  readonly auth: ReplayAuthDeps;
  readonly start: (context: InvocationContext) => { webhooks: Pick<WebhookStore, 'get'>; clock: Clock; retentionDays: number; start: StartReplay };
}): Handler =>
  route({
    auth: adminOrTenant(deps.auth),
    body: { limitBytes: MAX_REPLAY_BODY_BYTES },
    run: ({ id, body, caller, context }) =>
      pipe(
        startReplay(deps.start(context))({ webhookId: id, body, principal: caller }),
        TE.map((answer) => ({ status: 202, body: answer })),
      ),
  });

/** GET /api/webhooks/{id}/replays/{replayId} */
export const replayStatusHandler = (deps: { readonly auth: ReplayAuthDeps; readonly read: (context: InvocationContext) => { webhooks: Pick<WebhookStore, 'get'>; read: ReadReplay } }): Handler =>
  route({
    auth: adminOrTenant(deps.auth),
    run: ({ id, request, caller, context }) =>
      pipe(
        readReplay(deps.read(context))({ webhookId: id, replayId: request.params.replayId ?? '', principal: caller }),
        TE.map((status) => ({ status: 200, body: status })),
      ),
  });

/** POST /api/webhooks/{id}/resend: 202 */
export const resendDeliveryHandler = (deps: { readonly auth: ReplayAuthDeps; readonly redeliver: RedeliverDeps }): Handler =>
  route({
    auth: adminOrTenant(deps.auth),
    body: { limitBytes: MAX_REPLAY_BODY_BYTES },
    run: ({ id, body, caller }) =>
      pipe(
        resendDelivery(deps.redeliver)({ webhookId: id, body, principal: caller }),
        TE.map((answer) => ({ status: 202, body: answer })),
      ),
  });

/** POST /api/webhooks/{id}/test: 200 with what the receiver answered. */
export const testWebhookHandler = (deps: { readonly auth: ReplayAuthDeps; readonly testSend: Parameters<typeof testSend>[0] }): Handler =>
  route({
    auth: adminOrTenant(deps.auth),
    run: ({ id, caller }) =>
      pipe(
        testSend(deps.testSend)({ webhookId: id, principal: caller }),
        TE.map((answer) => ({ status: 200, body: answer })),
      ),
  });
