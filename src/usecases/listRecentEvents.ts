import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import type { AppError } from '../domain/errors';
import type { Clock } from '../ports/clock';
import type { EventStore, StoredEvent } from '../ports/eventStore';
import { decodeOrInvalid } from './decode';

export const DEFAULT_EVENTS_LIMIT = 20;
export const MAX_EVENTS_LIMIT = 100;
export const DEFAULT_EVENTS_SINCE_HOURS = 24;
export const MAX_EVENTS_SINCE_HOURS = 24 * 7;
/** The events table has no time index: a listing reads at most this many rows. */
export const MAX_EVENTS_SCANNED = 5_000;

const intIn = (min: number, max: number) =>
  new t.Type<string, string, unknown>(
    `an integer from ${min} to ${max}`,
    (u): u is string => typeof u === 'string',
    (u, c) => (typeof u === 'string' && /^[0-9]{1,6}$/.test(u) && Number(u) >= min && Number(u) <= max ? t.success(u) : t.failure(u, c)),
    (a) => a,
  );

/** Query parameters as they arrive: strings, all optional. */
export const ListEventsQuery = t.partial({ limit: intIn(1, MAX_EVENTS_LIMIT), sinceHours: intIn(1, MAX_EVENTS_SINCE_HOURS) }, 'ListEventsQuery');
export type ListEventsQuery = t.TypeOf<typeof ListEventsQuery>;

export type ListRecentEventsDeps = { readonly events: Pick<EventStore, 'list'>; readonly clock: Clock };

/** The newest events received in the last `sinceHours` hours (for the ops console). */
export const listRecentEvents =
  (deps: ListRecentEventsDeps) =>
  (query: Record<string, string | undefined>): TE.TaskEither<AppError, StoredEvent[]> =>
    pipe(
      TE.fromEither(decodeOrInvalid(ListEventsQuery, query, { what: 'The query' })),
      TE.chain((q) => {
        const sinceHours = q.sinceHours === undefined ? DEFAULT_EVENTS_SINCE_HOURS : Number(q.sinceHours);
        const receivedAfter = new Date(deps.clock.now().getTime() - sinceHours * 3_600_000).toISOString();
        return deps.events.list({ limit: q.limit === undefined ? DEFAULT_EVENTS_LIMIT : Number(q.limit), receivedAfter, scanMax: MAX_EVENTS_SCANNED });
      }),
    );
