import * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { Webhook } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { WebhookLookup } from '../ports/webhookLookup';

/*
 * The worker's webhooks, kept REGISTRY_CACHE_MS (docs/architecture.md item 26). Every message used to
 * read its webhooks: a point read at fan-out 1, a key range per message of 50 (a `ping:all` to 10 000
 * webhooks: 200 range queries, each a scan of the whole registry table on Azurite). A message whose
 * webhooks were all read within the bound reads nothing; a wide message (WIDE_FROM misses or more)
 * first reads the whole registry once (`readAll`, main rows by key range, 1000 a query), at most
 * once per bound. The staleness bound:
 * - `invalidate` (called on every registry write of this process) drops everything at once, and a
 *   read begun before it is not kept;
 * - a webhook disabled, deleted, changed or given a new secret on another instance is seen by this
 *   worker at most REGISTRY_CACHE_MS after that write: until then it may receive (a disabled or
 *   deleted one receives nothing once the bound has passed), and a rotated secret signs with the old
 *   one (the receiver's retry gets the new one).
 * Leases and endpoint verification are still checked per send (isActive, by the clock).
 */

export type CachedLookupOptions = {
  readonly clock: Clock;
  /** REGISTRY_CACHE_MS; 0 turns the cache off. */
  readonly ttlMs: number;
  /** The whole registry (up to `maxCached`), for wide messages; absent, wide messages read as before. */
  readonly readAll?: (max: number) => TE.TaskEither<AppError, readonly Webhook[]>;
  /** Webhooks kept (default 20 000): past it the oldest go. */
  readonly maxCached?: number;
};

export type CachedLookup = WebhookLookup & { readonly invalidate: () => void };

const DEFAULT_MAX_CACHED = 20_000;
/** Misses in one message from which the whole registry is read instead (a cold `ping:all`). */
const WIDE_FROM = 16;

export const cachedLookup = (lookup: WebhookLookup, options: CachedLookupOptions): CachedLookup => {
  const max = options.maxCached ?? DEFAULT_MAX_CACHED;
  const fresh = new Map<string, { readonly webhook: Webhook; readonly at: number }>();
  let generation = 0;
  let snapshot: { readonly at: number; readonly done: Promise<void> } | undefined;
  const now = (): number => options.clock.now().getTime();

  const remember = (webhooks: Iterable<Webhook>, at: number, started: number): void => {
    if (started !== generation) return;
    for (const webhook of webhooks) {
      fresh.delete(webhook.id);
      fresh.set(webhook.id, { webhook, at });
    }
    for (const id of fresh.keys()) {
      if (fresh.size <= max) break;
      fresh.delete(id);
    }
  };
  const cached = (ids: readonly string[], at: number): Map<string, Webhook> | undefined => {
    const found = new Map<string, Webhook>();
    for (const id of ids) {
      const hit = fresh.get(id);
      if (hit === undefined || at - hit.at >= options.ttlMs) return undefined;
      found.set(id, hit.webhook);
    }
    return found;
  };
  /** One registry read per bound, shared by the messages that wait for it; a failure only costs the reads it would have saved. */
  const readRegistry = (readAll: NonNullable<CachedLookupOptions['readAll']>, at: number): Promise<void> => {
    if (snapshot !== undefined && at - snapshot.at < options.ttlMs) return snapshot.done;
    const started = generation;
    const done = (async () => {
      const all = await readAll(max)();
      if (E.isRight(all)) remember(all.right, at, started);
    })();
    snapshot = { at, done };
    return done;
  };

  const cachedRead: WebhookLookup = (ids, range) => async () => {
    const at = now();
    const hit = cached(ids, at);
    if (hit !== undefined) return E.right(hit);
    const misses = ids.filter((id) => fresh.get(id) === undefined || at - (fresh.get(id)?.at ?? 0) >= options.ttlMs).length;
    if (options.readAll !== undefined && misses >= WIDE_FROM) {
      await readRegistry(options.readAll, at);
      const after = cached(ids, at);
      if (after !== undefined) return E.right(after);
    }
    const started = generation;
    const read = await lookup(ids, range)();
    if (E.isRight(read)) remember(read.right.values(), at, started);
    return read;
  };

  if (options.ttlMs <= 0) return Object.assign((ids: readonly string[], range?: Parameters<WebhookLookup>[1]) => lookup(ids, range), { invalidate: () => undefined });
  return Object.assign(cachedRead, {
    invalidate: () => {
      generation++;
      fresh.clear();
      snapshot = undefined;
    },
  });
};
