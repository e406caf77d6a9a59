import type { TableClient } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../../domain/errors';
import type { Keyring } from '../../domain/secretBox';
import type { Webhook, WebhookWithoutSecrets } from '../../domain/webhook';
import type { WebhookLookup } from '../../ports/webhookLookup';
import { statusOf, storageError } from './storageErrors';
import { type EnsuredTable, queryUpTo } from './tables';
import { closedRangeFilter, MAIN_KEYS_PER_QUERY, MAIN_RANGE, mainKey, mainRowsOf, PARTITION_KEY, rangeFilter, rangeOfHint } from './webhookKeys';
import { fromIndexRow, fromMainRow, isTombstone, SECRET_COLUMNS, secretsOfMainRow, type StoredWebhook, withoutVersion } from './webhookRows';
import { sharedReads } from '../sharedReads';

/** Rows a range read may return: a fan-out page (1000 at most), whatever a message claims. */
const MAX_RANGE_ROWS = 1000;

/** Secrets of the webhooks this process delivered to lately, by id, with the version they belong to. */
type CachedSecrets = { readonly version: string; readonly secrets: Pick<Webhook, 'secret' | 'previousSecrets'> };

/** A bounded map: past `max` entries the oldest goes, so a registry of any size costs bounded memory. */
const boundedCache = (max: number) => {
  const entries = new Map<string, CachedSecrets>();
  return {
    get: (id: string, version: string): CachedSecrets['secrets'] | undefined => {
      const hit = entries.get(id);
      return hit !== undefined && version !== '' && hit.version === version ? hit.secrets : undefined;
    },
    set: (id: string, version: string, secrets: CachedSecrets['secrets']): void => {
      // Rows written before encryption have no version: nothing could ever match it.
      if (version === '') return;
      entries.delete(id);
      entries.set(id, { version, secrets: { secret: secrets.secret, ...(secrets.previousSecrets === undefined ? {} : { previousSecrets: secrets.previousSecrets }) } });
      if (entries.size > max) entries.delete(entries.keys().next().value as string);
    },
  };
};

/** Runs `work` over `items`, at most `limit` at a time. */
const inParallel = async <A>(items: readonly A[], limit: number, work: (item: A) => Promise<void>): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as A);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};

export type TableWebhookLookupOptions = {
  /** SECRETS_KEY and SECRETS_KEYS_PREVIOUS, to open the secrets of main rows. */
  readonly keyring: Keyring;
  /** Webhooks whose secrets stay in memory (default 10 000). */
  readonly maxCachedSecrets?: number;
  /** Main-row point reads in flight at once for one message (default 16). */
  readonly maxParallelReads?: number;
};

/**
 * As many as the worker's webhook cache keeps (cachedLookup): a registry of that size is preloaded
 * whole. At 10 000, a `ping:all` to 10 010 webhooks evicted preloaded secrets its retried messages
 * needed again, each a main-row point read (on Azurite a scan of the registry partition).
 */
const DEFAULT_MAX_CACHED_SECRETS = 20_000;
/** Cache misses in one message from which every main row is read at once (a cold `ping:all`, a new process). */
const PRELOAD_FROM_MISSES = 16;
/** At most one whole-registry read per this long (each costs about one query per 1000 rows, the price of a few point reads): a registry larger than the cache is not read per message. */
const PRELOAD_EVERY_MS = 5_000;
const DEFAULT_MAX_PARALLEL_READS = 16;
/** A page's main-row range is read up to this many times the page's size (see `preloadPage`). */
const PAGE_RANGE_SLACK = 2;

/**
 * Reads the webhooks of a message. With a hint from the fan-out (a key range: its page's), one query reads the index rows
 * of the range (written in the same transaction as the main row, so as current), and the range's
 * other webhooks whose secrets are cached come back too, for the page's other messages; index rows carry no secrets (docs/secrets.md), only the version of those in the main
 * row, so the secrets come from this process's cache when the version matches and from a point
 * read of the main row otherwise (a changed version means a rotation, so it is never missed).
 * Ids not found in the range (changed, disabled or deleted since) and messages without a range read
 * main rows: a point read per id when there is one id, else one query per 14 ids (`or` over row
 * keys, which the service answers by scanning the partition: fine for retries, not for every
 * message of a large registry). Deleted or corrupt rows are left out; a secret that does not open
 * (a key missing from the settings) fails the read, so the message is retried and then poisoned,
 * never silently skipped.
 */
export const tableWebhookLookup = (table: EnsuredTable, options: TableWebhookLookupOptions): WebhookLookup => {
  const cache = boundedCache(options.maxCachedSecrets ?? DEFAULT_MAX_CACHED_SECRETS);
  const readMain = fromMainRow(options.keyring);
  const readSecrets = secretsOfMainRow(options.keyring);
  const remember = (webhook: StoredWebhook): void => cache.set(webhook.id, webhook.secretVersion, webhook);
  const parallelReads = options.maxParallelReads ?? DEFAULT_MAX_PARALLEL_READS;
  /*
   * Main-row reads in flight, by id and the secret version an index row showed: concurrent messages of
   * one fan-out (all cache misses at first) share one read per webhook instead of one each. Keyed by
   * version, so a reader that saw a newer one (a rotation) never joins an older read: the index row and
   * the main row are written in one transaction, so a read started after seeing v reads v or later.
   */
  const inflight = sharedReads<Record<string, unknown> | undefined>();
  const sharedRead = (client: TableClient, id: string, version: string): Promise<Record<string, unknown> | undefined> =>
    inflight.read(`${id}|${version}`, () =>
      client.getEntity<Record<string, unknown>>(PARTITION_KEY, mainKey(id)).then(
        (row): Record<string, unknown> | undefined => row,
        (e: unknown) => {
          if (statusOf(e) === 404) return undefined;
          throw e;
        },
      ),
    );
  /** Reads main rows' secret columns (at most `max` rows) into the cache. */
  const cacheSecretsOf = async (client: TableClient, filter: string, max: number): Promise<void> => {
    let read = 0;
    // The secret columns only: the rest of each row would be read and decoded for nothing.
    for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: [...SECRET_COLUMNS] } })) {
      const secrets = isTombstone(row) ? undefined : readSecrets(row);
      if (secrets !== undefined && E.isRight(secrets)) cache.set(secrets.right.id, secrets.right.version, secrets.right.secrets);
      if (++read >= max) break;
    }
  };
  /*
   * Before the whole registry, the page: a fan-out page's webhooks (those of an event without a routing
   * attribute, like `ping:all`) sit in id order, so their main rows are one key range, from the page's
   * smallest id to its largest. Reading that range (shared by the page's concurrent messages) lets the
   * page's deliveries start after one query instead of a walk of the whole registry (10 queries in a
   * row for 10 000 webhooks, which held back the first delivery of a `ping:all` by about a second),
   * and the pages of a fan-out read their ranges side by side. A range that holds many more rows than
   * the page (ids of a routed event spread over the registry) stops at PAGE_RANGE_SLACK times the
   * page's size, and what it did not cover goes on to the whole-registry preload below.
   */
  const pageReads = sharedReads<void>();
  const preloadPage = (client: TableClient, ids: readonly string[]): Promise<void> => {
    const sorted = [...ids].sort();
    const range = { from: mainKey(sorted[0] as string), to: mainKey(sorted[sorted.length - 1] as string) };
    const max = Math.min(MAX_RANGE_ROWS, sorted.length) * PAGE_RANGE_SLACK;
    return pageReads.read(`${range.from}|${range.to}`, () => cacheSecretsOf(client, closedRangeFilter(range), max));
  };
  /*
   * A cold process meeting a large fan-out (ping:all to 10 000 webhooks) would read every main row by
   * a point read: one request per webhook. One key-range query over the main rows reads 1000 a page
   * instead, so past PRELOAD_FROM_MISSES misses in a message the registry's main rows (up to the cache's
   * bound) fill the cache at once; versions still decide every hit, so nothing stale is used.
   */
  let preload: { readonly at: number; readonly done: Promise<void>; running: boolean } | undefined;
  const maxCached = options.maxCachedSecrets ?? DEFAULT_MAX_CACHED_SECRETS;
  const preloadAll = (client: TableClient): Promise<void> => {
    const now = Date.now();
    // One at a time: on a loaded machine a preload outlasted PRELOAD_EVERY_MS and a second one started beside it.
    if (preload !== undefined && (preload.running || now - preload.at < PRELOAD_EVERY_MS)) return preload.done;
    const done = cacheSecretsOf(client, rangeFilter(MAIN_RANGE), maxCached)
      .catch(() => undefined) // A failed preload costs only the point reads it would have saved.
      .finally(() => {
        if (preload !== undefined && preload.done === done) preload.running = false;
      });
    preload = { at: now, done, running: true };
    return done;
  };
  return (ids, hint) =>
    pipe(
      TE.tryCatch(async (): Promise<E.Either<AppError, ReadonlyMap<string, Webhook>>> => {
        const client = await table.ready();
        const found = new Map<string, Webhook>();
        const wanted = new Set(ids);
        // A secret that does not open is a settings problem (a key missing), not a missing webhook.
        let unopened: AppError | undefined;
        /** A main row read: kept (and its secrets cached) when it decodes; remembered when its secret does not open. */
        const keep = (row: Record<string, unknown>): void => {
          if (isTombstone(row)) return;
          const webhook = readMain(row);
          if (E.isLeft(webhook)) {
            if (webhook.left.secretUnopened) unopened = webhook.left.error;
            return;
          }
          remember(webhook.right);
          found.set(webhook.right.id, withoutVersion(webhook.right));
        };
        /** `version`: the one an index row showed ('' when none was seen: such reads are shared only with each other). */
        const pointRead = async (id: string, version = ''): Promise<void> => {
          const row = await sharedRead(client, id, version);
          if (row !== undefined) keep(row);
        };
        const fromRange = ids.length > 1 ? rangeOfHint(hint) : undefined;
        const missed = new Map<string, string>();
        const indexedById = new Map<string, WebhookWithoutSecrets>();
        // The range's other webhooks (the rest of the fan-out page), returned when their secrets are cached: read anyway, they cost nothing more.
        const others = new Map<string, { readonly webhook: WebhookWithoutSecrets; readonly version: string }>();
        if (fromRange !== undefined) {
          const filter = closedRangeFilter(fromRange);
          for (const row of await queryUpTo<Record<string, unknown>>(client, { filter, max: MAX_RANGE_ROWS })) {
            const indexed = fromIndexRow(row);
            if (E.isLeft(indexed) || found.has(indexed.right.webhook.id)) continue;
            if (!wanted.has(indexed.right.webhook.id)) {
              others.set(indexed.right.webhook.id, { webhook: indexed.right.webhook, version: indexed.right.secretVersion });
              continue;
            }
            const secrets = cache.get(indexed.right.webhook.id, indexed.right.secretVersion);
            indexedById.set(indexed.right.webhook.id, indexed.right.webhook);
            if (secrets === undefined) missed.set(indexed.right.webhook.id, indexed.right.secretVersion);
            else found.set(indexed.right.webhook.id, { ...indexed.right.webhook, ...secrets });
          }
        }
        const othersMissed = (): number => [...others].filter(([id, o]) => cache.get(id, o.version) === undefined).length;
        // Cache misses: the main row by a point read each (cheap, and no partition scan), a few at a time;
        // many in the page (a cold process), every main row by key range instead.
        if (missed.size >= PRELOAD_FROM_MISSES || (missed.size > 0 && missed.size + othersMissed() >= PRELOAD_FROM_MISSES)) {
          // The page's range first; the whole registry only for what that did not bring.
          await preloadPage(client, [...missed.keys(), ...others.keys()]).catch(() => undefined);
          if ([...missed].some(([id, version]) => cache.get(id, version) === undefined)) await preloadAll(client);
          for (const [id, version] of [...missed]) {
            const indexed = indexedById.get(id);
            const secrets = cache.get(id, version);
            if (indexed !== undefined && secrets !== undefined) {
              found.set(id, { ...indexed, ...secrets });
              missed.delete(id);
            }
          }
        }
        await inParallel([...missed], parallelReads, ([id, version]) => pointRead(id, version));
        const rest = ids.filter((id) => !found.has(id) && !missed.has(id));
        const batches = Array.from({ length: Math.ceil(rest.length / MAIN_KEYS_PER_QUERY) }, (_, i) => rest.slice(i * MAIN_KEYS_PER_QUERY, (i + 1) * MAIN_KEYS_PER_QUERY));
        await Promise.all(
          batches.map(async (batch) => {
            const [only] = batch;
            // One id (most messages at fan-out 1): a point read, billed as a read rather than a query.
            if (batch.length === 1 && only !== undefined) return pointRead(only);
            for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter: mainRowsOf(batch) } })) keep(row);
          }),
        );
        for (const [id, other] of others) {
          const secrets = found.has(id) ? undefined : cache.get(id, other.version);
          if (secrets !== undefined) found.set(id, { ...other.webhook, ...secrets });
        }
        return unopened === undefined ? E.right(found) : E.left(unopened);
      }, storageError('read webhooks')),
      TE.chainEitherK((x) => x),
    );
};
