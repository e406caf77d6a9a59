import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { AppError } from '../../domain/errors';
import type { ErrorBody } from '../../domain/views';
import { redactFiscalCodes } from '../../domain/privacy';
import { repairedText } from '../../domain/strings';

/** An HTTP handler that answers a plain response init (easier to inspect in tests than HttpHandler's union). */
export type Handler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/** Every JSON answer is well-formed Unicode, even when a row stored before that rule was not. */
export const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit => ({ status, jsonBody: repairedText(body), headers });

/**
 * For routes whose answers may carry a secret or a key (a signing secret, a tenant key): no browser,
 * proxy or CDN keeps a copy. Every answer of such a route, errors included, so none is forgotten.
 */
export const noStore =
  (handler: Handler): Handler =>
  async (request, context) => {
    const response = await handler(request, context);
    const headers = new Headers(response.headers);
    headers.set('cache-control', 'no-store');
    return { ...response, headers: Object.fromEntries(headers) };
  };

export type { ErrorBody } from '../../domain/views';

const body = (error: AppError): ErrorBody =>
  error.kind === 'Invalid' && error.details.length > 0 ? { error: error.kind, message: error.message, details: error.details } : { error: error.kind, message: error.message };

/** The one place where use-case errors become HTTP statuses. */
export const errorResponse = (error: AppError, context?: InvocationContext): HttpResponseInit => {
  switch (error.kind) {
    case 'Invalid':
      return json(400, body(error));
    case 'Unauthorized':
      return json(401, body(error), { 'www-authenticate': 'Bearer' });
    case 'Forbidden':
      return json(403, body(error));
    case 'NotFound':
      return json(404, body(error));
    case 'Conflict':
      return json(409, body(error));
    case 'TooLarge':
      return json(413, body(error));
    case 'Transient':
      context?.warn(redactFiscalCodes(error.message));
      // Storage details stay in the log; the caller only needs to know to come back.
      return json(503, { error: error.kind, message: 'Storage is unavailable; try again later' }, { 'retry-after': '5' });
    case 'Permanent':
      context?.error(redactFiscalCodes(error.message));
      return json(500, { error: error.kind, message: 'The request failed; see the function log' });
    default: {
      const unreachable: never = error;
      return unreachable;
    }
  }
};
