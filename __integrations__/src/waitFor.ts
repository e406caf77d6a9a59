/** How often a condition is checked again: short enough not to slow the suite, long enough to stay idle. */
export const POLL_INTERVAL_MS = 50;

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Checks `condition` until it returns true or the deadline passes. On timeout the error says what
 * was awaited and what was still missing (`missing()` describes the current state).
 */
export const waitFor = async (options: { what: string; timeoutMs: number; condition: () => boolean | Promise<boolean>; missing?: () => string | Promise<string> }): Promise<void> => {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await options.condition()) return;
    if (Date.now() >= deadline) {
      const detail = options.missing === undefined ? '' : `\n${await options.missing()}`;
      throw new WaitTimeoutError(`Timed out after ${options.timeoutMs} ms waiting for ${options.what}${detail}`);
    }
    await pause(Math.min(POLL_INTERVAL_MS, Math.max(0, deadline - Date.now())));
  }
};

/**
 * Watches for `periodMs` and fails as soon as `unexpected()` reports something. This is the one
 * deliberate wait of the suite: proving that nothing arrives takes watching for a while.
 */
export const expectQuietFor = async (options: { what: string; periodMs: number; unexpected: () => string | undefined }): Promise<void> => {
  const end = Date.now() + options.periodMs;
  for (;;) {
    const found = options.unexpected();
    if (found !== undefined) throw new Error(`Expected ${options.what} during the ${options.periodMs} ms grace period, but:\n${found}`);
    if (Date.now() >= end) return;
    await pause(Math.min(POLL_INTERVAL_MS, Math.max(0, end - Date.now())));
  }
};
