import * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { Clock } from '../ports/clock';
import type { SubscribedPage, WebhookStore } from '../ports/webhookStore';
import { sharedReads } from './sharedReads';

/*
 * The fan-out's first page of webhooks per (public event, routing value), kept REGISTRY_CACHE_MS
 * (docs/architecture.md, "Hot path"). At fan-out 1 that page was one index query per event, the
 * dearest operation of the event (a scan at $0.12 per 10 000). The staleness bound:
 * - writes through this store (every registry route, the worker's health writes, the same process)
 *   drop every cached page at once, and a read that started before such a write is not kept;
 * - another instance's write is seen by this one's fan-out at most REGISTRY_CACHE_MS later; until
 *   then a new webhook may miss events, and a disabled or deleted one may get a queue message, which
 *   the worker skips: it reads the webhook itself before each send (SkippedDisabledWebhook), so a
 *   disabled or deleted webhook receives nothing whatever this cache holds.
 * Only first pages (no continuation token) are kept; later pages belong to the orchestration.
 */

export type CachedRegistryOptions = {
  readonly clock: Clock;
  /** REGISTRY_CACHE_MS; 0 turns the cache off. */
  readonly ttlMs: number;
  /** Webhooks held in all cached pages together (default 20 000): a registry of any size costs bounded memory. */
  readonly maxCachedWebhooks?: number;
  /** Told after every write through this store (the worker's cache drops its webhooks). */
  readonly onWrite?: () => void;
};

const DEFAULT_MAX_CACHED_WEBHOOKS = 20_000;

type Entry = { readonly page: SubscribedPage; readonly at: number };

export const cachedRegistry = <S extends WebhookStore>(store: S, options: CachedRegistryOptions): S => {
  if (options.ttlMs <= 0) return store;
  const max = options.maxCachedWebhooks ?? DEFAULT_MAX_CACHED_WEBHOOKS;
  const pages = new Map<string, Entry>();
  const inflight = sharedReads<SubscribedPage>();
  let held = 0;
  /** Bumped by every write: a read begun under an older generation is answered but not kept. */
  let generation = 0;

  const forget = (key: string): void => {
    const old = pages.get(key);
    if (old === undefined) return;
    held -= old.page.items.length;
    pages.delete(key);
  };
  const invalidate = (): void => {
    options.onWrite?.();
    generation++;
    pages.clear();
    inflight.clear();
    held = 0;
  };
  const keep = (key: string, page: SubscribedPage, at: number): void => {
    forget(key);
    if (page.items.length > max) return;
    pages.set(key, { page, at });
    held += page.items.length;
    // Oldest first (insertion order) until the bound holds again.
    for (const k of pages.keys()) {
      if (held <= max) break;
      forget(k);
    }
  };
  /** A write, then the invalidation (also when the write failed: it may have landed). */
  const writing =
    <A extends unknown[], B>(write: (...args: A) => TE.TaskEither<AppError, B>) =>
    (...args: A): TE.TaskEither<AppError, B> =>
    async () => {
      try {
        return await write(...args)();
      } finally {
        invalidate();
      }
    };

  return {
    ...store,
    create: writing(store.create),
    update: writing(store.update),
    delete: writing(store.delete),
    pageSubscribedTo: (query) => {
      if (query.continuationToken !== undefined) return store.pageSubscribedTo(query);
      const key = JSON.stringify([query.eventName, query.routingValue ?? null, query.pageSize]);
      return async () => {
        const now = options.clock.now().getTime();
        const hit = pages.get(key);
        if (hit !== undefined && now - hit.at < options.ttlMs) return E.right(hit.page);
        // Concurrent misses (a burst of events after expiry) share one read; a write in between starts a new one.
        const started = generation;
        try {
          const page = await inflight.read(key, async () => {
            const result = await store.pageSubscribedTo(query)();
            if (E.isLeft(result)) throw result.left;
            // Kept by the read's starter, stamped with when it started.
            if (generation === started) keep(key, result.right, now);
            return result.right;
          });
          return E.right(page);
        } catch (e) {
          return E.left(e as AppError);
        }
      };
    },
  };
};
