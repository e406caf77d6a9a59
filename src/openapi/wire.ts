import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { CATALOGUE, EVENT_NAMES, type EventName } from '../domain/catalogue';
import { EventId } from '../domain/events';

/*
 * Request shapes the document describes but no single codec decodes. Answers are not here: each
 * answer's codec is the one its use case returns (src/domain/views.ts and beside the use cases).
 */

/**
 * The ingest body, one shape per catalogue event (the handler decodes the envelope, then the payload
 * by name). A missing payload counts as `{}`, so it may be left out only where `{}` is a valid one.
 */
const incomingEventOf = (name: EventName): t.Mixed => {
  const payload = CATALOGUE[name].payload as t.Mixed;
  return E.isRight(payload.decode({}))
    ? t.intersection([t.type({ name: t.literal(name) }), t.partial({ payload, id: EventId })])
    : t.intersection([t.type({ name: t.literal(name), payload }), t.partial({ id: EventId })]);
};
export const IncomingEvent = t.union(EVENT_NAMES.map(incomingEventOf) as [t.Mixed, t.Mixed, ...t.Mixed[]], 'IncomingEvent');

export const RedriveRequest = t.union([t.exact(t.type({ all: t.literal(true) })), t.exact(t.type({ messageId: t.string }))], 'RedriveRequest');
