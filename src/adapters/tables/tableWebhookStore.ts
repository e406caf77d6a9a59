import { odata, type TableClient, type TableEntity, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import { createHash, randomBytes } from 'node:crypto';
import { PUBLIC_EVENT_NAMES, routingAttributeOf } from '../../domain/catalogue';
import { illFormedPath, repairedText } from '../../domain/strings';
import { formatValidationErrors } from '../../domain/decodeErrors';
import { routingSlot } from '../../domain/mapping';
import { type AppError, conflict, invalid, notFound, permanent } from '../../domain/errors';
import { type Keyring, keyIdOf, open, seal } from '../../domain/secretBox';
import { canReceive, coversEvent, type Webhook, type WebhookId, Webhook as WebhookCodec, WebhookWithoutSecrets } from '../../domain/webhook';
import type { SubscribedPage, WebhookPage, WebhookStore } from '../../ports/webhookStore';
import { onceUntilFailure } from '../onceUntilFailure';
import { statusOf, storageError } from './storageErrors';
import { type EnsuredTable, queryUpTo } from './tables';

/*
 * Layout (docs/registry-storage.md): one partition holds, per webhook, a main row
 * `webhook|<id>` and one index row `sub|<public event>|<routing value>|<id>` per public event its
 * subscriptions cover (`*` and patterns are expanded over the catalogue), keyed by the webhook's value
 * of that event's routing attribute, each a full copy of the webhook. Every change of a webhook is
 * one entity-group transaction, so index rows never disagree with the main row; the fan-out of one
 * event is one key range (one query per page), narrowed to one routing value when the event names it.
 */

export const PARTITION_KEY = 'webhooks';
export const MAIN_PREFIX = 'webhook|';
/** `}` follows `|` in ASCII: `[prefix, end)` is exactly the rows under the prefix. */
export const MAIN_END = 'webhook}';
export const INDEX_START = 'sub|';
const INDEX_END = 'sub}';
/** `}` follows `|`: the rows under a prefix ending in `|` are exactly `[prefix, end)`. */
const rangeEnd = (prefix: string): string => `${prefix.slice(0, -1)}}`;
/** The row that says which public events and routing attributes the index rows were written for. */
export const INDEX_META_KEY = 'meta|index';
/** Changes when what the index rows hold changes, so the first fan-out rebuilds them (4: no secrets in index rows). */
const INDEX_LAYOUT = 4;
/** Random bytes of a row's secretVersion: enough that two writes never share one. */
const SECRET_VERSION_BYTES = 12;
/** Longer routing values are hashed: a row key holds at most 1 KB, and a value 256 characters. */
const MAX_PLAIN_ROUTING_KEY = 120;
/** Optimistic writes lost to a concurrent writer are tried again this many times in all. */
const MAX_WRITE_ATTEMPTS = 5;
/** Passes of the index check: each fixes what it finds; a pass that finds nothing ends it. */
const MAX_REINDEX_PASSES = 3;

/** The public events whose fan-out must meet this webhook. */
export const indexedEvents = (webhook: Webhook, publicEvents: readonly string[]): string[] =>
  publicEvents.filter((name) => webhook.subscriptions.some((s) => coversEvent(s, name)));

/**
 * A routing value as a row key segment: percent-encoded (no `|`, `/`, `\`, `#`, `?` or control
 * characters, which row keys refuse or the ranges rely on), or a SHA-256 when that would be long.
 * Matching still compares the values themselves, so even a collision could not deliver wrongly.
 */
export const routingKey = (value: string): string => {
  const hashed = (): string => `~${createHash('sha256').update(value, 'utf8').digest('base64url')}`;
  let plain: string;
  try {
    plain = encodeURIComponent(value);
  } catch {
    // A lone surrogate has no UTF-8 form to percent-encode.
    return hashed();
  }
  return plain.length <= MAX_PLAIN_ROUTING_KEY ? plain : hashed();
};

/** Where the rows of an event start: all of them, or those of one routing value. */
const indexPrefix = (eventName: string, routingValue?: string): string =>
  routingValue === undefined ? `sub|${eventName}|` : `sub|${eventName}|${routingKey(routingValue)}|`;

/**
 * The index row keys of a webhook: one per covered public event, under its value of the event's
 * routing attribute. A webhook without that value gets no row (the event requires the attribute,
 * so it could never match), nor does a disabled or not yet verified one: webhooks disabled by a 410
 * pile up, and the fan-out should not page through them. Enabling or verifying writes the rows.
 */
export const indexKeys = (webhook: Webhook, publicEvents: readonly string[]): string[] =>
  !canReceive(webhook) ? [] : indexedEvents(webhook, publicEvents).flatMap((eventName) => {
    const slot = routingSlot(eventName, webhook);
    return slot === undefined ? [] : [`${indexPrefix(eventName, slot)}${webhook.id}`];
  });

/** The webhook id an index row belongs to: its last segment (ids are ULIDs, without `|`). */
const idOfIndexKey = (rowKey: string): string => rowKey.slice(rowKey.lastIndexOf('|') + 1);

type WebhookRow = TableEntity<{
  webhookId: string;
  url: string;
  subscriptions: string;
  attributes: string;
  headers: string;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  /** A main row being deleted (see `delete`): invisible to reads. */
  deleted: boolean;
  /** Columns added with tenants (docs/tenants.md): '' when unset; JSON text for lists. */
  tenantId: string;
  expiresAt: string;
  fields: string;
  verified: string;
  websubTopic: string;
  /** The webhook's receiver timeout in ms as text; '' = DELIVERY_TIMEOUT_MS. */
  timeoutMs: string;
  /** Per-endpoint controls (domain/endpointControls.ts) as text; '' = the default. */
  rateLimitPerSecond: string;
  maxAttempts: string;
  format: string;
  /** New with every write of the webhook, main and index rows alike: the worker's secret cache key. */
  secretVersion: string;
  /** Endpoint health (docs/delivery.md): JSON text, '' when unset. */
  disabledReason: string;
  failing: string;
}>;

/** Main rows only (docs/secrets.md): the sealed secrets and the key id they are sealed under. */
type SecretColumns = { secret: string; previousSecrets: string; secretKeyId: string };

const commonColumns = (webhook: Webhook, rowKey: string, secretVersion: string, deleted = false): WebhookRow => ({
  partitionKey: PARTITION_KEY,
  rowKey,
  webhookId: webhook.id,
  url: webhook.url,
  subscriptions: JSON.stringify(webhook.subscriptions),
  attributes: JSON.stringify(webhook.attributes),
  headers: JSON.stringify(webhook.headers),
  disabled: webhook.disabled,
  createdAt: webhook.createdAt,
  updatedAt: webhook.updatedAt,
  deleted,
  tenantId: webhook.tenantId ?? '',
  expiresAt: webhook.expiresAt ?? '',
  fields: webhook.fields === undefined ? '' : JSON.stringify(webhook.fields),
  verified: webhook.verified === undefined ? '' : String(webhook.verified),
  websubTopic: webhook.websubTopic ?? '',
  timeoutMs: webhook.timeoutMs === undefined ? '' : String(webhook.timeoutMs),
  rateLimitPerSecond: webhook.rateLimitPerSecond === undefined ? '' : String(webhook.rateLimitPerSecond),
  maxAttempts: webhook.maxAttempts === undefined ? '' : String(webhook.maxAttempts),
  format: webhook.format ?? '',
  secretVersion,
  disabledReason: webhook.disabledReason === undefined ? '' : JSON.stringify(webhook.disabledReason),
  failing: webhook.failing === undefined ? '' : JSON.stringify(webhook.failing),
});

const secretContext = (webhook: Pick<Webhook, 'id'>, field: 'secret' | 'previousSecrets') => ({ webhookId: webhook.id, field });

const sealSecrets = (ring: Keyring, webhook: Webhook): SecretColumns => ({
  secret: seal(ring, webhook.secret, secretContext(webhook, 'secret')),
  previousSecrets: webhook.previousSecrets === undefined ? '' : seal(ring, JSON.stringify(webhook.previousSecrets), secretContext(webhook, 'previousSecrets')),
  secretKeyId: ring.current.id,
});

/** The rows of one write of a webhook: one version shared by the main row and its index rows. */
type WrittenRows = { readonly main: (deleted?: boolean) => WebhookRow & SecretColumns; readonly index: (rowKey: string) => WebhookRow };
const rowsOf = (ring: Keyring, webhook: Webhook): WrittenRows => {
  const version = randomBytes(SECRET_VERSION_BYTES).toString('base64url');
  const secrets = sealSecrets(ring, webhook);
  return {
    main: (deleted = false) => ({ ...commonColumns(webhook, MAIN_PREFIX + webhook.id, version, deleted), ...secrets }),
    index: (rowKey) => commonColumns(webhook, rowKey, version),
  };
};

const WebhookRowCodec = t.intersection([
  t.type({
    webhookId: t.string,
    url: t.string,
    subscriptions: t.string,
    attributes: t.string,
    headers: t.string,
    disabled: t.boolean,
    createdAt: t.string,
    updatedAt: t.string,
  }),
  // Rows written before tenants lack these columns; before encryption, secretVersion.
  t.partial({ tenantId: t.string, expiresAt: t.string, fields: t.string, verified: t.string, websubTopic: t.string, secretVersion: t.string, disabledReason: t.string, failing: t.string, timeoutMs: t.string }),
  // Rows written before the per-endpoint controls lack these: the defaults.
  t.partial({ rateLimitPerSecond: t.string, maxAttempts: t.string, format: t.string }),
]);
const SecretColumnsCodec = t.intersection([t.type({ secret: t.string }), t.partial({ previousSecrets: t.string })]);

/** An optional column: absent or '' means the field is not set. */
const optional = <A>(text: string | undefined, parse: (s: string) => A): { present: true; value: A } | { present: false } =>
  text === undefined || text === '' ? { present: false } : { present: true, value: parse(text) };
const field = <K extends string, A>(key: K, column: { present: true; value: A } | { present: false }): Partial<Record<K, A>> =>
  (column.present ? { [key]: column.value } : {}) as Partial<Record<K, A>>;

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const corrupt = (errors: t.Errors): AppError => permanent(`A stored webhook row is corrupt: ${formatValidationErrors(errors).join('; ')}`);

const isWellFormedValue = (value: unknown): boolean => illFormedPath(value) === undefined;

/**
 * A row from before text had to be well formed may hold a lone surrogate: it is decoded with U+FFFD
 * in its place (answers are made well formed in functions/lib/responses.ts), but its attributes stay
 * as stored, so the index keys derived from them still match.
 */
const decodeColumns = <A extends { attributes: Webhook['attributes'] }>(codec: t.Decoder<unknown, A>, columns: Record<string, unknown>): t.Validation<A> =>
  pipe(
    codec.decode(repairedText(columns)),
    E.map((webhook) => (isWellFormedValue(columns.attributes) ? webhook : { ...webhook, attributes: columns.attributes as Webhook['attributes'] })),
  );

const columnsOf = (r: t.TypeOf<typeof WebhookRowCodec>): Record<string, unknown> => ({
  id: r.webhookId,
  url: r.url,
  subscriptions: parseJson(r.subscriptions),
  attributes: parseJson(r.attributes),
  headers: parseJson(r.headers),
  disabled: r.disabled,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
  ...field('tenantId', optional(r.tenantId, (x) => x)),
  ...field('expiresAt', optional(r.expiresAt, (x) => x)),
  ...field('fields', optional(r.fields, parseJson)),
  ...field('verified', optional(r.verified, (x) => x === 'true')),
  ...field('websubTopic', optional(r.websubTopic, (x) => x)),
  ...field('disabledReason', optional(r.disabledReason, parseJson)),
  ...field('failing', optional(r.failing, parseJson)),
  ...field('timeoutMs', optional(r.timeoutMs, Number)),
  ...field('rateLimitPerSecond', optional(r.rateLimitPerSecond, Number)),
  ...field('maxAttempts', optional(r.maxAttempts, Number)),
  ...field('format', optional(r.format, (x) => x)),
});

/** An index row: the webhook without its secrets, and the version of the secrets its main row holds ('' before encryption). */
export const fromIndexRow = (row: unknown): E.Either<AppError, { webhook: WebhookWithoutSecrets; secretVersion: string }> =>
  pipe(
    WebhookRowCodec.decode(repairedText(row)),
    E.chain((r) => pipe(decodeColumns(WebhookWithoutSecrets, columnsOf(r)), E.map((webhook) => ({ webhook, secretVersion: r.secretVersion ?? '' })))),
    E.mapLeft(corrupt),
  );

/** Why a main row did not read: corrupt, or a secret that does not open (a missing or wrong key: loud, never skipped). */
export type MainRowError = { readonly error: AppError; readonly secretUnopened: boolean };
export type StoredWebhook = Webhook & { readonly secretVersion: string };

const openColumn = (ring: Keyring, stored: string, context: { webhookId: string; field: 'secret' | 'previousSecrets' }): E.Either<MainRowError, string> =>
  pipe(
    open(ring, stored, context),
    E.mapLeft((why) => ({ error: permanent(`The ${context.field} of stored webhook ${context.webhookId} ${why}`), secretUnopened: true })),
  );
const corruptRow = (errors: t.Errors): MainRowError => ({ error: corrupt(errors), secretUnopened: false });

/**
 * A main row, secrets opened. Rows are decoded like any input: a row this code did not write is
 * reported, not trusted. A secret stored before encryption (plain `whsec_`) reads as it is; the
 * next write seals it.
 */
export const fromMainRow =
  (ring: Keyring) =>
  (row: unknown): E.Either<MainRowError, StoredWebhook> =>
    pipe(
      E.Do,
      E.bind('r', () => pipe(WebhookRowCodec.decode(repairedText(row)), E.mapLeft(corruptRow))),
      E.bind('s', () => pipe(SecretColumnsCodec.decode(row), E.mapLeft(corruptRow))),
      E.bind('secret', ({ r, s }) => openColumn(ring, s.secret, { webhookId: r.webhookId, field: 'secret' })),
      E.bind('previous', ({ r, s }): E.Either<MainRowError, { previousSecrets?: unknown }> =>
        s.previousSecrets === undefined || s.previousSecrets === ''
          ? E.right({})
          : pipe(
              // Before encryption the column held the JSON itself; open() passes such text through.
              openColumn(ring, s.previousSecrets, { webhookId: r.webhookId, field: 'previousSecrets' }),
              E.map((text) => ({ previousSecrets: parseJson(text) })),
            ),
      ),
      E.chain(({ r, secret, previous }) =>
        pipe(
          decodeColumns(WebhookCodec, { ...columnsOf(r), secret, ...previous }),
          E.mapLeft(corruptRow),
          E.map((webhook): StoredWebhook => ({ ...webhook, secretVersion: r.secretVersion ?? '' })),
        ),
      ),
    );

/** The webhook alone, without the version the adapters use among themselves. */
export const withoutVersion = ({ secretVersion: _version, ...webhook }: StoredWebhook): Webhook => webhook;

const deleteRow = (rowKey: string): TransactionAction => ['delete', { partitionKey: PARTITION_KEY, rowKey }];

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

type Loaded = { readonly webhook: Webhook; readonly etag: string };

const isRetryableWriteConflict = (e: unknown): boolean => statusOf(e) === 412 || statusOf(e) === 409 || statusOf(e) === 404;

export type TableWebhookStoreOptions = {
  /** SECRETS_KEY and SECRETS_KEYS_PREVIOUS: seals secrets on every write, opens rows under any of them. */
  readonly keyring: Keyring;
  /** The public events index rows are written for; the catalogue's unless a test says otherwise. */
  readonly publicEvents?: readonly string[];
};

export const tableWebhookStore = (table: EnsuredTable, options: TableWebhookStoreOptions): WebhookStore => {
  const ring = options.keyring;
  const fromRow = (row: unknown): E.Either<AppError, Webhook> => pipe(fromMainRow(ring)(row), E.bimap((e) => e.error, withoutVersion));
  const indexRows = (webhook: Webhook, rows: WrittenRows): WebhookRow[] => indexKeys(webhook, publicEvents).map(rows.index);
  const publicEvents = [...(options.publicEvents ?? PUBLIC_EVENT_NAMES)].sort();
  const catalogueText = JSON.stringify({ layout: INDEX_LAYOUT, events: publicEvents.map((e) => [e, routingAttributeOf(e) ?? null]) });

  const attempt = <A>(what: string, run: (client: TableClient) => Promise<E.Either<AppError, A>>): TE.TaskEither<AppError, A> =>
    pipe(
      TE.tryCatch(async () => run(await table.ready()), storageError(what)),
      TE.chainEitherK((x) => x),
    );

  /** The main row with its etag; NotFound for a missing or half-deleted webhook. */
  const load = async (client: TableClient, id: WebhookId): Promise<E.Either<AppError, Loaded>> => {
    let entity: TableEntityResult<Record<string, unknown>>;
    try {
      entity = await client.getEntity<Record<string, unknown>>(PARTITION_KEY, MAIN_PREFIX + id);
    } catch (e) {
      if (statusOf(e) === 404) return E.left(notFound(`No webhook with id "${id}"`));
      throw e;
    }
    if (entity.deleted === true) return E.left(notFound(`No webhook with id "${id}"`));
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

  const subscribedRange = (prefix: string, after: string | undefined): string =>
    odata`PartitionKey eq ${PARTITION_KEY} and RowKey gt ${after ?? prefix} and RowKey lt ${rangeEnd(prefix)}`;

  /** Every row in `[from, to)`; only the columns in `select` when given. */
  const rowsIn = async (client: TableClient, from: string, to: string, select?: string[]): Promise<TableEntityResult<Record<string, unknown>>[]> => {
    const rows: TableEntityResult<Record<string, unknown>>[] = [];
    const filter = odata`PartitionKey eq ${PARTITION_KEY} and RowKey ge ${from} and RowKey lt ${to}`;
    for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: select === undefined ? { filter } : { filter, select } })) rows.push(row);
    return rows;
  };

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
    for (const row of await rowsIn(client, INDEX_START, INDEX_END, ['RowKey', 'secretVersion'])) {
      const key = row.rowKey ?? '';
      const id = idOfIndexKey(key);
      existing.set(id, (existing.get(id) ?? new Set()).add(key));
      if (typeof row.secretVersion !== 'string' || row.secretVersion === '') unsealedIndex.add(id);
    }
    let fixed = 0;
    const live = new Set<string>();
    for (const row of await rowsIn(client, MAIN_PREFIX, MAIN_END)) {
      if (row.deleted === true) continue;
      // A corrupt main row keeps its index rows: reads report it, the index check does not guess.
      live.add((row.rowKey ?? '').slice(MAIN_PREFIX.length));
      const decoded = fromRow(row);
      if (E.isLeft(decoded)) continue;
      const webhook = decoded.right;
      const want = indexKeys(webhook, publicEvents);
      const have = existing.get(webhook.id) ?? new Set<string>();
      // A secret stored in plain text or under an older key is sealed under SECRETS_KEY by the same rewrite.
      const sealedNow = typeof row.secret === 'string' && keyIdOf(row.secret) === ring.current.id;
      if (want.length === have.size && want.every((k) => have.has(k)) && sealedNow && !unsealedIndex.has(webhook.id)) continue;
      fixed++;
      const rows = rowsOf(ring, webhook);
      // Guarded by the main row's etag like any change; a lost race is left to the next pass.
      const actions: TransactionAction[] = [
        ['update', rows.main(), 'Replace', { etag: row.etag }],
        ...[...have].filter((k) => !want.includes(k)).map(deleteRow),
        ...indexRows(webhook, rows).map((r): TransactionAction => ['upsert', r, 'Replace']),
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
   * process rebuilds them before it reads. Once per process; again after a failure.
   */
  const indexReady = onceUntilFailure(async (): Promise<void> => {
    const client = await table.ready();
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

  const decodeRows = (rows: readonly unknown[]): E.Either<AppError, Webhook[]> => pipe(rows.map(fromRow), E.sequenceArray, E.map((a) => [...a]));
  const decodeIndexRows = (rows: readonly unknown[]): E.Either<AppError, WebhookWithoutSecrets[]> =>
    pipe(rows.map(fromIndexRow), E.sequenceArray, E.map((a) => a.map((x) => x.webhook)));

  return {
    create: (webhook) =>
      attempt('create a webhook', async (client) => {
        try {
          const rows = rowsOf(ring, webhook);
          await client.submitTransaction([['create', rows.main()], ...indexRows(webhook, rows).map((r): TransactionAction => ['create', r])]);
          return E.right(webhook);
        } catch (e) {
          if (statusOf(e) === 409) return E.left(conflict(`A webhook with id "${webhook.id}" exists`));
          throw e;
        }
      }),

    get: (id) => attempt('read a webhook', async (client) => pipe(await load(client, id), E.map((l) => l.webhook))),

    list: ({ limit, continuationToken, tenantId }) =>
      pipe(
        TE.fromEither(decodeToken(ListToken, continuationToken)),
        TE.chain((token) =>
          attempt('list webhooks', async (client) => {
            const range = odata`PartitionKey eq ${PARTITION_KEY} and RowKey gt ${MAIN_PREFIX + (token?.after ?? '')} and RowKey lt ${MAIN_END} and deleted eq false`;
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
              const kept = new Set(indexKeys(next, publicEvents));
              const removed = indexKeys(current, publicEvents).filter((k) => !kept.has(k));
              // Every write seals the secrets under SECRETS_KEY: rows migrate to the current key as they change.
              const rows = rowsOf(ring, next);
              const actions: TransactionAction[] = [
                ['update', rows.main(), 'Replace', { etag }],
                ...removed.map(deleteRow),
                ...indexRows(next, rows).map((r): TransactionAction => ['upsert', r, 'Replace']),
              ];
              return { actions, result: async () => next };
            }),
          ),
        ),
      ),

    delete: (id, guard) =>
      attempt('delete a webhook', (client) =>
        writeLoop(client, id, ({ webhook, etag }) =>
          guard !== undefined && !guard.mayDelete(webhook) ? E.left(notFound(`No webhook with id "${id}"`)) : E.right({
            // A transaction cannot delete conditionally, so the etag guard rides on turning the main
            // row into a tombstone, in the same transaction that deletes the index rows; the
            // tombstone goes right after. A crash in between leaves a tombstone reads ignore.
            actions: [
              ['update', rowsOf(ring, webhook).main(true), 'Replace', { etag }] as TransactionAction,
              ...indexKeys(webhook, publicEvents).map(deleteRow),
            ],
            result: async (response) => {
              const tombstoneEtag = response.subResponses[0]?.etag;
              await client.deleteEntity(PARTITION_KEY, MAIN_PREFIX + id, tombstoneEtag === undefined ? {} : { etag: tombstoneEtag }).catch(() => undefined);
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
            await indexReady();
            // One key range; one more row than the page tells whether another page follows.
            const rows = await queryUpTo<TableEntityResult<Record<string, unknown>>>(client, { filter: subscribedRange(prefix, token?.afterKey), max: pageSize + 1 });
            const pageRows = rows.slice(0, pageSize);
            return pipe(
              decodeIndexRows(pageRows),
              E.map((items): SubscribedPage => {
                const lastKey = pageRows[pageRows.length - 1]?.rowKey;
                const keys = pageRows.map((r) => r.rowKey ?? '');
                return rows.length > pageSize && lastKey !== undefined ? { items, keys, continuationToken: encodeToken({ afterKey: lastKey }) } : { items, keys };
              }),
            );
          }),
        ),
      );
    },
  };
};
