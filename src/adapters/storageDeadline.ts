import type { TableServiceClientOptions } from '@azure/data-tables';

/*
 * A deadline on every storage call: storage that hangs (instead of refusing) would otherwise hold a
 * request, and the host's memory, without bound. The call fails with an AbortError, which carries no
 * status and so maps to Transient (503 with Retry-After on a request path, a retry in a trigger).
 */

type AdditionalPolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number];

/** What the SDKs accept as a caller's signal (their AbortSignalLike). */
type CallerSignal = { readonly aborted: boolean; addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void };

/** The signal of one storage call: its own deadline, joined with the caller's signal when there is one. */
export const deadlineSignal = (timeoutMs: number, caller?: CallerSignal): AbortSignal => {
  const deadline = AbortSignal.timeout(timeoutMs);
  if (caller === undefined) return deadline;
  const joined = new AbortController();
  const abort = (): void => joined.abort();
  if (caller.aborted) abort();
  caller.addEventListener('abort', abort, { once: true });
  deadline.addEventListener('abort', abort, { once: true });
  return joined.signal;
};

/** For table clients: per call (around the SDK's retries), so the whole call, retries included, ends in time. */
export const tableDeadline = (timeoutMs: number): AdditionalPolicy => ({
  position: 'perCall',
  policy: {
    name: 'storageDeadline',
    sendRequest: (request, next) => {
      request.abortSignal = deadlineSignal(timeoutMs, request.abortSignal);
      return next(request);
    },
  },
});
