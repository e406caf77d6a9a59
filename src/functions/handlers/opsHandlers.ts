import type { HttpRequest } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import type { AppError } from '../../domain/errors';
import { notFound } from '../../domain/errors';
import { WellFormedString } from '../../domain/strings';
import { WebhookId } from '../../domain/webhook';
import type { AttemptLog } from '../../ports/attemptLog';
import type { TenantStore } from '../../ports/tenantStore';
import type { WebhookStore } from '../../ports/webhookStore';
import { ownedBy } from '../../usecases/getWebhook';
import { principalOf } from './webhookHandlers';
import { decodeOrInvalid } from '../../usecases/decode';
import { listPoison, type RedriveDeps, redrivePoison, type RedriveSelection } from '../../usecases/redrivePoison';
import { requireBearer } from '../lib/auth';
import { readJsonBody } from '../lib/body';
import { errorResponse, type Handler, json } from '../lib/responses';

const MAX_OPS_BODY_BYTES = 4 * 1024;
export const DEFAULT_ATTEMPTS_LIMIT = 50;
export const MAX_ATTEMPTS_LIMIT = 500;
/** One redrive call moves at most this many messages; call again for the rest (the answer says so). */
export const MAX_REDRIVE_MESSAGES = 5_000;

const admin =
  (adminApiKey: string, operation: (request: HttpRequest) => TE.TaskEither<AppError, { status: number; body: unknown }>): Handler =>
  async (request, context) =>
    pipe(
      TE.fromEither(requireBearer(request, adminApiKey)),
      TE.chain(() => operation(request)),
      TE.match(
        (error) => errorResponse(error, context),
        (answer) => json(answer.status, answer.body),
      ),
    )();

const LimitFromQuery = (max: number, fallback: number) =>
  new t.Type<number, string, unknown>(
    `an integer from 1 to ${max}`,
    (u): u is number => typeof u === 'number',
    (u, c) => {
      if (u === null || u === undefined) return t.success(fallback);
      const n = typeof u === 'string' && /^[0-9]{1,6}$/.test(u) ? Number(u) : NaN;
      return n >= 1 && n <= max ? t.success(n) : t.failure(u, c);
    },
    String,
  );

const limitOf = (request: HttpRequest, max: number, fallback: number): E.Either<AppError, number> =>
  decodeOrInvalid(LimitFromQuery(max, fallback), request.query.get('limit'), { what: 'The query', prefix: 'limit' });

/**
 * GET /api/webhooks/{id}/attempts: the webhook's recent attempts that were not first-try successes.
 * With tenants, a tenant key reads its own webhooks' attempts; another tenant's id is a 404.
 */
export const webhookAttemptsHandler = (deps: { adminApiKey: string; webhooks: Pick<WebhookStore, 'get'>; attemptLog: Pick<AttemptLog, 'problemsForWebhook'>; tenants?: Pick<TenantStore, 'findByKeyHash' | 'get'> }): Handler =>
  async (request, context) =>
    pipe(
      principalOf(deps)(request),
      TE.chain((principal) =>
        pipe(
          TE.fromEither(pipe(WebhookId.decode(request.params.id), E.mapLeft(() => notFound(`No webhook with id "${String(request.params.id).slice(0, 64)}"`)))),
          TE.chain((id) => pipe(deps.webhooks.get(id), TE.chainEitherK(ownedBy(principal)), TE.map(() => id))),
      TE.chain((id) => pipe(TE.fromEither(limitOf(request, MAX_ATTEMPTS_LIMIT, DEFAULT_ATTEMPTS_LIMIT)), TE.chain((limit) => deps.attemptLog.problemsForWebhook({ webhookId: id, limit })))),
          TE.map((attempts) => ({ items: attempts })),
        ),
      ),
      TE.match(
        (error) => errorResponse(error, context),
        (body) => json(200, body),
      ),
    )();

/** GET /api/poison: the oldest poison messages (up to 32), classified, with their message ids. */
export const listPoisonHandler = (deps: { adminApiKey: string } & Pick<RedriveDeps, 'poison'>): Handler =>
  admin(deps.adminApiKey, (request) =>
    pipe(
      TE.fromEither(limitOf(request, 32, 32)),
      TE.chain(listPoison(deps)),
      TE.map((items) => ({ status: 200, body: { items } })),
    ),
  );

const RedriveBody = t.union([t.exact(t.type({ all: t.literal(true) })), t.exact(t.type({ messageId: WellFormedString }))], 'a body {"all": true} or {"messageId": "<id from GET /api/poison>"}');

/** POST /api/poison/redrive: {"messageId"} or {"all": true}; 404 when the message id is not there. */
export const redrivePoisonHandler = (deps: { adminApiKey: string } & RedriveDeps): Handler =>
  admin(deps.adminApiKey, (request) =>
    pipe(
      (): Promise<E.Either<AppError, unknown>> => readJsonBody(request, MAX_OPS_BODY_BYTES),
      TE.chainEitherK((body) => decodeOrInvalid(RedriveBody, body, { what: 'The redrive request' })),
      TE.chain((body) => {
        const selection: RedriveSelection = 'all' in body ? { kind: 'All' } : { kind: 'One', messageId: body.messageId };
        return redrivePoison(deps)(selection, { maxMessages: MAX_REDRIVE_MESSAGES });
      }),
      TE.chain((report) => (report.found ? TE.right({ status: 200, body: report }) : TE.left(notFound('No poison message with that id')))),
    ),
  );
