import type { TableEntity, TransactionAction } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { randomBytes } from 'node:crypto';
import { illFormedPath, repairedText } from '../../domain/strings';
import { formatValidationErrors } from '../../domain/decodeErrors';
import { type AppError, permanent } from '../../domain/errors';
import { type Keyring, keyIdOf, open, seal } from '../../domain/secretBox';
import { PreviousSecret, type Webhook, Webhook as WebhookCodec, WebhookSecret, WebhookWithoutSecrets } from '../../domain/webhook';
import { mainKey, PARTITION_KEY } from './webhookKeys';

/*
 * A webhook as table rows and back (docs/registry-storage.md): the main row holds the webhook with its
 * sealed secrets, each index row the same columns without them. Which keys the rows have is
 * webhookKeys.ts's business; when they are read and written, the store's and the index's.
 */

/** Random bytes of a row's secretVersion: enough that two writes never share one. */
const SECRET_VERSION_BYTES = 12;

export type WebhookRow = TableEntity<{
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
export type WrittenRows = { readonly main: (deleted?: boolean) => WebhookRow & SecretColumns; readonly index: (rowKey: string) => WebhookRow };
export const rowsOf = (ring: Keyring, webhook: Webhook): WrittenRows => {
  const version = randomBytes(SECRET_VERSION_BYTES).toString('base64url');
  const secrets = sealSecrets(ring, webhook);
  return {
    main: (deleted = false) => ({ ...commonColumns(webhook, mainKey(webhook.id), version, deleted), ...secrets }),
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
  t.partial({
    tenantId: t.string,
    expiresAt: t.string,
    fields: t.string,
    verified: t.string,
    websubTopic: t.string,
    secretVersion: t.string,
    disabledReason: t.string,
    failing: t.string,
    timeoutMs: t.string,
  }),
  // Rows written before the per-endpoint controls lack these: the defaults.
  t.partial({ rateLimitPerSecond: t.string, maxAttempts: t.string, format: t.string }),
]);
const SecretColumnsCodec = t.intersection([t.type({ secret: t.string }), t.partial({ previousSecrets: t.string })]);

/** An optional column: absent or '' means the field is not set. */
const optional = <A>(text: string | undefined, parse: (s: string) => A): { present: true; value: A } | { present: false } =>
  text === undefined || text === '' ? { present: false } : { present: true, value: parse(text) };
const field = <K extends string, A>(key: K, column: { present: true; value: A } | { present: false }): Partial<Record<K, A>> =>
  (column.present ? { [key]: column.value } : {}) as Partial<Record<K, A>>;

export const parseJson = (text: string): unknown => {
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
  ...field(
    'tenantId',
    optional(r.tenantId, (x) => x),
  ),
  ...field(
    'expiresAt',
    optional(r.expiresAt, (x) => x),
  ),
  ...field('fields', optional(r.fields, parseJson)),
  ...field(
    'verified',
    optional(r.verified, (x) => x === 'true'),
  ),
  ...field(
    'websubTopic',
    optional(r.websubTopic, (x) => x),
  ),
  ...field('disabledReason', optional(r.disabledReason, parseJson)),
  ...field('failing', optional(r.failing, parseJson)),
  ...field('timeoutMs', optional(r.timeoutMs, Number)),
  ...field('rateLimitPerSecond', optional(r.rateLimitPerSecond, Number)),
  ...field('maxAttempts', optional(r.maxAttempts, Number)),
  ...field(
    'format',
    optional(r.format, (x) => x),
  ),
});

/** An index row: the webhook without its secrets, and the version of the secrets its main row holds ('' before encryption). */
export const fromIndexRow = (row: unknown): E.Either<AppError, { webhook: WebhookWithoutSecrets; secretVersion: string }> =>
  pipe(
    WebhookRowCodec.decode(repairedText(row)),
    E.chain((r) =>
      pipe(
        decodeColumns(WebhookWithoutSecrets, columnsOf(r)),
        E.map((webhook) => ({ webhook, secretVersion: r.secretVersion ?? '' })),
      ),
    ),
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

/** The sealed secret columns of a main row, opened: the secret, and the previous secrets' JSON parsed (not yet checked). */
const openSecrets = (
  ring: Keyring,
  columns: { readonly webhookId: string; readonly secret: string; readonly previousSecrets?: string | undefined },
): E.Either<MainRowError, { secret: string; previous: { previousSecrets?: unknown } }> =>
  pipe(
    E.Do,
    E.bind('secret', () => openColumn(ring, columns.secret, { webhookId: columns.webhookId, field: 'secret' })),
    E.bind('previous', (): E.Either<MainRowError, { previousSecrets?: unknown }> =>
      columns.previousSecrets === undefined || columns.previousSecrets === ''
        ? E.right({})
        : pipe(
            // Before encryption the column held the JSON itself; open() passes such text through.
            openColumn(ring, columns.previousSecrets, { webhookId: columns.webhookId, field: 'previousSecrets' }),
            E.map((text) => ({ previousSecrets: parseJson(text) })),
          ),
    ),
  );

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
      E.bind('opened', ({ r, s }) => openSecrets(ring, { webhookId: r.webhookId, ...s })),
      E.chain(({ r, opened: { secret, previous } }) =>
        pipe(
          decodeColumns(WebhookCodec, { ...columnsOf(r), secret, ...previous }),
          E.mapLeft(corruptRow),
          E.map((webhook): StoredWebhook => ({ ...webhook, secretVersion: r.secretVersion ?? '' })),
        ),
      ),
    );

/** The columns `secretsOfMainRow` reads: a preload of the whole registry asks the service for these only. */
export const SECRET_COLUMNS = ['webhookId', 'secret', 'previousSecrets', 'secretVersion', 'deleted'] as const;
const SecretsRowCodec = t.intersection([t.type({ webhookId: t.string, secret: t.string }), t.partial({ previousSecrets: t.string, secretVersion: t.string })]);
const SecretsCodec = t.intersection([t.type({ secret: WebhookSecret }), t.partial({ previousSecrets: t.array(PreviousSecret) })]);

/**
 * The secrets of a main row, opened and checked like `fromMainRow` checks them, and nothing else:
 * what a cache of secrets needs, at a fraction of the cost of decoding the whole webhook (a `ping:all`
 * preloads 10 000 rows this way).
 */
export const secretsOfMainRow =
  (ring: Keyring) =>
  (row: unknown): E.Either<MainRowError, { id: string; version: string; secrets: Pick<Webhook, 'secret' | 'previousSecrets'> }> =>
    pipe(
      E.Do,
      E.bind('r', () => pipe(SecretsRowCodec.decode(row), E.mapLeft(corruptRow))),
      E.bind('opened', ({ r }) => openSecrets(ring, r)),
      E.chain(({ r, opened: { secret, previous } }) =>
        pipe(
          SecretsCodec.decode({ secret, ...previous }),
          E.mapLeft(corruptRow),
          E.map((secrets) => ({ id: r.webhookId, version: r.secretVersion ?? '', secrets })),
        ),
      ),
    );

/** The webhook alone, without the version the adapters use among themselves. */
export const withoutVersion = ({ secretVersion: _version, ...webhook }: StoredWebhook): Webhook => webhook;

export const deleteRow = (rowKey: string): TransactionAction => ['delete', { partitionKey: PARTITION_KEY, rowKey }];

/** The webhook of a main row, secrets opened, without the version (errors as AppError). */
export const webhookOfMainRow =
  (ring: Keyring) =>
  (row: unknown): E.Either<AppError, Webhook> =>
    pipe(
      fromMainRow(ring)(row),
      E.bimap((e) => e.error, withoutVersion),
    );

/** A main row being deleted (see the store's `delete`): invisible to reads. */
export const isTombstone = (row: Record<string, unknown>): boolean => row.deleted === true;

/** A main row whose secrets are sealed under the current key (not plain text, not an older key). */
export const sealedUnderCurrentKey = (ring: Keyring, row: Record<string, unknown>): boolean => typeof row.secret === 'string' && keyIdOf(row.secret) === ring.current.id;

/** Index rows written before encryption carry a secret and no secretVersion. */
export const hasSecretVersion = (row: Record<string, unknown>): boolean => typeof row.secretVersion === 'string' && row.secretVersion !== '';
