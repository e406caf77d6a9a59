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
import type { PayloadStore } from '../../ports/payloadStore';
import { claimCheckOf, type PayloadRef, ROW_PAYLOAD_MAX_CHARS } from '../../domain/claimCheck';
import { statusOf, storageError } from './storageErrors';
import { type EnsuredTable, queryUpTo } from './tables';

/*
 * One row per event: PartitionKey = event id, RowKey = "event". The payload JSON is split over
 * properties of PAYLOAD_CHUNK_CHARS characters, because a string property holds at most 64 KiB of
 * UTF-16 (32 K characters) while an entity holds 1 MiB. A payload over ROW_PAYLOAD_MAX_CHARS lives
 * only in its claim-check blob (docs/delivery.md, "Large payloads"): the row holds `payloadRef` instead.
 */

export const EVENT_ROW_KEY = 'event';
export const PAYLOAD_CHUNK_CHARS = 16_000;

export const chunk = (text: string, size: number): string[] => {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts.length === 0 ? [''] : parts;
};

const toRow = (event: StoredEvent, blobOnly?: PayloadRef): TableEntity<Record<string, unknown>> => {
  const parts = blobOnly === undefined ? chunk(JSON.stringify(event.payload), PAYLOAD_CHUNK_CHARS) : [];
  return {
    partitionKey: event.id,
    rowKey: EVENT_ROW_KEY,
    name: event.name,
    receivedAt: event.receivedAt,
    status: event.status,
    payloadChunks: parts.length,
    ...(blobOnly === undefined ? {} : { payloadRef: blobOnly }),
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
        E.map((event): StoredEvent => ({
          id: r.partitionKey as EventId,
          name: event.name,
          payload: event.payload,
          receivedAt: r.receivedAt,
          status: r.status,
          ...(r.status === 'dispatched' ? { firstPage: { deliveries: r.firstPageDeliveries ?? 0, orchestrated: r.orchestrated ?? false } } : {}),
        })),
      );
    }),
  );
};

/**
 * `payloads` keeps the blobs of large payloads (absent: every payload must fit the row). A blob is
 * written before its row, so an event row never names a blob that was not stored.
 */
export const tableEventStore = (table: EnsuredTable, options: { payloads?: PayloadStore } = {}): EventStore => {
  const { payloads } = options;
  /** A row whose payload lives in its blob, with the blob's text in place of the chunks. */
  const resolved = async (row: Record<string, unknown>): Promise<E.Either<AppError, StoredEvent>> => {
    const ref = row.payloadRef;
    if (typeof ref !== 'string') return fromRow(row);
    if (payloads === undefined) return E.left(permanent('A stored event row names a payload blob, and no blob store is configured'));
    const text = await payloads.get({ eventId: String(row.partitionKey) as EventId, ref: ref as PayloadRef })();
    // A row without its blob is an event half-removed by the purge or an erasure: gone for its readers.
    if (E.isLeft(text)) return text.left.kind === 'NotFound' ? E.left(notFound(`No event with id "${String(row.partitionKey)}"`)) : E.left(text.left);
    return fromRow({ ...row, payloadChunks: 1, payload0: text.right });
  };
  const read = async (client: TableClient, id: EventId): Promise<E.Either<AppError, StoredEvent>> => {
    try {
      return await resolved(await client.getEntity<Record<string, unknown>>(id, EVENT_ROW_KEY));
    } catch (e) {
      if (statusOf(e) === 404) return E.left(notFound(`No event with id "${id}"`));
      throw e;
    }
  };
  return {
    add: (event) =>
      pipe(
        TE.tryCatch(async (): Promise<E.Either<AppError, AddEventResult>> => {
          const claim = payloads === undefined ? undefined : claimCheckOf(event.payload);
          if (claim !== undefined && payloads !== undefined) {
            // The blob first (the same name on a repeat): nothing is acknowledged unless both are stored.
            const put = await payloads.put({ eventId: event.id, ref: claim.ref, text: claim.text })();
            if (E.isLeft(put)) return put;
          }
          const client = await table.ready();
          try {
            await client.createEntity(toRow(event, claim !== undefined && claim.text.length > ROW_PAYLOAD_MAX_CHARS ? claim.ref : undefined));
            return E.right({ kind: 'Added' });
          } catch (e) {
            // The id was taken first: the caller compares the stored event with this one.
            if (statusOf(e) !== 409) throw e;
            return pipe(
              await read(client, event.id),
              E.map((existing) => ({ kind: 'AlreadyExists', existing })),
            );
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
        TE.chain((rows) => TE.tryCatch(() => Promise.all(rows.map(resolved)), storageError('list events'))),
        TE.chainEitherK((events) => E.sequenceArray(events)),
        TE.map((events) => [...events].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt)).slice(0, limit)),
      ),
    scanPage: ({ limit, continuationToken }) =>
      pipe(
        TE.tryCatch(async () => {
          const client = await table.ready();
          const pages = client
            .listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`RowKey eq ${EVENT_ROW_KEY}` } })
            .byPage({ maxPageSize: Math.min(limit, 1000), ...(continuationToken === undefined ? {} : { continuationToken }) });
          const page = await pages.next();
          return page.done === true ? { rows: [], next: undefined } : { rows: [...page.value], next: page.value.continuationToken };
        }, storageError('scan events')),
        // A row this code cannot read is left out of the index, not a reason to stop the scan.
        TE.chain(({ rows, next }) => TE.tryCatch(async () => ({ events: await Promise.all(rows.map(resolved)), next }), storageError('scan events'))),
        TE.map(({ events, next }) => ({
          events: events.flatMap((event) =>
            pipe(
              event,
              E.match(
                () => [],
                (e) => [e],
              ),
            ),
          ),
          ...(next === undefined ? {} : { continuationToken: next }),
        })),
      ),
    remove: (id) =>
      pipe(
        // The blobs first: a failure leaves the row, and the next purge or erasure finds it again.
        payloads === undefined ? TE.right(0) : payloads.removeAll(id),
        TE.chain(() =>
          TE.tryCatch(async () => {
            try {
              await (await table.ready()).deleteEntity(id, EVENT_ROW_KEY);
              return true;
            } catch (e) {
              if (statusOf(e) === 404) return false;
              throw e;
            }
          }, storageError('delete an event')),
        ),
      ),
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
