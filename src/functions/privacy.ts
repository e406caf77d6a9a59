import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import * as E from 'fp-ts/Either';
import { durablePurgeHistory } from '../adapters/durable/durablePurgeHistory';
import { storagePoisonQueue } from '../adapters/queues/storagePoisonQueue';
import { redactFiscalCodes, retentionCutoff } from '../domain/privacy';
import { traceLine } from '../telemetry/telemetry';
import { backfillPrivacyIndex } from '../usecases/backfillPrivacyIndex';
import { eraseSubject } from '../usecases/eraseSubject';
import { purgeEvents, type PurgeDeps } from '../usecases/purgeEvents';
import { erasureHandler, purgeEventsHandler } from './handlers/privacyHandlers';
import { configuredHttp, configuredTrigger } from './lib/configured';
import { getDeliveryDependencies } from './lib/deliveryDependencies';

const durableClient = df.input.durableClient();
/** Poison messages one purge or erasure looks at, at most (the answer says `truncated` when more wait). */
const MAX_POISON_MESSAGES_PER_RUN = 5_000;
/** Events one erasure deletes at most; a person with more is finished by calling again. */
const MAX_EVENTS_PER_ERASURE = 10_000;
/** An erasure answers this long after its deletes: longer than a worker takes from its event check to its sends. */
const ERASURE_SETTLE_MS = 2_000;

/** Built on first use (src/functions/lib/configured.ts): a bad setting answers 503, it does not unload the file. */
const privacyDeps = () => {
  const deps = getDeliveryDependencies();
  const { config } = deps;
  const removal = {
    events: deps.events,
    attemptLog: deps.attemptLog,
    index: deps.privacy.index,
    subjectHashKey: deps.privacy.subjectHashKey,
    poison: storagePoisonQueue(deps.queue.poisonQueue),
    maxPoisonMessages: MAX_POISON_MESSAGES_PER_RUN,
  };
  const purgeDeps = (context: InvocationContext): PurgeDeps => ({
    ...removal,
    purgeHistory: durablePurgeHistory(df.getClient(context)),
    // Events stored before this index existed: one more page of them indexed per run, until done.
    backfill: () => backfillPrivacyIndex({ events: deps.events, index: deps.privacy.index, subjectHashKey: deps.privacy.subjectHashKey, maxEvents: config.RETENTION_MAX_EVENTS_PER_RUN }),
    maxEvents: config.RETENTION_MAX_EVENTS_PER_RUN,
  });
  return { deps, config, removal, purgeDeps };
};

app.http('purgeEvents', {
  route: 'events',
  methods: ['DELETE'],
  authLevel: 'anonymous',
  extraInputs: [durableClient],
  handler: configuredHttp(() => {
    const { deps, config, purgeDeps } = privacyDeps();
    return (request, context) => purgeEventsHandler({ adminApiKey: config.ADMIN_API_KEY, clock: deps.clock, purge: purgeEvents(purgeDeps(context)) })(request, context);
  }),
});

app.http('eraseSubject', {
  route: 'erasure',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: configuredHttp(() => {
    const { config, removal } = privacyDeps();
    return erasureHandler({ adminApiKey: config.ADMIN_API_KEY, erase: eraseSubject({ ...removal, maxEvents: MAX_EVENTS_PER_ERASURE, settleMs: ERASURE_SETTLE_MS }) });
  }),
});

/** Hourly (RETENTION_SCHEDULE): purges what is older than RETENTION_DAYS, a bounded amount per run. */
export const retentionTimer = configuredTrigger(() => {
  const { deps, config, purgeDeps } = privacyDeps();
  return async (_timer: unknown, context: InvocationContext): Promise<void> => {
    const before = retentionCutoff({ now: deps.clock.now(), days: config.RETENTION_DAYS });
    const result = await purgeEvents(purgeDeps(context))(before)();
    // Throwing marks the run failed in the host's log; the next run starts over where this one stopped.
    if (E.isLeft(result)) throw new Error(redactFiscalCodes(`Retention purge failed (${result.left.kind}): ${result.left.message}`));
    context.log(traceLine('retention.purge', { before: before.toISOString(), ...result.right.deleted, instances: result.right.instances, truncated: result.right.truncated }));
  };
});

app.timer('retentionPurge', { schedule: '%RETENTION_SCHEDULE%', extraInputs: [durableClient], handler: retentionTimer });
