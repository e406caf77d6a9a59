import type { HttpRequest, InvocationContext } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { type AppError, invalid } from '../../domain/errors';
import type { Clock } from '../../ports/clock';
import { decodeOrInvalid } from '../../usecases/decode';
import { redactFiscalCodes, retentionCutoff } from '../../domain/privacy';
import { traceLine } from '../../telemetry/telemetry';
import type { ErasureReport } from '../../usecases/eraseSubject';
import type { PurgeReport } from '../../usecases/purgeEvents';
import type { Handler } from '../lib/responses';
import { bearerKey, route } from '../lib/route';

const MAX_ERASURE_BODY_BYTES = 4 * 1024;

/** A time with its zone, as `Date.toISOString()` writes it (seconds and fractions optional). */
const ISO_TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})$/;

export const IsoTime = new t.Type<Date, string, unknown>(
  'an ISO 8601 time with its zone (e.g. 2026-11-05T00:00:00Z)',
  (u): u is Date => u instanceof Date,
  (u, c) => (typeof u === 'string' && ISO_TIME.test(u) && !Number.isNaN(Date.parse(u)) ? t.success(new Date(u)) : t.failure(u, c)),
  (d) => d.toISOString(),
);

/** `?before=`: required, a valid time, and not in the future (a purge of what has not happened yet is a mistake). */
export const purgeCutoffOf = (request: HttpRequest, now: Date): E.Either<AppError, Date> =>
  pipe(
    decodeOrInvalid(IsoTime, request.query.get('before') ?? undefined, { what: 'The query', prefix: 'before' }),
    E.chain((before) => (before.getTime() > now.getTime() ? E.left(invalid('The query is invalid', [`before: must not be in the future (now is ${now.toISOString()})`])) : E.right(before))),
  );

/** What the privacy functions run (src/functions/lib/composition.ts binds the use cases to their ports). */
export type PrivacyHandlerDeps = {
  readonly adminApiKey: string;
  readonly clock: Clock;
  readonly retentionDays: number;
  /** The purge, with the invocation's durable client (instance histories go too). */
  readonly purge: (before: Date, context: InvocationContext) => TE.TaskEither<AppError, PurgeReport>;
  readonly erase: (body: unknown) => TE.TaskEither<AppError, ErasureReport>;
};

/** DELETE /api/events?before=<ISO time>: the retention purge now, bounded like a timer run (admin key). */
export const purgeEventsHandler = (deps: Pick<PrivacyHandlerDeps, 'adminApiKey' | 'clock' | 'purge'>): Handler =>
  route({
    auth: bearerKey(deps.adminApiKey),
    run: ({ request, context }) =>
      pipe(
        TE.fromEither(purgeCutoffOf(request, deps.clock.now())),
        TE.chain((before) => deps.purge(before, context)),
        TE.map((report) => ({ status: 200, body: report })),
      ),
  });

/** POST /api/erasure {"fiscalCode"}: erasure of one person (admin key); the code never reaches a log. */
export const erasureHandler = (deps: Pick<PrivacyHandlerDeps, 'adminApiKey' | 'erase'>): Handler =>
  route({
    auth: bearerKey(deps.adminApiKey),
    body: { limitBytes: MAX_ERASURE_BODY_BYTES },
    run: ({ body }) =>
      pipe(
        deps.erase(body),
        TE.map((report) => ({ status: 200, body: report })),
      ),
  });

/** Hourly (RETENTION_SCHEDULE): purges what is older than RETENTION_DAYS, a bounded amount per run. */
export const retentionTimerHandler =
  (deps: Pick<PrivacyHandlerDeps, 'clock' | 'retentionDays' | 'purge'>) =>
  async (_timer: unknown, context: InvocationContext): Promise<void> => {
    const before = retentionCutoff({ now: deps.clock.now(), days: deps.retentionDays });
    const result = await deps.purge(before, context)();
    // Throwing marks the run failed in the host's log; the next run starts over where this one stopped.
    if (E.isLeft(result)) throw new Error(redactFiscalCodes(`Retention purge failed (${result.left.kind}): ${result.left.message}`));
    context.log(traceLine('retention.purge', { before: before.toISOString(), ...result.right.deleted, instances: result.right.instances, truncated: result.right.truncated }));
  };
