import { odata } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import type { Webhook } from '../../domain/webhook';
import type { WebhookLookup } from '../../ports/webhookLookup';
import { statusOf, storageError } from './storageErrors';
import type { EnsuredTable } from './tables';
import { fromRow, MAIN_PREFIX, PARTITION_KEY } from './tableWebhookStore';

/** Table queries allow 15 comparisons in a filter: the partition key plus 14 row keys. */
const IDS_PER_QUERY = 14;

const filterFor = (ids: readonly string[]): string =>
  `PartitionKey eq '${PARTITION_KEY}' and (${ids.map((id) => odata`RowKey eq ${MAIN_PREFIX + id}`).join(' or ')})`;

/**
 * Reads the main rows of several webhooks in a few queries (one per 14 ids; a point read for a
 * single id), so a message of 50 deliveries costs 4 table reads, not 50. Deleted or unreadable rows
 * are left out.
 */
export const tableWebhookLookup = (table: EnsuredTable): WebhookLookup => (ids) =>
  TE.tryCatch(async () => {
    const client = await table.ready();
    const found = new Map<string, Webhook>();
    const batches = Array.from({ length: Math.ceil(ids.length / IDS_PER_QUERY) }, (_, i) => ids.slice(i * IDS_PER_QUERY, (i + 1) * IDS_PER_QUERY));
    await Promise.all(
      batches.map(async (batch) => {
        const [only] = batch;
        if (batch.length === 1 && only !== undefined) {
          // One id (most messages at fan-out 1): a point read, billed as a read rather than a query.
          const row = await client.getEntity<Record<string, unknown>>(PARTITION_KEY, MAIN_PREFIX + only).catch((e: unknown) => {
            if (statusOf(e) === 404) return undefined;
            throw e;
          });
          const webhook = row === undefined || row.deleted === true ? undefined : fromRow(row);
          if (webhook !== undefined && E.isRight(webhook)) found.set(webhook.right.id, webhook.right);
          return;
        }
        for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter: filterFor(batch) } })) {
          if (row.deleted === true) continue;
          const webhook = fromRow(row);
          if (E.isRight(webhook)) found.set(webhook.right.id, webhook.right);
        }
      }),
    );
    return found as ReadonlyMap<string, Webhook>;
  }, storageError('read webhooks'));
