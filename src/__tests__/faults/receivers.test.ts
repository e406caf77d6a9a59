import type { RunningAzurite } from '../../../local-host/azurite';
import { freePort } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import { deliveryIdFor } from '../../domain/delivery';
import {
  appSettings,
  approximateCount,
  type Behavior,
  createWebhook,
  eventStatus,
  type EventView,
  ingest,
  mapLimit,
  ownAzurite,
  type Receivers,
  rssKb,
  startApp,
  startReceivers,
  waitUntil,
} from './harness';

/*
 * Receivers that misbehave in every way we know, next to healthy ones, against a running host.
 * The status line decides an outcome (docs: outcome.ts), so a 200 whose body is reset or never ends
 * counts as delivered, at the cost of the capped excerpt; everything without a 2xx is a failure:
 * retried, then set aside (a redirect at once: it is not followed). Healthy receivers get every
 * delivery meanwhile, and the host's memory stays bounded.
 */

const EVENTS = 10;
/** RETRY_SCHEDULE_SECONDS "1,1": three attempts, then poison. */
const ATTEMPTS = 3;
type Expectation = { behavior: Behavior | 'refused'; state: 'delivered' | 'poisoned'; requests: number; lastResult?: unknown };
const HOOKS: Record<string, Expectation> = {
  healthy0: { behavior: 'ok', state: 'delivered', requests: 1 },
  healthy1: { behavior: 'ok', state: 'delivered', requests: 1 },
  neverEnding: { behavior: 'neverEnding', state: 'delivered', requests: 1, lastResult: { status: 200 } },
  reset: { behavior: 'reset', state: 'delivered', requests: 1, lastResult: { status: 200 } },
  hugeBody: { behavior: 'hugeBody', state: 'poisoned', requests: ATTEMPTS, lastResult: { status: 500 } },
  redirect: { behavior: 'redirect', state: 'poisoned', requests: 1, lastResult: { status: 307 } },
  slowHeaders: { behavior: 'slowHeaders', state: 'poisoned', requests: ATTEMPTS, lastResult: { error: 'Timeout' } },
  error503: { behavior: 'error503', state: 'poisoned', requests: ATTEMPTS, lastResult: { status: 503 } },
  resetBeforeStatus: { behavior: 'resetBeforeStatus', state: 'poisoned', requests: ATTEMPTS, lastResult: { error: 'ConnectionReset' } },
  refused: { behavior: 'refused', state: 'poisoned', requests: 0, lastResult: { error: 'ConnectionRefused' } },
};
const HEALTHY = ['healthy0', 'healthy1'];
/** Generous: the host holds a few dozen requests at a time; buffering the endless bodies would take gigabytes. */
const MAX_RSS_GROWTH_KB = 200 * 1024;

describe('faults: receivers that misbehave', () => {
  let azurite: RunningAzurite;
  let receivers: Receivers;
  let host: SpawnedHost;

  beforeAll(async () => {
    azurite = await ownAzurite();
    receivers = await startReceivers();
  });
  afterAll(async () => {
    await host?.stop('SIGKILL');
    await receivers?.close();
    await azurite?.stop();
  });

  it('keeps serving healthy receivers, counts every answer without a 2xx as a failure (redirects not followed), and stays within a memory bound', async () => {
    const env = appSettings({
      storage: azurite.connectionString,
      tag: 'recv',
      extra: {
        DELIVERY_TIMEOUT_MS: '2000',
        MAX_RESPONSE_BYTES: '4096',
        RETRY_SCHEDULE_SECONDS: '1,1',
        // No kill here: a lease as long as Azure's keeps a loaded machine's late renewal from
        // handing a message to a second run, which the exact request counts below would see.
        LOCAL_HOST_QUEUE_LEASE_SECONDS: '600',
        // Every receiver here shares one origin, and the counts below want every attempt sent:
        // the pause after timeouts has its own test (hangingOrigin.test.ts).
        CIRCUIT_BREAKER_TIMEOUTS: '0',
      },
    });
    host = await startApp(env);
    const baseUrl = host.baseUrl;
    const refusedPort = await freePort(); // nothing listens there
    const names = Object.keys(HOOKS);
    const urlOf = (name: string): string => {
      const { behavior } = HOOKS[name]!;
      return behavior === 'refused' ? `http://127.0.0.1:${refusedPort}/refused` : receivers.url(name, behavior);
    };
    const ids = await mapLimit(names, 4, (name) => createWebhook(baseUrl, { url: urlOf(name), name }));
    const nameOf = new Map(ids.map((id, i) => [id, names[i]!]));

    // Warm-up: one event through every path, so the baseline includes loaded code and open sockets.
    expect((await ingest(baseUrl, { id: 'warmup', name: 'ping:all' })).status).toBe(202);
    await waitUntil('the warm-up deliveries', () => HEALTHY.every((n) => (receivers.received.get(n) ?? []).length >= 1), { timeoutMs: 60_000 });
    const rssBefore = rssKb(host.child.pid!);

    const events = Array.from({ length: EVENTS }, (_, i) => ({ id: `recv-${i}`, name: 'ping:all' }));
    expect(await mapLimit(events, 8, async (e) => (await ingest(baseUrl, e)).status)).toEqual(events.map(() => 202));
    let peakRss = rssBefore;
    const healthyIds = events.flatMap((e) => ids.filter((id) => HEALTHY.includes(nameOf.get(id)!)).map((webhookId) => deliveryIdFor({ eventId: e.id, publicEventName: 'ping', webhookId })));
    const distinct = (): Set<string> => new Set([...receivers.received.values()].flat());
    await waitUntil(
      'every healthy delivery',
      () => {
        peakRss = Math.max(peakRss, rssKb(host.child.pid!));
        return healthyIds.every((id) => distinct().has(id));
      },
      { timeoutMs: 90_000, intervalMs: 100 },
    );

    // Every misbehaving delivery ends in poison after its attempts (1 + 2 retries).
    const views = new Map<string, EventView>();
    await waitUntil(
      'every misbehaving delivery to be poisoned',
      async () => {
        peakRss = Math.max(peakRss, rssKb(host.child.pid!));
        const read = await mapLimit(events, 6, (e) => eventStatus(baseUrl, e.id));
        read.forEach((v, i) => v && views.set(events[i]!.id, v));
        const poisoned = Object.values(HOOKS).filter((h) => h.state === 'poisoned').length;
        return read.every((v) => v !== undefined && v.summary.poisoned === poisoned && v.summary.delivered === names.length - poisoned);
      },
      {
        timeoutMs: 120_000,
        intervalMs: 1_000,
        state: () => {
          const counts: Record<string, number> = {};
          for (const v of views.values())
            for (const d of v.deliveries) {
              const key = `${nameOf.get(d.webhookId)}:${d.state}:${JSON.stringify(d.lastResult)}`;
              counts[key] = (counts[key] ?? 0) + 1;
            }
          return { dispatch: [...views.values()].map((v) => v.dispatch.status).filter((s) => s !== 'Completed'), counts, requests: Object.fromEntries(receivers.requests) };
        },
      },
    );
    peakRss = Math.max(peakRss, rssKb(host.child.pid!));

    for (const view of views.values()) {
      for (const d of view.deliveries) {
        const name = nameOf.get(d.webhookId)!;
        const expected = HOOKS[name]!;
        expect({ name, state: d.state, ...(expected.lastResult ? { lastResult: d.lastResult } : {}) }).toEqual({
          name,
          state: expected.state,
          ...(expected.lastResult ? { lastResult: expected.lastResult } : {}),
        });
      }
    }
    // The redirect was not followed: its target never saw a request.
    expect(receivers.requests.get('redirect-redirected')).toBeUndefined();
    // Each receiver got exactly its attempts, for the test's events and the warm-up.
    for (const [name, expected] of Object.entries(HOOKS)) expect({ name, requests: receivers.requests.get(name) ?? 0 }).toEqual({ name, requests: (EVENTS + 1) * expected.requests });
    const poisonedPerEvent = Object.values(HOOKS).filter((h) => h.state === 'poisoned').length;
    expect(await approximateCount(azurite.connectionString, `${env.DELIVERIES_QUEUE}-poison`)).toBe((EVENTS + 1) * poisonedPerEvent);
    expect(peakRss - rssBefore).toBeLessThan(MAX_RSS_GROWTH_KB);
  }, 240_000);
});

/*
 * A hanging receiver beside a healthy one on ONE origin (two paths of one server), with the default
 * breaker: the hanging endpoint's timeouts pause that endpoint only, and the healthy one, whose
 * deliveries arrive after the pause began, gets every one on its first attempt.
 */
describe('faults: a hanging and a healthy receiver on one origin, default breaker', () => {
  const FIRST = 4;
  const LATER = 3;
  let azurite: RunningAzurite;
  let receivers: Receivers;
  let host: SpawnedHost | undefined;

  beforeAll(async () => {
    azurite = await ownAzurite();
    receivers = await startReceivers();
  });
  afterAll(async () => {
    await host?.stop('SIGKILL');
    await receivers?.close();
    await azurite?.stop();
  });

  it('keeps delivering to the healthy endpoint while the hanging one is paused', async () => {
    // Only the request deadline is short; CIRCUIT_BREAKER_TIMEOUTS and _COOLDOWN_MS keep their defaults.
    host = await startApp(appSettings({ storage: azurite.connectionString, tag: 'oneorigin', extra: { DELIVERY_TIMEOUT_MS: '1000' } }));
    const baseUrl = host.baseUrl;
    const hangingId = await createWebhook(baseUrl, { url: receivers.url('hang', 'slowHeaders'), name: 'hang' });
    const healthyId = await createWebhook(baseUrl, { url: receivers.url('fine', 'ok'), name: 'fine' });
    const deliveryOf = (view: EventView | undefined, webhookId: string) => view?.deliveries.find((d) => d.webhookId === webhookId);

    // First the hanging endpoint times out often enough to be paused: its retries come back CircuitOpen.
    const first = Array.from({ length: FIRST }, (_, i) => ({ id: `one-${i}`, name: 'ping:all' }));
    expect(await mapLimit(first, 4, async (e) => (await ingest(baseUrl, e)).status)).toEqual(first.map(() => 202));
    await waitUntil(
      'the hanging endpoint to be paused',
      async () => {
        const views = await mapLimit(first, 4, (e) => eventStatus(baseUrl, e.id));
        return views.some((v) => deliveryOf(v, hangingId)?.lastResult?.error === 'CircuitOpen');
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    // Then events that reach the healthy endpoint while the hanging one is paused.
    const later = Array.from({ length: LATER }, (_, i) => ({ id: `two-${i}`, name: 'ping:all' }));
    expect(await mapLimit(later, 4, async (e) => (await ingest(baseUrl, e)).status)).toEqual(later.map(() => 202));
    const settled = new Map<string, { state: string; lastResult?: unknown }>();
    await waitUntil(
      'a final state of every later delivery to the healthy endpoint',
      async () => {
        const views = await mapLimit(later, 4, (e) => eventStatus(baseUrl, e.id));
        views.forEach((v, i) => {
          const d = deliveryOf(v, healthyId);
          if (d !== undefined && (d.state === 'delivered' || d.state === 'poisoned')) settled.set(later[i]!.id, { state: d.state, lastResult: d.lastResult });
        });
        return settled.size === LATER;
      },
      { timeoutMs: 60_000, intervalMs: 200, state: () => Object.fromEntries(settled) },
    );
    expect(Object.fromEntries(settled)).toEqual(Object.fromEntries(later.map((e) => [e.id, { state: 'delivered', lastResult: { status: 200 } }])));
    expect(new Set(receivers.received.get('fine'))).toEqual(new Set([...first, ...later].map((e) => deliveryIdFor({ eventId: e.id, publicEventName: 'ping', webhookId: healthyId }))));
    // The breaker did its work on the hanging endpoint: no request once paused.
    expect(receivers.requests.get('hang')).toBeLessThan((FIRST + LATER) * 2);
  }, 180_000);
});
