import type { HttpRequest } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { type AppError, notFound } from '../../domain/errors';
import { LimitParam } from '../../domain/stringCodecs';
import { WellFormedString } from '../../domain/strings';
import { WebhookId } from '../../domain/webhook';
import type { AttemptLog } from '../../ports/attemptLog';
import type { TenantStore } from '../../ports/tenantStore';
import type { WebhookStore } from '../../ports/webhookStore';
import { ownedBy } from '../../usecases/getWebhook';
import { decodeOrInvalid } from '../../usecases/decode';
import { listPoison, type RedriveDeps, redrivePoison, type RedriveSelection } from '../../usecases/redrivePoison';
import { PoisonListQuery } from '../lib/queries';
import type { Handler } from '../lib/responses';
import { adminOrTenant, bearerKey, route } from '../lib/route';
import type { AttemptList } from '../../domain/views';

const MAX_OPS_BODY_BYTES = 4 * 1024;
export const DEFAULT_ATTEMPTS_LIMIT = 50;
export const MAX_ATTEMPTS_LIMIT = 500;
/** One redrive call moves at most this many messages; call again for the rest (the answer says so). */
export const MAX_REDRIVE_MESSAGES = 5_000;

const limitOf = (request: HttpRequest, max: number, fallback: number): E.Either<AppError, number> =>
  decodeOrInvalid(LimitParam({ max, fallback }), request.query.get('limit'), { what: 'The query', prefix: 'limit' });

/**
 * GET /api/webhooks/{id}/attempts: the webhook's recent attempts that were not first-try successes.
 * With tenants, a tenant key reads its own webhooks' attempts; another tenant's id is a 404.
 */
export const webhookAttemptsHandler = (deps: {
  adminApiKey: string;
  webhooks: Pick<WebhookStore, 'get'>;
  attemptLog: Pick<AttemptLog, 'problemsForWebhook'>;
  tenants: Pick<TenantStore, 'findByKeyHash' | 'get'>;
}): Handler =>
  route({
    auth: adminOrTenant(deps),
    // The limit is decoded after the ownership check: an unknown or foreign id is a 404 whatever the query.
    run: ({ id, request, caller }) =>
      pipe(
        TE.fromEither(
          pipe(
            WebhookId.decode(id),
            E.mapLeft(() => notFound(`No webhook with id "${id.slice(0, 64)}"`)),
          ),
        ),
        TE.chain((webhookId) =>
          pipe(
            deps.webhooks.get(webhookId),
            TE.chainEitherK(ownedBy(caller)),
            TE.map(() => webhookId),
          ),
        ),
        TE.chain((webhookId) =>
          pipe(
            TE.fromEither(limitOf(request, MAX_ATTEMPTS_LIMIT, DEFAULT_ATTEMPTS_LIMIT)),
            TE.chain((limit) => deps.attemptLog.problemsForWebhook({ webhookId, limit })),
          ),
        ),
        TE.map((attempts) => ({ status: 200, body: { items: attempts } satisfies AttemptList })),
      ),
  });

/** GET /api/poison: the oldest poison messages (up to 32), classified, with their message ids. */
export const listPoisonHandler = (deps: { adminApiKey: string } & Pick<RedriveDeps, 'poison'>): Handler =>
  route({
    auth: bearerKey(deps.adminApiKey),
    query: PoisonListQuery,
    run: ({ query }) =>
      pipe(
        listPoison(deps)(query.limit),
        TE.map((items) => ({ status: 200, body: { items } })),
      ),
  });

const RedriveBody = t.union([t.exact(t.type({ all: t.literal(true) })), t.exact(t.type({ messageId: WellFormedString }))], 'a body {"all": true} or {"messageId": "<id from GET /api/poison>"}');

/** POST /api/poison/redrive: {"messageId"} or {"all": true}; 404 when the message id is not there. */
export const redrivePoisonHandler = (deps: { adminApiKey: string } & RedriveDeps): Handler =>
  route({
    auth: bearerKey(deps.adminApiKey),
    body: { limitBytes: MAX_OPS_BODY_BYTES },
    run: ({ body }) =>
      pipe(
        TE.fromEither(decodeOrInvalid(RedriveBody, body, { what: 'The redrive request' })),
        TE.chain((request) => {
          const selection: RedriveSelection = 'all' in request ? { kind: 'All' } : { kind: 'One', messageId: request.messageId };
          return redrivePoison(deps)(selection, { maxMessages: MAX_REDRIVE_MESSAGES });
        }),
        TE.chain((report) => (report.found ? TE.right({ status: 200, body: report }) : TE.left(notFound('No poison message with that id')))),
      ),
  });
