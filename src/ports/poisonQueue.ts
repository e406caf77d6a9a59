import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';

export type PoisonMessage = {
  readonly messageId: string;
  readonly insertedOn: string;
  readonly dequeueCount: number;
  /** The message text, base64-decoded when it was base64 (as the Functions host writes it). */
  readonly text: string;
};

export type LockedPoisonMessage = PoisonMessage & { readonly popReceipt: string };

/** The poison queue, read by ops. */
export type PoisonQueue = {
  /** Looks at the oldest messages without taking them (at most 32: the service's limit). */
  peek(limit: number): TE.TaskEither<AppError, PoisonMessage[]>;
  /** Takes up to `limit` (<= 32) messages out of sight for `lockSeconds`. */
  receive(limit: number, lockSeconds: number): TE.TaskEither<AppError, LockedPoisonMessage[]>;
  remove(message: LockedPoisonMessage): TE.TaskEither<AppError, void>;
  /** Makes a taken message visible again at once. */
  release(message: LockedPoisonMessage): TE.TaskEither<AppError, void>;
  /** Replaces a taken message's text, in place (its insertion time and expiry stay); still taken for `lockSeconds`. */
  rewrite(message: LockedPoisonMessage, text: string, lockSeconds: number): TE.TaskEither<AppError, LockedPoisonMessage>;
};
