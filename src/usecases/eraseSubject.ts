import * as A from 'fp-ts/Array';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import type { AppError } from '../domain/errors';
import { FiscalCode } from '../domain/fiscalCode';
import { trimPoison } from '../domain/poison';
import { subjectHash } from '../domain/privacy';
import type { PoisonQueue } from '../ports/poisonQueue';
import type { PrivacyIndex } from '../ports/privacyIndex';
import { decodeOrInvalid } from './decode';
import { Deleted, findEvent, removeEvent, type RemoveEventDeps } from './removeEvent';
import { removePoison } from './removePoison';

export const ErasureRequest = t.exact(t.type({ fiscalCode: FiscalCode }), 'ErasureRequest');
export type ErasureRequest = t.TypeOf<typeof ErasureRequest>;

export type EraseSubjectDeps = RemoveEventDeps & {
  readonly index: Pick<PrivacyIndex, 'eventsOfSubject' | 'forget'>;
  readonly poison: PoisonQueue;
  /** Events erased per call at most; a person with more is finished by calling again (`truncated`). */
  readonly maxEvents: number;
  /** Poison messages looked at per call at most. */
  readonly maxPoisonMessages: number;
  /**
   * Waited after the events are deleted, before answering: a worker whose event check passed just
   * before the delete has sent by then, so no delivery for the person starts after the answer.
   */
  readonly settleMs?: number;
};

/** `truncated`: a bound was reached, call again to finish. */
export const ErasureReport = t.type({ deleted: Deleted, truncated: t.boolean }, 'ErasureReport');
export type ErasureReport = t.TypeOf<typeof ErasureReport>;

/**
 * Erasure of one person (GDPR art. 17): every event indexed under the keyed hash of the fiscal code
 * is deleted with its attempts and index rows, then the poison entries that hold the code or belong
 * to those events. The event rows go first, so deliveries still owed are skipped from then on.
 */
export const eraseSubject =
  (deps: EraseSubjectDeps) =>
  (body: unknown): TE.TaskEither<AppError, ErasureReport> =>
    pipe(
      TE.fromEither(decodeOrInvalid(ErasureRequest, body, { what: 'The erasure request' })),
      TE.chain(({ fiscalCode }) => {
        const hash = subjectHash({ key: deps.subjectHashKey, subject: fiscalCode });
        return pipe(
          deps.index.eventsOfSubject({ subjectHash: hash, limit: deps.maxEvents }),
          TE.chain((ids) =>
            pipe(
              ids.map((id) =>
                pipe(
                  findEvent(deps, id),
                  TE.chain((event) => removeEvent(deps)({ id, event, buckets: [], subjectHashes: [hash] })),
                ),
              ),
              A.sequence(TE.ApplicativeSeq),
              TE.chainFirst(() => TE.fromTask(() => new Promise<void>((resolve) => setTimeout(resolve, deps.settleMs ?? 0)))),
              TE.chain((removed) => {
                const erased = new Set<string>(ids);
                // An envelope also holding other events' messages loses only this person's: the rest stay for a redrive.
                const trim = (text: string) => trimPoison(text, (json, eventId) => json.includes(fiscalCode) || erased.has(eventId));
                return pipe(
                  removePoison(deps)({
                    matches: (m) => trim(m.text).kind === 'Remove',
                    rewrite: (m) => {
                      const t = trim(m.text);
                      return t.kind === 'Rewrite' ? t.text : undefined;
                    },
                    maxMessages: deps.maxPoisonMessages,
                  }),
                  TE.map((poison): ErasureReport => ({
                    deleted: {
                      events: removed.reduce((n, r) => n + r.events, 0),
                      attempts: removed.reduce((n, r) => n + r.attempts, 0),
                      poison: poison.removed,
                    },
                    truncated: ids.length >= deps.maxEvents || poison.truncated,
                  })),
                );
              }),
            ),
          ),
        );
      }),
    );
