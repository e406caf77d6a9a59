import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import { type AppError, transient } from '../../domain/errors';
import { reserveSlots, type SlotState } from '../../domain/rateLimit';
import type { RateLimiter, SlotRequest } from '../../ports/rateLimiter';
import { statusOf, storageError } from './storageErrors';
import type { EnsuredTable } from './tables';

/*
 * One row per rate-limited webhook (RATE_LIMITS_TABLE): the next free send slot, written under its
 * ETag so that instances reserving at once serialize and never share a slot. Each process keeps the
 * ETag of its own last write: while no other instance reserved in between, a reservation is one
 * conditional write; otherwise the 412 costs a read and the write is tried again. Within a process,
 * concurrent reservations for one webhook share one write.
 */

const ROW_KEY = 'slots';
/** Conditional writes lost to other instances before the reservation gives up (the delivery is then held back). */
const MAX_WRITE_ATTEMPTS = 8;

const SlotRow = t.type({ nextFreeMs: t.number });
type Cached = { readonly etag: string | undefined; readonly state: SlotState | undefined };

export const tableRateLimiter = (table: EnsuredTable): RateLimiter => {
  const known = new Map<string, Cached>();

  const read = async (webhookId: string): Promise<Cached> => {
    const client = await table.ready();
    try {
      const entity = await client.getEntity<Record<string, unknown>>(webhookId, ROW_KEY);
      const decoded = SlotRow.decode(entity);
      // A row this code did not write starts the schedule afresh (it is overwritten under its ETag).
      return { etag: entity.etag, state: E.isRight(decoded) ? { nextFreeMs: decoded.right.nextFreeMs } : undefined };
    } catch (e) {
      if (statusOf(e) === 404) return { etag: undefined, state: undefined };
      throw e;
    }
  };

  /** The new ETag, or undefined when another writer got there first. */
  const write = async (webhookId: string, from: Cached, next: SlotState): Promise<string | undefined> => {
    const client = await table.ready();
    const entity = { partitionKey: webhookId, rowKey: ROW_KEY, nextFreeMs: next.nextFreeMs };
    try {
      const result = from.etag === undefined ? await client.createEntity(entity) : await client.updateEntity(entity, 'Replace', { etag: from.etag });
      return result.etag ?? '';
    } catch (e) {
      const status = statusOf(e);
      if (status === 409 || status === 412 || status === 404) return undefined;
      throw e;
    }
  };

  const reserve = async (request: SlotRequest): Promise<readonly number[]> => {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const from = known.get(request.webhookId) ?? (await read(request.webhookId));
      const { slots, next } = reserveSlots({ state: from.state, ratePerSecond: request.ratePerSecond, count: request.count, nowMs: request.now.getTime() });
      const etag = await write(request.webhookId, from, next);
      if (etag !== undefined) {
        known.set(request.webhookId, { etag, state: next });
        return slots;
      }
      known.delete(request.webhookId);
    }
    throw Object.assign(new Error(`the rate limit row of webhook ${request.webhookId} kept changing under ${MAX_WRITE_ATTEMPTS} writes`), { contended: true });
  };

  /*
   * Concurrent invocations of one process reserving for the same webhook would only beat each
   * other's ETags: they queue per webhook, and whoever waits when a write ends shares the next one
   * (one write for the whole batch, slots handed out in arrival order).
   */
  type Waiting = { readonly request: SlotRequest; readonly resolve: (slots: readonly number[]) => void; readonly reject: (e: unknown) => void };
  const waiting = new Map<string, Waiting[]>();
  const drain = async (webhookId: string): Promise<void> => {
    for (;;) {
      const batch = waiting.get(webhookId) ?? [];
      if (batch.length === 0) {
        waiting.delete(webhookId);
        return;
      }
      waiting.set(webhookId, []);
      const count = batch.reduce((n, w) => n + w.request.count, 0);
      // A limit lowered meanwhile applies at once; `now` is the latest any of them saw.
      const ratePerSecond = Math.min(...batch.map((w) => w.request.ratePerSecond));
      const now = new Date(Math.max(...batch.map((w) => w.request.now.getTime())));
      try {
        const slots = await reserve({ webhookId, ratePerSecond, count, now });
        let next = 0;
        for (const w of batch) {
          w.resolve(slots.slice(next, next + w.request.count));
          next += w.request.count;
        }
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
  };
  const queued = (request: SlotRequest): Promise<readonly number[]> =>
    new Promise((resolve, reject) => {
      const list = waiting.get(request.webhookId);
      if (list !== undefined) return void list.push({ request, resolve, reject });
      waiting.set(request.webhookId, [{ request, resolve, reject }]);
      void drain(request.webhookId);
    });

  return {
    reserve: (request) =>
      TE.tryCatch(
        () => queued(request),
        (e): AppError => ((e as { contended?: boolean }).contended === true ? transient((e as Error).message) : storageError('reserving rate limit slots')(e)),
      ),
  };
};
