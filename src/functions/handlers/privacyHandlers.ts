import type { HttpRequest } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { type AppError, invalid } from '../../domain/errors';
import type { Clock } from '../../ports/clock';
import { decodeOrInvalid } from '../../usecases/decode';
import type { ErasureReport } from '../../usecases/eraseSubject';
import type { PurgeReport } from '../../usecases/purgeEvents';
import { requireBearer } from '../lib/auth';
import { readJsonBody } from '../lib/body';
import { errorResponse, type Handler, json } from '../lib/responses';

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

const admin =
  (adminApiKey: string, operation: (request: HttpRequest) => TE.TaskEither<AppError, unknown>): Handler =>
  async (request, context) =>
    pipe(
      TE.fromEither(requireBearer(request, adminApiKey)),
      TE.chain(() => operation(request)),
      TE.match(
        (error) => errorResponse(error, context),
        (body) => json(200, body),
      ),
    )();

/** DELETE /api/events?before=<ISO time>: the retention purge now, bounded like a timer run (admin key). */
export const purgeEventsHandler = (deps: { adminApiKey: string; clock: Clock; purge: (before: Date) => TE.TaskEither<AppError, PurgeReport> }): Handler =>
  admin(deps.adminApiKey, (request) => pipe(TE.fromEither(purgeCutoffOf(request, deps.clock.now())), TE.chain(deps.purge)));

/** POST /api/erasure {"fiscalCode"}: erasure of one person (admin key); the code never reaches a log. */
export const erasureHandler = (deps: { adminApiKey: string; erase: (body: unknown) => TE.TaskEither<AppError, ErasureReport> }): Handler =>
  admin(deps.adminApiKey, (request) =>
    pipe(
      (): Promise<E.Either<AppError, unknown>> => readJsonBody(request, MAX_ERASURE_BODY_BYTES),
      TE.chain(deps.erase),
    ),
  );
