import type { ContainerClient } from '@azure/storage-blob';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { notFound } from '../../domain/errors';
import type { EventId } from '../../domain/events';
import type { PayloadStore } from '../../ports/payloadStore';
import { onceUntilFailure } from '../onceUntilFailure';
import { blobServiceClientFor, type StorageConnection } from '../storageConnection';
import { deadlineSignal } from '../storageDeadline';
import { statusOf, storageError } from '../tables/storageErrors';

/*
 * One private container (PAYLOADS_CONTAINER), one folder per event: `<eventId>/<sha256>.json`. Only
 * the app's storage identity (or account key) reads it; no SAS is ever issued, and queue messages
 * name the hash alone. The folder lets the purge and erasure delete every version an event id had.
 */

const folderOf = (eventId: EventId): string => `${eventId}/`;

export const blobPayloadStore = (options: { connectionString: StorageConnection; containerName: string; timeoutMs: number }): PayloadStore => {
  // Few, short SDK retries, as for tables and queues: a caller learns quickly that storage is down.
  const service = blobServiceClientFor(options.connectionString, { retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1000 } });
  const container: ContainerClient = service.getContainerClient(options.containerName);
  const signal = (): AbortSignal => deadlineSignal(options.timeoutMs);
  const ready = onceUntilFailure(async () => {
    await container.createIfNotExists({ abortSignal: signal() });
    return container;
  });
  return {
    put: ({ eventId, ref, text }) =>
      TE.tryCatch(async () => {
        const body = Buffer.from(text, 'utf8');
        await (await ready()).getBlockBlobClient(`${folderOf(eventId)}${ref}.json`).upload(body, body.length, {
          abortSignal: signal(),
          blobHTTPHeaders: { blobContentType: 'application/json' },
        });
      }, storageError('store an event payload')),
    get: ({ eventId, ref }) =>
      pipe(
        TE.tryCatch(async () => {
          try {
            // download(), not downloadToBuffer(): that one asks the size first, a second billed operation.
            const response = await (await ready()).getBlockBlobClient(`${folderOf(eventId)}${ref}.json`).download(0, undefined, { abortSignal: signal() });
            const chunks: Buffer[] = [];
            for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
            return { found: true as const, text: Buffer.concat(chunks).toString('utf8') };
          } catch (e) {
            if (statusOf(e) === 404) return { found: false as const };
            throw e;
          }
        }, storageError('read an event payload')),
        TE.chain((read) => (read.found ? TE.right(read.text) : TE.left(notFound(`The payload of event "${eventId}" is gone`)))),
      ),
    removeAll: (eventId) =>
      TE.tryCatch(async () => {
        const client = await ready();
        let removed = 0;
        for await (const blob of client.listBlobsFlat({ prefix: folderOf(eventId), abortSignal: signal() })) {
          await client.deleteBlob(blob.name, { abortSignal: signal() }).catch((e: unknown) => {
            if (statusOf(e) !== 404) throw e;
          });
          removed++;
        }
        return removed;
      }, storageError('delete event payloads')),
  };
};
