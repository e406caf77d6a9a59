import * as E from 'fp-ts/Either';
import type { LookupHint } from '../domain/delivery';
import type { AppError } from '../domain/errors';
import type { Webhook } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { WebhookLookup } from '../ports/webhookLookup';

/*
 * The worker's webhooks, kept REGISTRY_CACHE_MS (docs/architecture.md item 28): a message whose
 * webhooks were all read within the bound reads nothing (a busy webhook: no point read per message);
 * any other message reads as before (one key range, or point reads) and refreshes what it read,
 * which for a fan-out page's hint is the whole page: its other messages then read nothing, and
 * those arriving while it is read wait for that read.
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
  /*
   * Reads in flight by hint: the messages of one fan-out page carry the same hint (the page's range),
   * so the first reads the page and those arriving meanwhile wait for it instead of reading it again.
   * Joined only in the same generation (no write of this process since it began), and its answer
   * used only within the bound of the moment it began, however long it took.
   */
  type Read = { readonly at: number; readonly generation: number; readonly answer: Promise<E.Either<AppError, ReadonlyMap<string, Webhook>>> };
  const inflight = new Map<string, Read>();
  const readAndKeep = async ({ ids, hint, at }: { readonly ids: readonly string[]; readonly hint?: LookupHint; readonly at: number }): Promise<E.Either<AppError, ReadonlyMap<string, Webhook>>> => {
    const started = generation;
    const answer = lookup(ids, hint)();
    if (hint !== undefined) {
      const read: Read = { at, generation: started, answer };
      inflight.set(hint, read);
      void answer.finally(() => {
        if (inflight.get(hint) === read) inflight.delete(hint);
      });
    }
    const result = await answer;
    if (E.isRight(result)) remember(result.right.values(), at, started);
    return result;
  };
  const joined = async (read: Read, ids: readonly string[]): Promise<E.Either<AppError, ReadonlyMap<string, Webhook>> | undefined> => {
    const answer = await read.answer;
    if (E.isLeft(answer) || now() - read.at >= options.ttlMs) return undefined;
    // Ids the page read did not give (deleted since, or secrets it did not have): read by id.
    const missing = ids.filter((id) => !answer.right.has(id));
    if (missing.length === 0) return answer;
    const rest = await readAndKeep({ ids: missing, at: now() });
    return E.isLeft(rest) ? rest : E.right(new Map([...answer.right, ...rest.right]));
  };
  const cachedRead: WebhookLookup = (ids, hint) => async () => {
    const at = now();
    const hit = cached(ids, at);
    if (hit !== undefined) return E.right(hit);
    const pending = hint === undefined ? undefined : inflight.get(hint);
    const shared = pending !== undefined && pending.generation === generation ? await joined(pending, ids) : undefined;
    return shared ?? readAndKeep({ ids, ...(hint === undefined ? {} : { hint }), at });
  };

  if (options.ttlMs <= 0) return Object.assign((ids: readonly string[], hint?: Parameters<WebhookLookup>[1]) => lookup(ids, hint), { invalidate: () => undefined });
  return Object.assign(cachedRead, {
    invalidate: () => {
      generation++;
      fresh.clear();
      inflight.clear();
    },
  });
};
