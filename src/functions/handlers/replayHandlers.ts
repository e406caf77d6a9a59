import type { HttpRequest } from '@azure/functions';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../../domain/errors';
import type { Principal } from '../../domain/tenant';
import type { TenantStore } from '../../ports/tenantStore';
import { readJsonBody } from '../lib/body';
import { errorResponse, type Handler, json } from '../lib/responses';
import { principalOf } from './webhookHandlers';

/** A replay or resend request is a few fields. */
export const MAX_REPLAY_BODY_BYTES = 4 * 1024;

export type ReplayAuthDeps = { readonly adminApiKey: string; readonly tenants?: Pick<TenantStore, 'findByKeyHash' | 'get'> };

/**
 * The admin key or the owning tenant's key (another tenant's webhook is a 404, as on GET), then the
 * operation; errors go through the one mapping.
 */
export const ownerRoute =
  (deps: ReplayAuthDeps, operation: (request: HttpRequest, principal: Principal) => TE.TaskEither<AppError, { status: number; body: unknown }>): Handler =>
  async (request, context) =>
    pipe(
      principalOf(deps)(request),
      TE.chain((principal) => operation(request, principal)),
      TE.match(
        (error) => errorResponse(error, context),
        (answer) => json(answer.status, answer.body),
      ),
    )();

export const bodyOf = (request: HttpRequest): TE.TaskEither<AppError, unknown> => () => readJsonBody(request, MAX_REPLAY_BODY_BYTES);
export const webhookIdOf = (request: HttpRequest): string => request.params.id ?? '';
