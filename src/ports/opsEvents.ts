import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { OpsEvent } from '../domain/opsEvents';

/**
 * Sends one operational event to OPS_WEBHOOK_URL (docs/delivery.md); a no-op when it is not set.
 * Best effort: callers log a failure and go on (the delivery record is elsewhere).
 */
export type PublishOpsEvent = (event: OpsEvent) => TE.TaskEither<AppError, void>;
