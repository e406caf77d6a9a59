import * as E from 'fp-ts/Either';
import type { Webhook } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { WebhookLookup } from '../ports/webhookLookup';

/*
 * The worker's webhooks, kept REGISTRY_CACHE_MS (docs/architecture.md item 28): a message whose
 * webhooks were all read within the bound reads nothing (a busy webhook: no point read per message);
 * any other message reads as before (one key range, or point reads) and refreshes what it read.
 * (Reading the whole registry for a wide message, once per bound, was tried: under a 1 s bound a
 * `ping:all` to 10 000 webhooks re-read and re-decrypted all 10 000 rows every second and went from
 * 74 s to over 300 s.) The staleness bound:
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
  /** Webhooks kept (default 20 000): past it the oldest go. */
  readonly maxCached?: number;
};

export type CachedLookup = WebhookLookup & { readonly invalidate: () => void };

const DEFAULT_MAX_CACHED = 20_000;

export const cachedLookup = (lookup: WebhookLookup, options: CachedLookupOptions): CachedLookup => {
  const max = options.maxCached ?? DEFAULT_MAX_CACHED;
  const fresh = new Map<string, { readonly webhook: Webhook; readonly at: number }>();
  let generation = 0;
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
  const cachedRead: WebhookLookup = (ids, hint) => async () => {
    const at = now();
    const hit = cached(ids, at);
    if (hit !== undefined) return E.right(hit);
    const started = generation;
    const read = await lookup(ids, hint)();
    if (E.isRight(read)) remember(read.right.values(), at, started);
    return read;
  };

  if (options.ttlMs <= 0) return Object.assign((ids: readonly string[], hint?: Parameters<WebhookLookup>[1]) => lookup(ids, hint), { invalidate: () => undefined });
  return Object.assign(cachedRead, {
    invalidate: () => {
      generation++;
      fresh.clear();
    },
  });
};
