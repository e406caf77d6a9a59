import { odata } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import type { LookupRange } from '../../domain/delivery';
import type { Webhook } from '../../domain/webhook';
import type { WebhookLookup } from '../../ports/webhookLookup';
import { statusOf, storageError } from './storageErrors';
import { type EnsuredTable, queryUpTo } from './tables';
import { fromRow, INDEX_START, MAIN_PREFIX, PARTITION_KEY } from './tableWebhookStore';

/** Table queries allow 15 comparisons in a filter: the partition key plus 14 row keys. */
const IDS_PER_QUERY = 14;

const filterFor = (ids: readonly string[]): string =>
  `PartitionKey eq '${PARTITION_KEY}' and (${ids.map((id) => odata`RowKey eq ${MAIN_PREFIX + id}`).join(' or ')})`;

/** Rows a range read may return: a fan-out page (1000 at most), whatever a message claims. */
const MAX_RANGE_ROWS = 1000;

/**
 * A range from a queue message is input like any other: it must span index rows of one public
 * event, in order. Anything else is ignored and the ids are read one by one.
 */
const usableRange = (range: LookupRange | undefined): LookupRange | undefined => {
  if (range === undefined || !range.from.startsWith(INDEX_START) || range.from > range.to) return undefined;
  const eventOf = (key: string): string | undefined => key.split('|')[1];
  return eventOf(range.from) !== undefined && eventOf(range.from) === eventOf(range.to) ? range : undefined;
};

/**
 * Reads the webhooks of a message. With a range from the fan-out, one query reads the index rows
 * between the first and last of them (index rows are full copies, written in the same transaction
 * as the main row, so they are as current); the ids not found there (changed, disabled or deleted
 * since) are read from their main rows. Without one: a point read per id when there is one id, else
 * one query per 14 ids (`or` over row keys, which the service answers by scanning the partition:
 * fine for retries, not for every message of a large registry). Deleted or unreadable rows are
 * left out.
 */
export const tableWebhookLookup = (table: EnsuredTable): WebhookLookup => (ids, range) =>
  TE.tryCatch(async () => {
    const client = await table.ready();
    const found = new Map<string, Webhook>();
    const wanted = new Set(ids);
    const fromRange = ids.length > 1 ? usableRange(range) : undefined;
    if (fromRange !== undefined) {
      const filter = odata`PartitionKey eq ${PARTITION_KEY} and RowKey ge ${fromRange.from} and RowKey le ${fromRange.to}`;
      for (const row of await queryUpTo<Record<string, unknown>>(client, { filter, max: MAX_RANGE_ROWS })) {
        const webhook = fromRow(row);
        if (E.isRight(webhook) && wanted.has(webhook.right.id)) found.set(webhook.right.id, webhook.right);
      }
    }
    const rest = ids.filter((id) => !found.has(id));
    const batches = Array.from({ length: Math.ceil(rest.length / IDS_PER_QUERY) }, (_, i) => rest.slice(i * IDS_PER_QUERY, (i + 1) * IDS_PER_QUERY));
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
