import * as TE from 'fp-ts/TaskEither';
import type { WebhookId } from '../../domain/webhook';
import type { StaleSecrets } from '../../ports/staleSecrets';
import { storageError } from './storageErrors';
import type { EnsuredTable } from './tables';
import { idOfMainKey, liveMainRowsAfter } from './webhookKeys';

/**
 * The main rows whose `secretKeyId` is not `currentKeyId`, found by reading the main rows' keys and
 * key ids (an admin operation, a scan of the main rows): a row written before encryption has no
 * `secretKeyId` column, and a server-side `ne` filter might skip it, so the test is made here.
 */
export const tableStaleSecrets =
  (table: EnsuredTable, currentKeyId: string): StaleSecrets =>
  ({ limit }) =>
    TE.tryCatch(async () => {
      const client = await table.ready();
      const filter = liveMainRowsAfter('');
      const ids: WebhookId[] = [];
      for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: ['RowKey', 'secretKeyId'] } })) {
        if (row.secretKeyId === currentKeyId) continue;
        // One more than asked tells whether others follow.
        if (ids.length === limit) return { ids, more: true };
        ids.push(idOfMainKey(row.rowKey ?? '') as WebhookId);
      }
      return { ids, more: false };
    }, storageError('find webhooks to re-encrypt'));
