import { odata } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../../domain/errors';
import type { Keyring } from '../../domain/secretBox';
import type { Webhook } from '../../domain/webhook';
import { storageError } from './storageErrors';
import type { EnsuredTable } from './tables';
import { fromMainRow, MAIN_END, MAIN_PREFIX, PARTITION_KEY, withoutVersion } from './tableWebhookStore';

/**
 * Every webhook's main row (secrets opened), by one key range over the registry partition (1000 a
 * query), up to `max`: what the worker's cache reads for a wide message (src/adapters/cachedLookup.ts).
 * Deleted and unreadable rows are left out (the per-message read reports those).
 */
export const tableRegistrySnapshot =
  (table: EnsuredTable, options: { keyring: Keyring }) =>
  (max: number): TE.TaskEither<AppError, readonly Webhook[]> =>
    TE.tryCatch(async () => {
      const client = await table.ready();
      const readMain = fromMainRow(options.keyring);
      const found: Webhook[] = [];
      const filter = odata`PartitionKey eq ${PARTITION_KEY} and RowKey ge ${MAIN_PREFIX} and RowKey lt ${MAIN_END}`;
      for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
        const webhook = row.deleted === true ? undefined : readMain(row);
        if (webhook !== undefined && E.isRight(webhook)) found.push(withoutVersion(webhook.right));
        if (found.length >= max) break;
      }
      return found;
    }, storageError('read the registry'));
