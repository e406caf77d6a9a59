import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { durableReadReplay, durableStartReplay } from '../adapters/durable/durableReplay';
import { ReplayId, ReplayScope } from '../domain/replay';
import type { PublishOpsEvent } from '../ports/opsEvents';
import type { ReplayCursor } from '../ports/replay';
import { readReplay, replayPage, type ReplayPageResult, resendDelivery, startReplay } from '../usecases/replayDeliveries';
import { testSend } from '../usecases/testSend';
import { traceLine } from '../telemetry/telemetry';
import { bodyOf, ownerRoute, webhookIdOf } from './handlers/replayHandlers';
import { decodeOrThrow } from './lib/decodeOrThrow';
import { configuredHttp, configuredTrigger } from './lib/configured';
import { getDeliveryDependencies } from './lib/deliveryDependencies';

/*
 * Replay by time range, resend of one delivery, test send (docs/delivery.md, "Replay and resend").
 * A replay is one orchestration (instance id = replay id), one activity per page of its window.
 */

export const REPLAY_ORCHESTRATOR = 'replayWebhook';
export const REPLAY_PAGE_ACTIVITY = 'replayPage';
/** Pages per orchestration run before continueAsNew, so a long window's history stays bounded. */
const PAGES_PER_RUN = 50;
const PAGE_RETRY = Object.assign(new df.RetryOptions(2_000, 6), { backoffCoefficient: 2 });

const durableClient = df.input.durableClient();
// Built on first use, never at load (docs/architecture.md item 18: registration never depends on valid settings).
const replayDeps = () => {
  const deps = getDeliveryDependencies();
  return {
    deps,
    auth: { adminApiKey: deps.config.ADMIN_API_KEY, tenants: deps.tenants },
    redeliver: {
      webhooks: deps.webhooks,
      events: deps.events,
      buckets: deps.privacy.index,
      attemptLog: deps.attemptLog,
      queue: deps.queue,
      grantsOf: deps.grants.grantsOf,
      clock: deps.clock,
      maxDeliveriesPerMessage: deps.config.MAX_DELIVERIES_PER_MESSAGE,
    },
  };
};

const Cursor: t.Type<ReplayCursor, unknown, unknown> = t.intersection([
  t.type({ replayId: ReplayId, webhookId: t.string, since: t.string, until: t.string, only: ReplayScope, scanUntil: t.string, deliveries: t.number }),
  t.partial({ continuationToken: t.string }),
]) as unknown as t.Type<ReplayCursor, unknown, unknown>;

/** Pages through the replay's window; replayable: no I/O, no clock. */
export const replayOrchestrator: df.OrchestrationHandler = function* (context: df.OrchestrationContext) {
  let cursor = decodeOrThrow(Cursor, context.df.getInput(), 'The replay input');
  for (let run = 0; run < PAGES_PER_RUN; run++) {
    const result = (yield context.df.callActivityWithRetry(REPLAY_PAGE_ACTIVITY, PAGE_RETRY, cursor)) as ReplayPageResult;
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

df.app.orchestration(REPLAY_ORCHESTRATOR, replayOrchestrator);

const replayPageActivity =
  (redeliver: ReturnType<typeof replayDeps>['redeliver'], publishOpsEvent: PublishOpsEvent) =>
  async (input: unknown, context: InvocationContext): Promise<ReplayPageResult> => {
    const cursor = decodeOrThrow(Cursor, input, 'The replay cursor');
    const result = await replayPage(redeliver)(cursor)();
    if (E.isLeft(result)) throw new Error(`${result.left.kind} (replay ${cursor.replayId}): ${result.left.message}`);
    context.log(traceLine('replay.page', { replayId: cursor.replayId, deliveries: result.right.deliveries, more: result.right.next !== undefined }));
    if (result.right.next === undefined) {
      // The last page: OPS_WEBHOOK_URL hears replay.completed (best effort; a retried activity sends the same webhook-id).
      const payload = { webhookId: cursor.webhookId, replayId: cursor.replayId, status: 'Completed' as const, deliveries: cursor.deliveries + result.right.deliveries, since: cursor.since, until: cursor.until, only: cursor.only, at: redeliver.clock.now().toISOString() };
      const sent = await publishOpsEvent({ name: 'replay.completed', payload })();
      if (E.isLeft(sent)) context.warn(`operational event replay.completed not sent: ${sent.left.message}`);
    }
    return result.right;
  };

df.app.activity(REPLAY_PAGE_ACTIVITY, { handler: configuredTrigger(() => {
    const { redeliver, deps } = replayDeps();
    return replayPageActivity(redeliver, deps.publishOpsEvent);
  }) });

app.http('startReplay', {
  route: 'webhooks/{id}/replay',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [durableClient],
  handler: configuredHttp(() => {
    const { deps, auth } = replayDeps();
    return (request, context) =>
      ownerRoute(auth, (req, principal) =>
        pipe(
          bodyOf(req),
          TE.chain((body) =>
            startReplay({ webhooks: deps.webhooks, clock: deps.clock, retentionDays: deps.config.RETENTION_DAYS, start: durableStartReplay(df.getClient(context), REPLAY_ORCHESTRATOR) })({ webhookId: webhookIdOf(req), body, principal }),
          ),
          TE.map((answer) => ({ status: 202, body: answer })),
        ),
      )(request, context);
  }),
});

app.http('replayStatus', {
  route: 'webhooks/{id}/replays/{replayId}',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [durableClient],
  handler: configuredHttp(() => {
    const { deps, auth } = replayDeps();
    return (request, context) =>
      ownerRoute(auth, (req, principal) =>
        pipe(
          readReplay({ webhooks: deps.webhooks, read: durableReadReplay(df.getClient(context)) })({ webhookId: webhookIdOf(req), replayId: req.params.replayId ?? '', principal }),
          TE.map((status) => ({ status: 200, body: status })),
        ),
      )(request, context);
  }),
});

app.http('resendDelivery', {
  route: 'webhooks/{id}/resend',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: configuredHttp(() => {
    const { auth, redeliver } = replayDeps();
    return ownerRoute(auth, (req, principal) =>
      pipe(
        bodyOf(req),
        TE.chain((body) => resendDelivery(redeliver)({ webhookId: webhookIdOf(req), body, principal })),
        TE.map((answer) => ({ status: 202, body: answer })),
      ),
    );
  }),
});

app.http('testWebhook', {
  route: 'webhooks/{id}/test',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: configuredHttp(() => {
    const { deps, auth } = replayDeps();
    return ownerRoute(auth, (req, principal) =>
      pipe(
        testSend({ webhooks: deps.webhooks, sender: deps.sender, clock: deps.clock, randomBytes: deps.randomBytes })({ webhookId: webhookIdOf(req), principal }),
        TE.map((answer) => ({ status: 200, body: answer })),
      ),
    );
  }),
});
