import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type * as t from 'io-ts';
import type { AppError } from '../../domain/errors';
import { ADMIN, type Principal } from '../../domain/tenant';
import type { TenantStore } from '../../ports/tenantStore';
import { decodeOrInvalid } from '../../usecases/decode';
import { requireBearer } from './auth';
import { readJsonBody } from './body';
import { authenticate } from './principal';
import { errorResponse, type Handler, json } from './responses';

/*
 * The HTTP edge: every route is auth -> body -> query -> run -> one error mapping, written once here.
 * A route's handler says only which key, how large a body, which query codec, and what to run.
 */

/** Who may call, and what the route learns about the caller. */
export type Auth<P> = (request: HttpRequest) => TE.TaskEither<AppError, P>;

/** Anyone (the route checks nothing). */
export const anyone: Auth<undefined> = () => TE.right(undefined);

/** One key as bearer (the ingest key, the admin key); a tenant key gets 401 like any other wrong key. */
export const bearerKey =
  (key: string): Auth<Principal> =>
  (request) =>
    pipe(
      TE.fromEither(requireBearer(request, key)),
      TE.map((): Principal => ADMIN),
    );

/** The admin key, or (with a tenant store) a tenant key: the routes a tenant may use for its own webhooks. */
export const adminOrTenant = (deps: { readonly adminApiKey: string; readonly tenants?: Pick<TenantStore, 'findByKeyHash' | 'get'> }): Auth<Principal> =>
  deps.tenants === undefined ? bearerKey(deps.adminApiKey) : authenticate({ adminApiKey: deps.adminApiKey, tenants: deps.tenants });

/** A successful answer: a status, and a JSON body unless there is none (204, WebSub's 202). */
export type Answer = { readonly status: number; readonly body?: unknown };

export type RouteInput<P, Q> = {
  readonly request: HttpRequest;
  readonly context: InvocationContext;
  readonly caller: P;
  /** The JSON body (with `body`), `undefined` otherwise. */
  readonly body: unknown;
  /** The decoded query (with `query`). */
  readonly query: Q;
  /** The route's `{id}`, '' when absent. */
  readonly id: string;
};

export type RouteSpec<P, Q> = {
  readonly auth: Auth<P>;
  /** Reads a JSON body of at most this many bytes ('optional': an empty body is `{}`). */
  readonly body?: { readonly limitBytes: number; readonly optional?: boolean };
  /** Decodes the query string (first value of each name); a bad one is a 400 naming the parameter. */
  readonly query?: t.Decoder<unknown, Q>;
  readonly run: (input: RouteInput<P, Q>) => TE.TaskEither<AppError, Answer>;
};

const readBody =
  (request: HttpRequest, spec: { limitBytes: number; optional?: boolean }): TE.TaskEither<AppError, unknown> =>
  async () => {
    const read = await readJsonBody(request, spec.limitBytes);
    const absent = E.isLeft(read) && read.left.kind === 'Invalid' && read.left.details[0]?.startsWith('(body): is required') === true;
    return spec.optional === true && absent ? E.right({}) : read;
  };

/** The one HTTP pipeline: auth, then body, then query, then the use case; errors through errorResponse. */
export const route =
  <P, Q = undefined>(spec: RouteSpec<P, Q>): Handler =>
  async (request, context) =>
    pipe(
      spec.auth(request),
      TE.chain((caller) =>
        pipe(
          spec.body === undefined ? TE.right<AppError, unknown>(undefined) : readBody(request, spec.body),
          TE.chain((body) =>
            pipe(
              spec.query === undefined ? TE.right(undefined as Q) : TE.fromEither(decodeOrInvalid(spec.query, Object.fromEntries(request.query.entries()), { what: 'The query' })),
              TE.chain((query) => spec.run({ request, context, caller, body, query, id: request.params.id ?? '' })),
            ),
          ),
        ),
      ),
      TE.match(
        (error): HttpResponseInit => errorResponse(error, context),
        (answer): HttpResponseInit => (answer.body === undefined ? { status: answer.status } : json(answer.status, answer.body)),
      ),
    )();

/** One handler per method; any other method is a 405 naming the allowed ones (the host filters first). */
export const byMethod = (handlers: Readonly<Partial<Record<'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', Handler>>>): Handler => {
  const allow = Object.keys(handlers).join(', ');
  return async (request, context) => {
    const handler = handlers[request.method.toUpperCase() as keyof typeof handlers];
    return handler === undefined ? json(405, { error: 'MethodNotAllowed', message: `${request.method} is not allowed here` }, { allow }) : handler(request, context);
  };
};
