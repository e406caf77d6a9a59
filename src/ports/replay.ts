import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { ReplayId, ReplayStatus, ReplayWindow } from '../domain/replay';

/** Where a replay stands: its window, how far it has paged, what it enqueued so far. */
export type ReplayCursor = ReplayWindow & {
  readonly replayId: ReplayId;
  readonly webhookId: string;
  /** Failed mode reads attempts up to this time (the request's): a delivery of the window fails after it was received. */
  readonly scanUntil: string;
  readonly continuationToken?: string;
  readonly deliveries: number;
};

/** Starts the replay's orchestration unless one with this id is running (then the call changes nothing). */
export type StartReplay = (cursor: ReplayCursor) => TE.TaskEither<AppError, { readonly started: boolean }>;

/** A replay's progress; undefined when no replay has this id. */
export type ReadReplay = (replayId: ReplayId) => TE.TaskEither<AppError, (ReplayStatus & { readonly webhookId: string }) | undefined>;
