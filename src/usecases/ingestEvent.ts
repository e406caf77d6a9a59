import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { canonicalJson } from '../domain/canonicalJson';
import { decodePayload, EVENT_NAMES, type EventName, isEventName, type KnownEvent } from '../domain/catalogue';
import { formatValidationErrors } from '../domain/decodeErrors';
import { type AppError, conflict, invalid } from '../domain/errors';
import { type EventId, IncomingEventEnvelope } from '../domain/events';
import type { Clock } from '../ports/clock';
import type { DispatchFresh, StartDispatch } from '../ports/dispatch';
import type { EventStore, StoredEvent } from '../ports/eventStore';
import type { PrivacyIndex } from '../ports/privacyIndex';
import { redactFiscalCodes, subjectHash, subjectsOf } from '../domain/privacy';
import { decodeOrInvalid } from './decode';

export type IngestEventDeps = {
  readonly events: EventStore;
  readonly clock: Clock;
  readonly newEventId: () => EventId;
  /** The fan-out; absent until the orchestrator exists, when ingest only records the event. */
  readonly startDispatch?: StartDispatch;
  /** Stores and dispatches a post without `id` (docs/architecture.md item 31); absent: stored, then `startDispatch`. */
  readonly dispatchFresh?: DispatchFresh;
  /** DISABLED_EVENTS: accepted and stored (the sender cannot know the toggle), but not dispatched. */
  readonly disabledEvents?: ReadonlySet<string>;
  /** The retention and erasure indexes (docs/privacy.md), written before the event row. */
  readonly privacy?: { readonly index: PrivacyIndex; readonly subjectHashKey: string };
};

/** Index rows first: one without its event is harmless, an event without them escapes retention or erasure. */
const indexFirst = ({ privacy }: IngestEventDeps, stored: StoredEvent): TE.TaskEither<AppError, void> =>
  privacy === undefined
    ? TE.right(undefined)
    : privacy.index.record({
        eventId: stored.id,
        receivedAt: stored.receivedAt,
        subjectHashes: subjectsOf(stored).map((subject) => subjectHash({ key: privacy.subjectHashKey, subject })),
      });

export type IngestResult = { readonly id: EventId; readonly name: EventName; readonly repeated: boolean; readonly disabled?: boolean };

const MAX_ECHOED_NAME_LENGTH = 64;

/** Envelope, then event name, then the payload with the codec of that event. */
export const decodeIncomingEvent = (body: unknown): E.Either<AppError, { id?: EventId; event: KnownEvent }> =>
  pipe(
    decodeOrInvalid(IncomingEventEnvelope, body, { what: 'The event' }),
    E.chain((envelope) => {
      if (!isEventName(envelope.name)) {
        // A name is echoed to help the sender, but never a fiscal code someone put there.
        const shown = redactFiscalCodes(JSON.stringify(envelope.name.slice(0, MAX_ECHOED_NAME_LENGTH)));
        return E.left(invalid('The event is invalid', [`name: unknown event ${shown}; known events: ${EVENT_NAMES.join(', ')}`]));
      }
      return pipe(
        decodePayload(envelope.name, envelope.payload),
        E.bimap(
          (errors) => invalid('The event is invalid', formatValidationErrors(errors, 'payload')),
          (event) => ({ id: envelope.id, event }),
        ),
      );
    }),
  );

const sameEvent = (a: KnownEvent, b: KnownEvent): boolean => a.name === b.name && canonicalJson(a.payload) === canonicalJson(b.payload);

/**
 * Decodes an incoming event and stores it durably before answering; a repeat of a stored id with the
 * same event is accepted again (and not stored twice), with another event it is a Conflict. A post
 * without an id goes to `dispatchFresh` when there is one, which stores it too.
 * Dispatch starts on every accepted post: the port is idempotent per id, and starting again covers a
 * crash between storing and starting.
 */
export const ingestEvent =
  (deps: IngestEventDeps) =>
  (body: unknown): TE.TaskEither<AppError, IngestResult> =>
    pipe(
      TE.fromEither(decodeIncomingEvent(body)),
      TE.chain(({ id, event }) => {
        const stored: StoredEvent = { id: id ?? deps.newEventId(), name: event.name, payload: event.payload, receivedAt: deps.clock.now().toISOString(), status: 'accepted' };
        // An id the dispatcher chose has no earlier post to compare with: the dispatch stores it, in the order it needs.
        if (id === undefined && deps.dispatchFresh !== undefined && deps.disabledEvents?.has(stored.name) !== true) {
          const dispatchFresh = deps.dispatchFresh;
          return pipe(
            indexFirst(deps, stored),
            TE.chain(() => dispatchFresh(stored)),
            TE.map((): IngestResult => ({ id: stored.id, name: stored.name, repeated: false })),
          );
        }
        return pipe(
          indexFirst(deps, stored),
          TE.chain(() => deps.events.add(stored)),
          TE.chain((added): TE.TaskEither<AppError, IngestResult> => {
            if (added.kind === 'Added') return TE.right({ id: stored.id, name: stored.name, repeated: false });
            return sameEvent(added.existing, stored)
              ? TE.right({ id: stored.id, name: stored.name, repeated: true })
              : TE.left(conflict(`An event with id "${stored.id}" was already received with a different name or payload`));
          }),
          TE.map((result) => (deps.disabledEvents?.has(result.name) === true ? { ...result, disabled: true } : result)),
          TE.chainFirst((result) =>
            deps.startDispatch === undefined || result.disabled === true
              ? TE.right(undefined)
              : deps.startDispatch(result.id, result.repeated ? { repeated: true } : { repeated: false, event: stored }),
          ),
        );
      }),
    );
