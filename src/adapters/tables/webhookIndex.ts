import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { PUBLIC_EVENT_NAMES, routingAttributeOf } from '../../domain/catalogue';
import type { Keyring } from '../../domain/secretBox';
import type { Webhook } from '../../domain/webhook';
import { onceUntilFailure } from '../onceUntilFailure';
import { statusOf } from './storageErrors';
import type { EnsuredTable } from './tables';
import { idOfIndexKey, idOfMainKey, INDEX_META_KEY, INDEX_RANGE, indexKeys, type KeyRange, MAIN_RANGE, PARTITION_KEY, rangeFilter } from './webhookKeys';
import { deleteRow, hasSecretVersion, isTombstone, rowsOf, sealedUnderCurrentKey, webhookOfMainRow, type WebhookRow, type WrittenRows } from './webhookRows';

/*
 * The index rows (docs/registry-storage.md): one per public event a webhook's subscriptions cover
 * (`*` and patterns expanded over the catalogue), a copy of the webhook without its secrets, written in
 * the same entity-group transaction as the main row so the two never disagree. The meta row records the
 * catalogue they were written for; the first fan-out after a deploy that changes it rebuilds them.
 */

/** Changes when what the index rows hold changes, so the first fan-out rebuilds them (4: no secrets in index rows). */
const INDEX_LAYOUT = 4;
/** Passes of the index check: each fixes what it finds; a pass that finds nothing ends it. */
const MAX_REINDEX_PASSES = 3;

export const isRetryableWriteConflict = (e: unknown): boolean => statusOf(e) === 412 || statusOf(e) === 409 || statusOf(e) === 404;

export type WebhookIndex = {
  /** The sorted public events index rows are written for. */
  readonly publicEvents: readonly string[];
  /** The index row keys a webhook has, as written now. */
  readonly keysOf: (webhook: Webhook) => string[];
  /** The index rows of one write of a webhook. */
  readonly rowsOf: (webhook: Webhook, rows: WrittenRows) => WebhookRow[];
  /** Resolves once the index matches the catalogue (rebuilt when it does not): once per process; again after a failure. */
  readonly ready: () => Promise<void>;
};

/** Every row in `range`; only the columns in `select` when given. */
const rowsIn = async (client: TableClient, range: KeyRange, select?: string[]): Promise<TableEntityResult<Record<string, unknown>>[]> => {
  const rows: TableEntityResult<Record<string, unknown>>[] = [];
  const filter = rangeFilter(range);
  for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: select === undefined ? { filter } : { filter, select } })) rows.push(row);
  return rows;
};

export const webhookIndex = (options: { table: EnsuredTable; keyring: Keyring; publicEvents?: readonly string[] }): WebhookIndex => {
  const ring = options.keyring;
  const publicEvents = [...(options.publicEvents ?? PUBLIC_EVENT_NAMES)].sort();
  const catalogueText = JSON.stringify({ layout: INDEX_LAYOUT, events: publicEvents.map((e) => [e, routingAttributeOf(e) ?? null]) });
  const keysOf = (webhook: Webhook): string[] => indexKeys(webhook, publicEvents);
  const fromRow = webhookOfMainRow(ring);

  /**
   * One pass over the index: every live webhook gets exactly the rows of the public events it covers
   * now, and rows of missing webhooks go. Index rows are read before main rows: a webhook created in
   * between has its main row seen and its index rows rewritten (harmless), never deleted as orphans.
   * Returns how many webhooks or rows it had to fix.
   */
  const reindexPass = async (client: TableClient): Promise<number> => {
    const existing = new Map<string, Set<string>>();
    // Index rows written before encryption carry a secret and no secretVersion: their webhook is rewritten.
    const unsealedIndex = new Set<string>();
    for (const row of await rowsIn(client, INDEX_RANGE, ['RowKey', 'secretVersion'])) {
      const key = row.rowKey ?? '';
      const id = idOfIndexKey(key);
      existing.set(id, (existing.get(id) ?? new Set()).add(key));
      if (!hasSecretVersion(row)) unsealedIndex.add(id);
    }
    let fixed = 0;
    const live = new Set<string>();
    for (const row of await rowsIn(client, MAIN_RANGE)) {
      if (isTombstone(row)) continue;
      // A corrupt main row keeps its index rows: reads report it, the index check does not guess.
      live.add(idOfMainKey(row.rowKey ?? ''));
      const decoded = fromRow(row);
      if (E.isLeft(decoded)) continue;
      const webhook = decoded.right;
      const want = keysOf(webhook);
      const have = existing.get(webhook.id) ?? new Set<string>();
      // A secret stored in plain text or under an older key is sealed under SECRETS_KEY by the same rewrite.
      if (want.length === have.size && want.every((k) => have.has(k)) && sealedUnderCurrentKey(ring, row) && !unsealedIndex.has(webhook.id)) continue;
      fixed++;
      const rows = rowsOf(ring, webhook);
      // Guarded by the main row's etag like any change; a lost race is left to the next pass.
      const actions: TransactionAction[] = [
        ['update', rows.main(), 'Replace', { etag: row.etag }],
        ...[...have].filter((k) => !want.includes(k)).map(deleteRow),
        ...want.map((k): TransactionAction => ['upsert', rows.index(k), 'Replace']),
      ];
      await client.submitTransaction(actions).catch((e: unknown) => {
        if (!isRetryableWriteConflict(e)) throw e;
      });
    }
    for (const [id, keys] of existing) {
      if (live.has(id)) continue;
      for (const key of keys) {
        fixed++;
        await client.deleteEntity(PARTITION_KEY, key).catch((e: unknown) => {
          if (statusOf(e) !== 404) throw e;
        });
      }
    }
    return fixed;
  };

  /**
   * The index matches the catalogue it was written for (the meta row). When a deploy changes the
   * public events, `*` and pattern subscribers need rows for the new ones: the first fan-out of the
   * process rebuilds them before it reads.
   */
  const ready = onceUntilFailure(async (): Promise<void> => {
    const client = await options.table.ready();
    const meta = await client.getEntity<{ publicEvents: string }>(PARTITION_KEY, INDEX_META_KEY).catch((e: unknown) => {
      if (statusOf(e) === 404) return undefined;
      throw e;
    });
    if (meta?.publicEvents === catalogueText) return;
    for (let pass = 1; (await reindexPass(client)) > 0; pass++) {
      if (pass >= MAX_REINDEX_PASSES) throw new Error(`the webhook index was still changing after ${pass} passes`);
    }
    await client.upsertEntity({ partitionKey: PARTITION_KEY, rowKey: INDEX_META_KEY, publicEvents: catalogueText }, 'Replace');
  });

  return { publicEvents, keysOf, rowsOf: (webhook, rows) => keysOf(webhook).map(rows.index), ready };
};
