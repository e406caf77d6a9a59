import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { routingAttributeOf } from '../../domain/catalogue';
import { type AppError, conflict, invalid, notFound } from '../../domain/errors';
import type { Keyring } from '../../domain/secretBox';
import type { Webhook, WebhookId, WebhookWithoutSecrets } from '../../domain/webhook';
import type { SubscribedPage, WebhookPage, WebhookStore } from '../../ports/webhookStore';
import { statusOf, storageError } from './storageErrors';
import { type EnsuredTable, queryUpTo } from './tables';
import { isRetryableWriteConflict, webhookIndex } from './webhookIndex';
import { idOfIndexKey, indexPrefix, indexRowsAfter, liveMainRowsAfter, lookupHintOf, mainKey, PARTITION_KEY } from './webhookKeys';
import { deleteRow, fromIndexRow, isTombstone, parseJson, rowsOf, webhookOfMainRow } from './webhookRows';

/*
 * The registry in one table partition (docs/registry-storage.md): keys in webhookKeys.ts, rows in
 * webhookRows.ts, index rows and their rebuild in webhookIndex.ts. Every change of a webhook is one
 * entity-group transaction, so index rows never disagree with the main row; the fan-out of one event
 * is one key range (one query per page), narrowed to one routing value when the event names it.
 */

/** Optimistic writes lost to a concurrent writer are tried again this many times in all. */
const MAX_WRITE_ATTEMPTS = 5;

/** Continuation tokens: base64url JSON, checked on the way back in. */
const ListToken = t.type({ after: t.string });
const SubscribedToken = t.type({ afterKey: t.string });
const encodeToken = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const decodeToken = <A>(codec: t.Decoder<unknown, A>, token: string | undefined): E.Either<AppError, A | undefined> => {
  if (token === undefined) return E.right(undefined);
  return pipe(
    codec.decode(parseJson(Buffer.from(token, 'base64url').toString('utf8'))),
    E.mapLeft(() => invalid('The query is invalid', ['continuationToken: is not a token this API issued'])),
  );
};

/**
 * The lookup hint of a fan-out page: for any of its webhooks, the range of the whole page's index rows,
 * the same text in every message of the page, so the worker reads the page once for all of them (on
 * Azurite a range query costs in proportion to the whole table: a message's own range cost as much).
 */
const hintsFor = (pageRows: readonly TableEntityResult<Record<string, unknown>>[]): NonNullable<SubscribedPage['lookupHint']> => {
  const keyOf = new Map(pageRows.flatMap((r) => (r.rowKey === undefined || r.rowKey === '' ? [] : [[idOfIndexKey(r.rowKey), r.rowKey] as const])));
  const pageHint = lookupHintOf([...keyOf.values()]);
  return (ids) => (ids.length > 0 && ids.every((id) => keyOf.has(id)) ? pageHint : undefined);
};

type Loaded = { readonly webhook: Webhook; readonly etag: string };

export type TableWebhookStoreOptions = {
  /** SECRETS_KEY and SECRETS_KEYS_PREVIOUS: seals secrets on every write, opens rows under any of them. */
  readonly keyring: Keyring;
  /** The public events index rows are written for; the catalogue's unless a test says otherwise. */
  readonly publicEvents?: readonly string[];
};

export const tableWebhookStore = (table: EnsuredTable, options: TableWebhookStoreOptions): WebhookStore => {
  const ring = options.keyring;
  const fromRow = webhookOfMainRow(ring);
  const index = webhookIndex({ table, keyring: ring, ...(options.publicEvents === undefined ? {} : { publicEvents: options.publicEvents }) });

  const attempt = <A>(what: string, run: (client: TableClient) => Promise<E.Either<AppError, A>>): TE.TaskEither<AppError, A> =>
    pipe(
      TE.tryCatch(async () => run(await table.ready()), storageError(what)),
      TE.chainEitherK((x) => x),
    );

  /** The main row with its etag; NotFound for a missing or half-deleted webhook. */
  const load = async (client: TableClient, id: WebhookId): Promise<E.Either<AppError, Loaded>> => {
    let entity: TableEntityResult<Record<string, unknown>>;
    try {
      entity = await client.getEntity<Record<string, unknown>>(PARTITION_KEY, mainKey(id));
    } catch (e) {
      if (statusOf(e) === 404) return E.left(notFound(`No webhook with id "${id}"`));
      throw e;
    }
    if (isTombstone(entity)) return E.left(notFound(`No webhook with id "${id}"`));
    return pipe(
      fromRow(entity),
      E.map((webhook) => ({ webhook, etag: entity.etag })),
    );
  };

  /** Reads, changes and writes in one transaction guarded by the main row's etag; again on a lost race. */
  const writeLoop = async <A>(
    client: TableClient,
    id: WebhookId,
    plan: (loaded: Loaded) => E.Either<AppError, { actions: TransactionAction[]; result: (response: Awaited<ReturnType<TableClient['submitTransaction']>>) => Promise<A> }>,
  ): Promise<E.Either<AppError, A>> => {
    for (let i = 1; ; i++) {
      const loaded = await load(client, id);
      if (E.isLeft(loaded)) return loaded;
      const planned = plan(loaded.right);
      if (E.isLeft(planned)) return planned;
      try {
        const response = await client.submitTransaction(planned.right.actions);
        return E.right(await planned.right.result(response));
      } catch (e) {
        if (!isRetryableWriteConflict(e) || i >= MAX_WRITE_ATTEMPTS) throw e;
      }
    }
  };

  const decodeRows = (rows: readonly unknown[]): E.Either<AppError, Webhook[]> =>
    pipe(
      rows.map(fromRow),
      E.sequenceArray,
      E.map((a) => [...a]),
    );
  const decodeIndexRows = (rows: readonly unknown[]): E.Either<AppError, WebhookWithoutSecrets[]> =>
    pipe(
      rows.map(fromIndexRow),
      E.sequenceArray,
      E.map((a) => a.map((x) => x.webhook)),
    );

  return {
    create: (webhook) =>
      attempt('create a webhook', async (client) => {
        try {
          const rows = rowsOf(ring, webhook);
          await client.submitTransaction([['create', rows.main()], ...index.rowsOf(webhook, rows).map((r): TransactionAction => ['create', r])]);
          return E.right(webhook);
        } catch (e) {
          if (statusOf(e) === 409) return E.left(conflict(`A webhook with id "${webhook.id}" exists`));
          throw e;
        }
      }),

    get: (id) =>
      attempt('read a webhook', async (client) =>
        pipe(
          await load(client, id),
          E.map((l) => l.webhook),
        ),
      ),

    list: ({ limit, continuationToken, tenantId }) =>
      pipe(
        TE.fromEither(decodeToken(ListToken, continuationToken)),
        TE.chain((token) =>
          attempt('list webhooks', async (client) => {
            const range = liveMainRowsAfter(token?.after ?? '');
            // A tenant's list filters the main rows server-side (docs/tenants.md: the cost of this choice).
            const filter = tenantId === undefined ? range : `${range} and ${odata`tenantId eq ${tenantId}`}`;
            // One more than asked tells whether another page follows.
            const rows = await queryUpTo<Record<string, unknown>>(client, { filter, max: limit + 1 });
            return pipe(
              decodeRows(rows.slice(0, limit)),
              E.map((items): WebhookPage => {
                const last = items[items.length - 1];
                return rows.length > limit && last !== undefined ? { items, continuationToken: encodeToken({ after: last.id }) } : { items };
              }),
            );
          }),
        ),
      ),

    update: (id, change) =>
      attempt('update a webhook', (client) =>
        writeLoop(client, id, ({ webhook: current, etag }) =>
          pipe(
            change(current),
            E.map((next) => {
              const kept = new Set(index.keysOf(next));
              const removed = index.keysOf(current).filter((k) => !kept.has(k));
              // Every write seals the secrets under SECRETS_KEY: rows migrate to the current key as they change.
              const rows = rowsOf(ring, next);
              const actions: TransactionAction[] = [
                ['update', rows.main(), 'Replace', { etag }],
                ...removed.map(deleteRow),
                ...index.rowsOf(next, rows).map((r): TransactionAction => ['upsert', r, 'Replace']),
              ];
              return { actions, result: async () => next };
            }),
          ),
        ),
      ),

    delete: (id, guard) =>
      attempt('delete a webhook', (client) =>
        writeLoop(client, id, ({ webhook, etag }) =>
          guard !== undefined && !guard.mayDelete(webhook)
            ? E.left(notFound(`No webhook with id "${id}"`))
            : E.right({
                // A transaction cannot delete conditionally, so the etag guard rides on turning the main
                // row into a tombstone, in the same transaction that deletes the index rows; the
                // tombstone goes right after. A crash in between leaves a tombstone reads ignore.
                actions: [['update', rowsOf(ring, webhook).main(true), 'Replace', { etag }] as TransactionAction, ...index.keysOf(webhook).map(deleteRow)],
                result: async (response) => {
                  const tombstoneEtag = response.subResponses[0]?.etag;
                  await client.deleteEntity(PARTITION_KEY, mainKey(id), tombstoneEtag === undefined ? {} : { etag: tombstoneEtag }).catch(() => undefined);
                },
              }),
        ),
      ),

    pageSubscribedTo: ({ eventName, routingValue, continuationToken, pageSize }): TE.TaskEither<AppError, SubscribedPage> => {
      // Narrowed to one routing value when the event has a routing attribute and the plan names its value.
      const prefix = indexPrefix(eventName, routingAttributeOf(eventName) === undefined ? undefined : routingValue);
      return pipe(
        TE.fromEither(decodeToken(SubscribedToken, continuationToken)),
        TE.chainEitherK((token) =>
          token === undefined || token.afterKey.startsWith(prefix) ? E.right(token) : E.left(invalid('The query is invalid', ['continuationToken: belongs to another query'])),
        ),
        TE.chain((token) =>
          attempt('read subscribed webhooks', async (client) => {
            await index.ready();
            // One key range; one more row than the page tells whether another page follows.
            const rows = await queryUpTo<TableEntityResult<Record<string, unknown>>>(client, { filter: indexRowsAfter(prefix, token?.afterKey), max: pageSize + 1 });
            const pageRows = rows.slice(0, pageSize);
            return pipe(
              decodeIndexRows(pageRows),
              E.map((items): SubscribedPage => {
                const lastKey = pageRows[pageRows.length - 1]?.rowKey;
                const lookupHint = hintsFor(pageRows);
                return rows.length > pageSize && lastKey !== undefined ? { items, lookupHint, continuationToken: encodeToken({ afterKey: lastKey }) } : { items, lookupHint };
              }),
            );
          }),
        ),
      );
    },
  };
};
