import { odata, type TableClient, type TableEntity } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { decodePayload, isEventName } from '../../domain/catalogue';
import { illFormedPath, repairedText } from '../../domain/strings';
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
    // A dispatched event written whole (a copy, the bench's seed) has the row the mark leaves.
    ...(event.firstPage === undefined ? {} : { firstPageDeliveries: event.firstPage.deliveries, orchestrated: event.firstPage.orchestrated }),
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
        // Events stored before text had to be well formed may hold a lone surrogate: checked with
        // U+FFFD in its place, kept as stored (it must still match the webhooks stored with it).
        decodePayload(r.name, repairedText(payload)),
        E.map((event) => (illFormedPath(payload) === undefined ? event : { ...event, payload: payload as typeof event.payload })),
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
    scanPage: ({ limit, continuationToken }) =>
      pipe(
        TE.tryCatch(async () => {
          const client = await table.ready();
          const pages = client.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`RowKey eq ${EVENT_ROW_KEY}` } }).byPage({ maxPageSize: Math.min(limit, 1000), ...(continuationToken === undefined ? {} : { continuationToken }) });
          const page = await pages.next();
          return page.done === true ? { rows: [], next: undefined } : { rows: [...page.value], next: page.value.continuationToken };
        }, storageError('scan events')),
        // A row this code cannot read is left out of the index, not a reason to stop the scan.
        TE.map(({ rows, next }) => ({ events: rows.flatMap((row) => pipe(fromRow(row), E.match(() => [], (event) => [event]))), ...(next === undefined ? {} : { continuationToken: next }) })),
      ),
    remove: (id) =>
      TE.tryCatch(async () => {
        try {
          await (await table.ready()).deleteEntity(id, EVENT_ROW_KEY);
          return true;
        } catch (e) {
          if (statusOf(e) === 404) return false;
          throw e;
        }
      }, storageError('delete an event')),
    listStranded: ({ receivedBefore, limit }) =>
      TE.tryCatch(async () => {
        const rows = await queryUpTo<{ partitionKey?: string; receivedAt?: string; etag?: string }>(await table.ready(), {
          filter: odata`RowKey eq ${EVENT_ROW_KEY} and status eq 'accepted' and receivedAt lt ${receivedBefore}`,
          max: limit,
        });
        return rows.flatMap((r) => (r.partitionKey && r.receivedAt && r.etag ? [{ id: r.partitionKey as EventId, receivedAt: r.receivedAt, version: r.etag }] : []));
      }, storageError('list stranded events')),
    removeStranded: (event) =>
      TE.tryCatch(async () => {
        try {
          // Only the row as it was listed: a repeat post that dispatched it since changed its ETag.
          await (await table.ready()).deleteEntity(event.id, EVENT_ROW_KEY, { etag: event.version });
          return 'Removed' as const;
        } catch (e) {
          if (statusOf(e) === 412 || statusOf(e) === 404) return 'Changed' as const;
          throw e;
        }
      }, storageError('remove a stranded event')),
  };
};
