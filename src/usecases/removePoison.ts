import * as A from 'fp-ts/Array';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { LockedPoisonMessage, PoisonQueue } from '../ports/poisonQueue';

/** The service returns at most 32 messages per receive. */
const BATCH = 32;
/** Short: a crash mid-scan leaves the rest out of sight only this long. */
const LOCK_SECONDS = 30;

export type RemovedPoison = { readonly removed: number; readonly truncated: boolean };

const seq = <A>(tasks: TE.TaskEither<AppError, A>[]): TE.TaskEither<AppError, A[]> => pipe(tasks, A.sequence(TE.ApplicativeSeq));

/**
 * Deletes the poison messages `matches` picks (retention, erasure): receives batches under a short
 * lock, deletes matches, and releases the rest at the end (so the scan never sees a message twice).
 * `rewrite` (erasure): the new text of a message that is not removed but must lose part of what it
 * holds (an envelope of several events), undefined to leave it as it is.
 * Bounded by `maxMessages` looked at; `truncated` says more were waiting.
 */
export const removePoison =
  (deps: { readonly poison: PoisonQueue }) =>
  (options: { matches: (m: LockedPoisonMessage) => boolean; rewrite?: (m: LockedPoisonMessage) => string | undefined; maxMessages: number }): TE.TaskEither<AppError, RemovedPoison> => {
    const held: LockedPoisonMessage[] = [];
    let removed = 0;
    let seen = 0;
    const loop = (): TE.TaskEither<AppError, boolean> =>
      pipe(
        deps.poison.receive(Math.min(BATCH, options.maxMessages - seen), LOCK_SECONDS),
        TE.chain((batch) => {
          seen += batch.length;
          const [drop, keep] = [batch.filter(options.matches), batch.filter((m) => !options.matches(m))];
          const rewrites = keep.flatMap((m) => {
            const text = options.rewrite?.(m);
            return text === undefined ? [] : [{ m, text }];
          });
          held.push(...keep.filter((m) => !rewrites.some((r) => r.m === m)));
          return pipe(
            seq(
              drop.map((m) =>
                pipe(
                  deps.poison.remove(m),
                  TE.map(() => void removed++),
                ),
              ),
            ),
            // A rewritten message stays taken under its new receipt, and is released with the rest.
            TE.chain(() =>
              seq(
                rewrites.map(({ m, text }) =>
                  pipe(
                    deps.poison.rewrite(m, text, LOCK_SECONDS),
                    TE.map((r) => void held.push(r)),
                  ),
                ),
              ),
            ),
            TE.chain(() => (batch.length === 0 ? TE.right(false) : seen >= options.maxMessages ? TE.right(true) : loop())),
          );
        }),
      );
    return pipe(
      loop(),
      TE.chainFirst(() => seq(held.map((m) => deps.poison.release(m)))),
      TE.map((truncated) => ({ removed, truncated })),
    );
  };
