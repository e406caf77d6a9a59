import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import type { AppError } from '../domain/errors';
import type { EventId } from '../domain/events';
import { subjectHash, subjectsOf } from '../domain/privacy';
import type { AttemptLog } from '../ports/attemptLog';
import type { EventStore, StoredEvent } from '../ports/eventStore';
import type { PrivacyIndex } from '../ports/privacyIndex';

export type RemoveEventDeps = {
  readonly events: Pick<EventStore, 'get' | 'remove'>;
  readonly attemptLog: Pick<AttemptLog, 'removeForEvent'>;
  readonly index: Pick<PrivacyIndex, 'forget'>;
  readonly subjectHashKey: string;
};

export type Removed = { readonly events: number; readonly attempts: number };
/** What a purge or an erasure answers it deleted, poison entries included. */
export const Deleted = t.type({ events: t.number, attempts: t.number, poison: t.number });

/** The stored event, or undefined when it is already gone. */
export const findEvent = (deps: Pick<RemoveEventDeps, 'events'>, id: EventId): TE.TaskEither<AppError, StoredEvent | undefined> =>
  pipe(
    deps.events.get(id),
    TE.map((e): StoredEvent | undefined => e),
    TE.orElse((e) => (e.kind === 'NotFound' ? TE.right(undefined) : TE.left(e))),
  );

/**
 * Deletes one event with its attempt rows and index rows (retention and erasure). The event row goes
 * first: from then on its deliveries are skipped (deliverMessage). The index rows go last, so a run
 * that fails half way is found and finished by the next one; every step tolerates rows already gone.
 */
export const removeEvent =
  (deps: RemoveEventDeps) =>
  (target: { id: EventId; event: StoredEvent | undefined; buckets: readonly string[]; subjectHashes: readonly string[] }): TE.TaskEither<AppError, Removed> => {
    const { id, event } = target;
    const hashes = event === undefined ? [] : subjectsOf(event).map((subject) => subjectHash({ key: deps.subjectHashKey, subject }));
    return pipe(
      deps.events.remove(id),
      TE.chain((removed) =>
        pipe(
          deps.attemptLog.removeForEvent(id),
          TE.map((attempts): Removed => ({ events: removed ? 1 : 0, attempts })),
        ),
      ),
      TE.chainFirst(() =>
        deps.index.forget({ eventId: id, receivedAt: event === undefined ? [] : [event.receivedAt], buckets: target.buckets, subjectHashes: [...new Set([...hashes, ...target.subjectHashes])] }),
      ),
    );
  };
