import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { Clock } from '../ports/clock';
import type { EventStore, StoredEvent } from '../ports/eventStore';

export const DEFAULT_EVENTS_LIMIT = 20;
export const MAX_EVENTS_LIMIT = 100;
export const DEFAULT_EVENTS_SINCE_HOURS = 24;
export const MAX_EVENTS_SINCE_HOURS = 24 * 7;
/** The events table has no time index: a listing reads at most this many rows. */
export const MAX_EVENTS_SCANNED = 5_000;

export type ListRecentEventsDeps = { readonly events: Pick<EventStore, 'list'>; readonly clock: Clock };

/** The newest events received in the last `sinceHours` hours (for the ops console); the edge decodes the query. */
export const listRecentEvents =
  (deps: ListRecentEventsDeps) =>
  (query: { readonly limit: number; readonly sinceHours: number }): TE.TaskEither<AppError, StoredEvent[]> => {
    const receivedAfter = new Date(deps.clock.now().getTime() - query.sinceHours * 3_600_000).toISOString();
    return deps.events.list({ limit: query.limit, receivedAfter, scanMax: MAX_EVENTS_SCANNED });
  };
