import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { AttemptResult } from '../domain/outcome';

/**
 * What became of a delivery after one attempt (or why no attempt was made). `Requeued` (attempt 0):
 * a replay or resend enqueued it again, so a second replay leaves it alone (docs/delivery.md).
 */
export type AttemptDecision = 'Delivered' | 'RetryLater' | 'WebhookDisabledByGone' | 'Poisoned' | 'SkippedDisabledWebhook' | 'SkippedDeletedWebhook' | 'SkippedErasedEvent' | 'Requeued';

export type AttemptLogEntry = {
  readonly eventId: string;
  readonly deliveryId: string;
  readonly webhookId: string;
  /** 1 for the first attempt; 0 when the delivery was skipped without an attempt. */
  readonly attempt: number;
  readonly at: string;
  readonly result?: AttemptResult;
  readonly decision: AttemptDecision;
  /** When the next attempt is due, for RetryLater. */
  readonly nextAttemptAt?: string;
  /** The owner of the webhook, when a tenant owns it. */
  readonly tenantId?: string;
};

export type AttemptLog = {
  /** Writes entries cheaply: one transaction per partition and 100 rows. */
  record(entries: readonly AttemptLogEntry[]): TE.TaskEither<AppError, void>;
  /** Every entry of one event, oldest first. */
  forEvent(eventId: string): TE.TaskEither<AppError, AttemptLogEntry[]>;
  /** Recent entries of one webhook that were not delivered at the first try, newest first. */
  problemsForWebhook(query: { webhookId: string; limit: number }): TE.TaskEither<AppError, AttemptLogEntry[]>;
  /** One page of a webhook's entries that were not first-try successes, made from `from` to `to`, newest first (replay). */
  problemsBetween(query: { webhookId: string; from: string; to: string; pageSize: number; continuationToken?: string }): TE.TaskEither<AppError, { items: AttemptLogEntry[]; continuationToken?: string }>;
  /** Deletes every entry of one event, with the webhook copies (retention, erasure); answers how many attempts went. */
  removeForEvent(eventId: string): TE.TaskEither<AppError, number>;
};
