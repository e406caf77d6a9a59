import * as E from 'fp-ts/Either';
import type * as t from 'io-ts';
import { formatValidationErrors } from '../src/domain/decodeErrors';
import { ErrorBody } from '../src/domain/views';

/** Why a call to the dispatcher did not give the expected answer; main maps each to a line and an exit code. */
export type CliError =
  | { readonly kind: 'Usage'; readonly message: string }
  | { readonly kind: 'Unreachable'; readonly message: string }
  | { readonly kind: 'Unauthorized'; readonly message: string }
  | { readonly kind: 'Refused'; readonly status: number; readonly message: string }
  | { readonly kind: 'BadAnswer'; readonly message: string };

export class CliFailure extends Error {
  constructor(readonly error: CliError) {
    super(error.message);
    this.name = 'CliFailure';
  }
}

export const fail = (error: CliError): never => {
  throw new CliFailure(error);
};

export type Key = 'admin' | 'ingest';

export type ClientOptions = {
  readonly baseUrl: string;
  readonly adminKey?: string;
  readonly ingestKey?: string;
  readonly timeoutMs: number;
};

const KEY_SOURCE: Record<Key, string> = { admin: 'DISPATCHER_ADMIN_KEY or --admin-key', ingest: 'DISPATCHER_INGEST_KEY or --ingest-key' };

const networkMessage = (baseUrl: string, e: unknown): string => {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (e instanceof Error && e.name === 'TimeoutError' ? 'timeout' : undefined);
  switch (code) {
    case 'ECONNREFUSED':
      return `Cannot reach the dispatcher at ${baseUrl}: connection refused (is it running? check DISPATCHER_URL or --url)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Cannot reach the dispatcher at ${baseUrl}: the host name does not resolve (check DISPATCHER_URL or --url)`;
    case 'timeout':
      return `Cannot reach the dispatcher at ${baseUrl}: no answer in time`;
    default:
      return `Cannot reach the dispatcher at ${baseUrl}: ${code ?? cause?.message ?? (e instanceof Error ? e.message : String(e))}`;
  }
};

/** Calls one route with the key it needs and decodes the answer with the route's wire codec. */
export const createClient = (options: ClientOptions) => {
  const call = async <A>(request: { method: string; path: string; key: Key | 'none'; body?: unknown; codec?: t.Decoder<unknown, A>; expect: number[] }): Promise<A> => {
    const key = request.key === 'admin' ? options.adminKey : request.key === 'ingest' ? options.ingestKey : undefined;
    if (request.key !== 'none' && (key === undefined || key === '')) return fail({ kind: 'Usage', message: `No ${request.key} key: set ${KEY_SOURCE[request.key]}` });
    let res: Response;
    try {
      res = await fetch(new URL(request.path, options.baseUrl), {
        method: request.method,
        headers: { ...(key === undefined ? {} : { authorization: `Bearer ${key}` }), ...(request.body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (e) {
      return fail({ kind: 'Unreachable', message: networkMessage(options.baseUrl, e) });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!request.expect.includes(res.status)) {
      const body = ErrorBody.decode(json);
      const said = E.isRight(body) ? [body.right.message, ...(body.right.details ?? [])].join('; ') : `HTTP ${res.status}`;
      if (res.status === 401) {
        return fail({ kind: 'Unauthorized', message: `The dispatcher refused the ${request.key} key (401): check ${KEY_SOURCE[request.key as Key] ?? 'the key'}` });
      }
      return fail({ kind: 'Refused', status: res.status, message: `${request.method} ${request.path} failed with ${res.status}: ${said}` });
    }
    if (request.codec === undefined) return undefined as A;
    const decoded = request.codec.decode(json);
    if (E.isLeft(decoded)) {
      return fail({ kind: 'BadAnswer', message: `Unexpected answer from ${request.method} ${request.path}: ${formatValidationErrors(decoded.left).slice(0, 3).join('; ')}` });
    }
    return decoded.right;
  };
  return { call, baseUrl: options.baseUrl };
};

export type Client = ReturnType<typeof createClient>;
