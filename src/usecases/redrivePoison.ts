import * as A from 'fp-ts/Array';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { IsoTimestamp } from '../domain/codecs';
import type { AppError } from '../domain/errors';
import { classifyPoison, PoisonItem, redriveMessagesFor } from '../domain/poison';
import type { DeliveryQueue } from '../ports/deliveryQueue';
import type { LockedPoisonMessage, PoisonQueue } from '../ports/poisonQueue';

/** The service returns at most 32 messages per receive or peek. */
const BATCH = 32;
/** Long enough to redrive a batch; a crash mid-redrive makes the rest visible again after it. */
const LOCK_SECONDS = 60;

/** A poison message as ops see it: where it is, and what it is (the raw text only when unreadable). */
export const PoisonView = t.type({ messageId: t.string, insertedOn: IsoTimestamp, dequeueCount: t.number, item: PoisonItem }, 'PoisonView');
export type PoisonView = t.TypeOf<typeof PoisonView>;
export const PoisonList = t.type({ items: t.array(PoisonView) }, 'PoisonList');
export type PoisonList = t.TypeOf<typeof PoisonList>;

export type RedriveDeps = { readonly poison: PoisonQueue; readonly deliveries: Pick<DeliveryQueue, 'enqueue'> };

export type RedriveSelection = { readonly kind: 'All' } | { readonly kind: 'One'; readonly messageId: string };

/**
 * `leftUnreadable`: messages with nothing to deliver, left in the poison queue; `found` (for `One`):
 * false when no message had that id; `truncated`: the run stopped at `maxMessages` with more waiting.
 */
export const RedriveReport = t.type({ redriven: t.number, leftUnreadable: t.number, found: t.boolean, truncated: t.boolean }, 'RedriveReport');
export type RedriveReport = t.TypeOf<typeof RedriveReport>;

export const listPoison =
  (deps: Pick<RedriveDeps, 'poison'>) =>
  (limit: number): TE.TaskEither<AppError, PoisonView[]> =>
    pipe(
      deps.poison.peek(Math.min(Math.max(1, limit), BATCH)),
      TE.map((messages) => messages.map(({ text, ...m }) => ({ ...m, item: classifyPoison(text) }))),
    );

const seq = <A>(tasks: TE.TaskEither<AppError, A>[]): TE.TaskEither<AppError, A[]> => pipe(tasks, A.sequence(TE.ApplicativeSeq));

/**
 * Moves poisoned deliveries back to the deliveries queue with a fresh attempt count: one by message
 * id, or all. Each message is enqueued before it is removed, so a failure in between repeats a
 * delivery (receivers drop it by webhook-id) rather than losing it. Messages taken but not redriven
 * are released at the end, so a scan never sees the same message twice.
 */
export const redrivePoison =
  (deps: RedriveDeps) =>
  (selection: RedriveSelection, options: { maxMessages: number }): TE.TaskEither<AppError, RedriveReport> => {
    const held: LockedPoisonMessage[] = [];
    let redriven = 0;
    let leftUnreadable = 0;
    let found = false;
    let seen = 0;
    const handle = (m: LockedPoisonMessage): TE.TaskEither<AppError, void> => {
      const wanted = selection.kind === 'All' || selection.messageId === m.messageId;
      // An envelope (several events' messages) is redriven whole: its messages are enqueued together.
      const messages = wanted ? redriveMessagesFor(classifyPoison(m.text)) : [];
      if (wanted) found = true;
      if (messages.length === 0) {
        if (wanted) leftUnreadable++;
        held.push(m);
        return TE.right(undefined);
      }
      return pipe(
        deps.deliveries.enqueue(messages),
        TE.chain(() => deps.poison.remove(m)),
        TE.map(() => void redriven++),
      );
    };
    const loop = (): TE.TaskEither<AppError, boolean> =>
      pipe(
        deps.poison.receive(Math.min(BATCH, options.maxMessages - seen), LOCK_SECONDS),
        TE.chain((batch) => {
          seen += batch.length;
          return pipe(
            seq(batch.map(handle)),
            TE.chain(() => {
              const done = batch.length === 0 || (selection.kind === 'One' && found);
              if (done) return TE.right(false);
              return seen >= options.maxMessages ? TE.right(true) : loop();
            }),
          );
        }),
      );
    return pipe(
      loop(),
      TE.chainFirst(() => seq(held.map((m) => deps.poison.release(m)))),
      TE.map((truncated) => ({ redriven, leftUnreadable, found: selection.kind === 'All' ? true : found, truncated })),
    );
  };
