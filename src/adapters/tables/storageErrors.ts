import { type AppError, permanent, transient } from '../../domain/errors';

/** The HTTP status a storage SDK error carries, or undefined when the request never got an answer. */
export const statusOf = (e: unknown): number | undefined => {
  const status = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
};

/**
 * No answer, throttling, timeouts and server errors may pass; anything else is a request storage
 * refuses, which retrying will not change.
 */
export const storageError =
  (what: string) =>
  (e: unknown): AppError => {
    const status = statusOf(e);
    const detail = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return status === undefined || status >= 500 || status === 408 || status === 429
      ? transient(`Storage is unavailable (${what}): ${detail}`)
      : permanent(`Storage refused ${what} (status ${status}): ${detail}`);
  };

/** SDK retries: few and short, so that a caller learns quickly that storage is down and answers 503. */
export const STORAGE_CLIENT_OPTIONS = { retryOptions: { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 } } as const;
