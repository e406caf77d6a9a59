import * as TE from 'fp-ts/TaskEither';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { expectRight as run } from '../../../__tests__/taskEither';
import { aWebhook } from '../../../domain/__tests__/fixtures';
import { deliveryIdFor } from '../../../domain/delivery';
import type { EventId } from '../../../domain/events';
import type { ReplayId } from '../../../domain/replay';
import { ADMIN } from '../../../domain/tenant';
import type { AttemptLogEntry } from '../../../ports/attemptLog';
import type { ReplayCursor } from '../../../ports/replay';
import { REPLAY_PAGE_SIZE, replayPage, type ReplayPageResult, startReplay } from '../../../usecases/replayDeliveries';
import { memoryDeliveryQueue } from '../../__tests__/memory/memoryDeliveryQueue';
import { memoryWebhookStore } from '../../__tests__/memory/memoryWebhookStore';
import { tableAttemptLog } from '../tableAttemptLog';
import { tableEventStore } from '../tableEventStore';
import { tablePrivacyIndex } from '../tablePrivacyIndex';
import { type EnsuredTable, ensuredTable } from '../tables';

/*
 * Replay on Azurite with the table adapters: the attempt log's key range over the webhook's
 * partition and the retention index's hour buckets find exactly the window's deliveries, across
 * pages, and the storage requests a replayed delivery costs are counted (printed for
 * docs/delivery.md, bounded here).
 */

const suffix = `${process.pid}${Date.now() % 100000}`;
const connectionString = storageConnectionString();

const counted = (table: EnsuredTable): { table: EnsuredTable; count: () => number; reset: () => void } => {
  let n = 0;
  table.client.pipeline.addPolicy({ name: 'countRequests', sendRequest: (request, next) => ((n += 1), next(request)) });
  return { table, count: () => n, reset: () => void (n = 0) };
};

describe('replay on table storage (Azurite)', () => {
  const events = counted(ensuredTable({ connectionString, tableName: `revents${suffix}` }));
  const attempts = counted(ensuredTable({ connectionString, tableName: `rattempts${suffix}` }));
  const privacy = counted(ensuredTable({ connectionString, tableName: `rprivacy${suffix}` }));
  const all = [events, attempts, privacy];
  const requests = (): number => all.reduce((n, c) => n + c.count(), 0);
  const ports = { events: tableEventStore(events.table), attemptLog: tableAttemptLog(attempts.table), index: tablePrivacyIndex(privacy.table) };
  const webhooks = memoryWebhookStore();
  const webhook = aWebhook({ subscriptions: ['ping'], attributes: { name: 'r' } });
  webhooks.rows.set(webhook.id, webhook);
  const SINCE = '2026-12-05T08:00:00.000Z';
  const UNTIL = '2026-12-05T10:00:00.000Z';
  const NOW = new Date('2026-12-05T12:00:00.000Z');
  const FAILED = 130; // 260 attempt rows in the webhook's partition: two pages of 200
  const DELIVERED = 30;
  const failedIds: string[] = [];
  const allIds: string[] = [];

  const store = async (n: number, receivedAt: string, decisions: AttemptLogEntry['decision'][]): Promise<string> => {
    const id = `ev-${n}` as EventId;
    await run(ports.index.record({ eventId: id, receivedAt, subjectHashes: [] }));
    await run(ports.events.add({ id, name: 'ping', payload: { name: 'r' }, receivedAt, status: 'dispatched' }));
    const deliveryId = deliveryIdFor({ eventId: id, publicEventName: 'ping', webhookId: webhook.id });
    const at = (i: number): string => new Date(Date.parse(receivedAt) + (i + 1) * 1000).toISOString();
    await run(ports.attemptLog.record(decisions.map((decision, i) => ({ eventId: id, deliveryId, webhookId: webhook.id, attempt: i + 1, at: at(i), decision }))));
    return deliveryId;
  };

  beforeAll(async () => {
    await Promise.all(all.map((c) => c.table.ready()));
    const minute = (m: number): string => new Date(Date.parse(SINCE) + m * 30_000).toISOString();
    for (let i = 0; i < FAILED; i++) failedIds.push(await store(i, minute(i), ['RetryLater', 'Poisoned']));
    for (let i = 0; i < DELIVERED; i++) allIds.push(await store(1000 + i, minute(i), ['Delivered']));
    // Outside the window (before it, and in `until`'s hour after it): never replayed.
    await store(2000, '2026-12-05T07:59:59.000Z', ['Poisoned']);
    await store(2001, '2026-12-05T10:00:00.000Z', ['Poisoned']);
    allIds.push(...failedIds);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(all.map((c) => c.table.client.deleteTable()));
  });

  /** What a replay page reads, on these tables, sending into its own memory queue. */
  const replayDeps = (now: Date) => ({
    webhooks,
    events: ports.events,
    buckets: ports.index,
    attemptLog: ports.attemptLog,
    queue: memoryDeliveryQueue(),
    grantsOf: () => TE.right(undefined),
    clock: { now: () => now },
    maxDeliveriesPerMessage: 50,
  });

  const replay = async (only: 'failed' | 'all') => {
    const deps = replayDeps(NOW);
    const queue = deps.queue;
    let cursor: ReplayCursor | undefined = {
      replayId: 'rpl_00000000000000000000000000000000' as ReplayId,
      webhookId: webhook.id,
      since: SINCE,
      until: UNTIL,
      only,
      scanUntil: NOW.toISOString(),
      deliveries: 0,
    };
    all.forEach((c) => c.reset());
    let pages = 0;
    while (cursor !== undefined) {
      const page: ReplayPageResult = await run(replayPage(deps)(cursor));
      pages += 1;
      cursor = page.next;
    }
    return { ids: queue.sent.flatMap((m) => m.message.items.map((i) => i.deliveryId as string)), pages, requests: requests(), messages: queue.sent.length };
  };

  it('failed: every poisoned delivery of the window once, across pages, at a counted cost', async () => {
    const result = await replay('failed');
    expect(result.pages).toBeGreaterThanOrEqual(Math.ceil((2 * FAILED) / REPLAY_PAGE_SIZE));
    expect([...result.ids].sort()).toEqual([...failedIds].sort());
    console.log(
      `replay failed: ${FAILED} deliveries, ${result.pages} pages, ${result.requests} table requests = ${(result.requests / FAILED).toFixed(2)} per delivery, ${result.messages} queue messages`,
    );
    // Per failed event: one event read, one attempt-log partition query, one Requeued write; per page a
    // range query (and its continuation) and the Requeued copies' transaction in the webhook's partition.
    expect(result.requests).toBeLessThanOrEqual(3 * FAILED + 4 * result.pages);
    // Requeued: a second replay of the window sends nothing.
    expect((await replay('failed')).ids).toEqual([]);
  }, 120_000);

  it('all: every delivery of the window once, from the hour buckets, at a counted cost', async () => {
    const result = await replay('all');
    expect([...result.ids].sort()).toEqual([...allIds].sort());
    console.log(
      `replay all: ${allIds.length} deliveries, ${result.pages} pages, ${result.requests} table requests = ${(result.requests / allIds.length).toFixed(2)} per delivery, ${result.messages} queue messages`,
    );
    // Per event: one event read; per page one index query; the Requeued entries go one write per event partition.
    expect(result.requests).toBeLessThanOrEqual(2 * allIds.length + 2 * result.pages + 2);
  }, 120_000);

  // The portal's request (since an hour back, cut to the second; no until): the window and the scan
  // end at the server's now, inclusive of an attempt of that very millisecond. Last: its rows sit
  // after the other tests' window.
  it('failed, as the portal asks: a failure written in the millisecond the replay starts is sent again', async () => {
    const now = new Date('2026-12-05T11:30:00.123Z');
    const id = await store(3000, new Date(now.getTime() - 1).toISOString(), []);
    await run(ports.attemptLog.record([{ eventId: 'ev-3000' as EventId, deliveryId: id, webhookId: webhook.id, attempt: 1, at: now.toISOString(), decision: 'Poisoned' }]));
    const started: ReplayCursor[] = [];
    const since = new Date(now.getTime() - 3_600_000).toISOString().slice(0, 19) + 'Z';
    const start = (cursor: ReplayCursor) => (started.push(cursor), TE.right({ started: true }));
    await run(startReplay({ webhooks, clock: { now: () => now }, start, retentionDays: 30 })({ webhookId: webhook.id, body: { since, only: 'failed' }, principal: ADMIN }));
    const deps = replayDeps(now);
    const queue = deps.queue;
    const page = await run(replayPage(deps)(started[0] as ReplayCursor));
    expect(page.deliveries).toBe(1);
    expect(queue.sent.flatMap((m) => m.message.items.map((i) => i.deliveryId as string))).toEqual([id]);
  }, 60_000);
});
