import { odata, type TableClient, type TableEntity } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { decodePayload, isEventName } from '../../domain/catalogue';
import { formatValidationErrors } from '../../domain/decodeErrors';
import { type AppError, notFound, permanent } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { AddEventResult, EventStore, StoredEvent } from '../../ports/eventStore';
import { statusOf, storageError } from './storageErrors';
import { type EnsuredTable, queryUpTo } from './tables';

/*
 * One row per event: PartitionKey = event id, RowKey = "event". The payload JSON is split over
 * properties of PAYLOAD_CHUNK_CHARS characters, because a string property holds at most 64 KiB of
 * UTF-16 (32 K characters) while an entity holds 1 MiB.
 */

export const EVENT_ROW_KEY = 'event';
export const PAYLOAD_CHUNK_CHARS = 16_000;

export const chunk = (text: string, size: number): string[] => {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts.length === 0 ? [''] : parts;
};

const toRow = (event: StoredEvent): TableEntity<Record<string, unknown>> => {
  const parts = chunk(JSON.stringify(event.payload), PAYLOAD_CHUNK_CHARS);
  return {
    partitionKey: event.id,
    rowKey: EVENT_ROW_KEY,
    name: event.name,
    receivedAt: event.receivedAt,
    status: event.status,
    payloadChunks: parts.length,
    ...Object.fromEntries(parts.map((p, i) => [`payload${i}`, p])),
  };
};

const EventRow = t.intersection([
  t.type({ partitionKey: t.string, name: t.string, receivedAt: t.string, status: t.keyof({ accepted: null, dispatched: null }), payloadChunks: t.number }),
  t.partial({ firstPageDeliveries: t.number, orchestrated: t.boolean }),
]);

export const fromRow = (row: Record<string, unknown>): E.Either<AppError, StoredEvent> => {
  const corrupt = (why: string): AppError => permanent(`A stored event row is corrupt: ${why}`);
  return pipe(
    EventRow.decode(row),
    E.mapLeft((errors) => corrupt(formatValidationErrors(errors).join('; '))),
    E.chain((r) => {
      if (!isEventName(r.name)) return E.left(corrupt(`unknown event name "${r.name}"`));
      let payload: unknown;
      try {
        payload = JSON.parse(Array.from({ length: r.payloadChunks }, (_, i) => String(row[`payload${i}`] ?? '')).join(''));
      } catch {
        return E.left(corrupt('the payload is not JSON'));
      }
      return pipe(
        decodePayload(r.name, payload),
        E.mapLeft((errors) => corrupt(formatValidationErrors(errors, 'payload').join('; '))),
        E.map(
          (event): StoredEvent => ({
            id: r.partitionKey as EventId,
            name: event.name,
            payload: event.payload,
            receivedAt: r.receivedAt,
            status: r.status,
            ...(r.status === 'dispatched' ? { firstPage: { deliveries: r.firstPageDeliveries ?? 0, orchestrated: r.orchestrated ?? false } } : {}),
          }),
        ),
      );
    }),
  );
};

export const tableEventStore = (table: EnsuredTable): EventStore => {
  const read = async (client: TableClient, id: EventId): Promise<E.Either<AppError, StoredEvent>> => {
    try {
      return fromRow(await client.getEntity<Record<string, unknown>>(id, EVENT_ROW_KEY));
    } catch (e) {
      if (statusOf(e) === 404) return E.left(notFound(`No event with id "${id}"`));
      throw e;
    }
  };
  return {
    add: (event) =>
      pipe(
        TE.tryCatch(async (): Promise<E.Either<AppError, AddEventResult>> => {
          const client = await table.ready();
          try {
            await client.createEntity(toRow(event));
            return E.right({ kind: 'Added' });
          } catch (e) {
            // The id was taken first: the caller compares the stored event with this one.
            if (statusOf(e) !== 409) throw e;
            return pipe(await read(client, event.id), E.map((existing) => ({ kind: 'AlreadyExists', existing })));
          }
        }, storageError('store an event')),
        TE.chainEitherK((x) => x),
      ),
    get: (id) =>
      pipe(
        TE.tryCatch(async () => read(await table.ready(), id), storageError('read an event')),
        TE.chainEitherK((x) => x),
      ),
    markDispatched: (id, firstPage) =>
      TE.tryCatch(async () => {
        const client = await table.ready();
        await client.updateEntity({ partitionKey: id, rowKey: EVENT_ROW_KEY, status: 'dispatched', firstPageDeliveries: firstPage.deliveries, orchestrated: firstPage.orchestrated }, 'Merge');
      }, storageError('mark an event dispatched')),
    list: ({ limit, receivedAfter, scanMax }) =>
      pipe(
        TE.tryCatch(
          async () => queryUpTo<Record<string, unknown>>(await table.ready(), { filter: odata`RowKey eq ${EVENT_ROW_KEY} and receivedAt ge ${receivedAfter}`, max: scanMax }),
          storageError('list events'),
        ),
        TE.chainEitherK((rows) => E.traverseArray(fromRow)(rows)),
        TE.map((events) => [...events].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt)).slice(0, limit)),
      ),
    // A filtered scan, paged: the table has no time index (docs/delivery.md, replay "all").
    pageReceivedBetween: ({ since, until, pageSize, continuationToken }) =>
      pipe(
        TE.tryCatch(async () => {
          const client = await table.ready();
          const filter = odata`RowKey eq ${EVENT_ROW_KEY} and receivedAt ge ${since} and receivedAt lt ${until}`;
          const pages = client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: pageSize, ...(continuationToken === undefined ? {} : { continuationToken }) });
          const first = await pages.next();
          if (first.done === true) return { rows: [] as Record<string, unknown>[] };
          return { rows: [...first.value], continuationToken: first.value.continuationToken };
        }, storageError('list events')),
        // A row that no longer decodes is left out of a replay rather than stopping it.
        TE.map(({ rows, continuationToken: next }) => ({ items: rows.flatMap((row) => { const e = fromRow(row); return E.isRight(e) ? [e.right] : []; }), ...(next === undefined ? {} : { continuationToken: next }) })),
      ),
  };
};
