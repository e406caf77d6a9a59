import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { AttemptLogEntry } from '../domain/views';

// The entry is the one the attempts route answers with: one codec (domain/views.ts) for both.
export type { AttemptDecision, AttemptLogEntry } from '../domain/views';

export type AttemptLog = {
  /** Writes entries cheaply: one transaction per partition and 100 rows. */
  record(entries: readonly AttemptLogEntry[]): TE.TaskEither<AppError, void>;
  /** Every entry of one event, oldest first. */
  forEvent(eventId: string): TE.TaskEither<AppError, AttemptLogEntry[]>;
  /** Recent entries of one webhook that were not delivered at the first try, newest first. */
  problemsForWebhook(query: { webhookId: string; limit: number }): TE.TaskEither<AppError, AttemptLogEntry[]>;
  /** One page of a webhook's entries that were not first-try successes, made from `from` to `to`, newest first (replay). */
  problemsBetween(query: {
    webhookId: string;
    from: string;
    to: string;
    pageSize: number;
    continuationToken?: string;
  }): TE.TaskEither<AppError, { items: AttemptLogEntry[]; continuationToken?: string }>;
  /** Deletes every entry of one event, with the webhook copies (retention, erasure); answers how many attempts went. */
  removeForEvent(eventId: string): TE.TaskEither<AppError, number>;
};
