import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import { memoryDeliveryQueue } from '../../adapters/__tests__/memory/memoryDeliveryQueue';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryTenantStore } from '../../adapters/__tests__/memory/memoryTenantStore';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { aWebhook, FISCAL_CODE } from '../../domain/__tests__/fixtures';
import { formatValidationErrors } from '../../domain/decodeErrors';
import type { EventId } from '../../domain/events';
import { checkGrants, grantsFromAttributes, MAX_ROUTING_GRANTS_CHARS, ROUTING_ATTRIBUTES, RoutingGrants } from '../../domain/routingGrants';
import type { Principal, Tenant, TenantId } from '../../domain/tenant';
import type { Webhook } from '../../domain/webhook';
import type { TenantGrants } from '../../ports/tenantGrants';
import { createTenant } from '../createTenant';
import { createWebhook } from '../createWebhook';
import { enqueueFanOutPage } from '../enqueueFanOutPage';
import { patchWebhook } from '../patchWebhook';
import { replaceWebhook } from '../replaceWebhook';
import { currentGrants, ensureGrants, grantsCache, setTenantRouting } from '../tenantGrants';
import { requestWebSub } from '../websub';
import { expectLeft as left, expectRight as right } from '../../__tests__/taskEither';

const A = 'AAAAAAAAAAAAAAAAAAAAAAAAAA' as TenantId;
const B = 'BBBBBBBBBBBBBBBBBBBBBBBBBB' as TenantId;
const asA: Principal = { kind: 'Tenant', tenantId: A };
const aTenant = (id: TenantId, routing?: RoutingGrants): Tenant => ({
  id,
  name: id,
  keyHash: null,
  keyCreatedAt: null,
  createdAt: '2024-01-01T00:00:00.000Z',
  ...(routing === undefined ? {} : { routing }),
});

const setup = () => {
  const webhooks = memoryWebhookStore();
  const tenants = memoryTenantStore();
  let time = Date.parse('2024-05-01T10:00:00.000Z');
  let seed = 0;
  const clock = { now: () => new Date(time), advance: (ms: number) => void (time += ms) };
  const lines: string[] = [];
  const grantsDeps = { tenants, webhooks, log: (line: string) => void lines.push(line) };
  const deps = { webhooks, clock, randomBytes: (size: number) => new Uint8Array(size).fill(++seed % 256), grantsOf: currentGrants(grantsDeps) };
  return { webhooks, tenants, clock, lines, grantsDeps, deps };
};

describe('routing grants (domain)', () => {
  it('come from the catalogue, drop repeats, and refuse unknown attributes, bad values and oversize lists naming them', () => {
    expect(ROUTING_ATTRIBUTES).toEqual(['name', 'serviceId']);
    expect(RoutingGrants.decode({ serviceId: ['a', 'b', 'a'], name: [] })).toEqual(E.right({ serviceId: ['a', 'b'], name: [] }));
    const errors = (u: unknown): string[] => {
      const d = RoutingGrants.decode(u);
      return E.isLeft(d) ? formatValidationErrors(d.left) : [];
    };
    expect(errors({ color: ['x'], serviceId: [1, ''] })).toEqual([
      'color: must be a routing attribute (name, serviceId)',
      'serviceId.0: must be a non-empty string of at most 256 characters',
      'serviceId.1: must be a non-empty string of at most 256 characters',
    ]);
    expect(errors({ serviceId: Array.from({ length: 1001 }, (_, i) => `s${i}`) })).toEqual(['serviceId: must be a list of at most 1000 values (MAX_ROUTING_VALUES_PER_ATTRIBUTE)']);
    const long = (p: string) => Array.from({ length: 1000 }, (_, i) => `${p}${i}`.padEnd(200, 'x'));
    expect(errors({ serviceId: long('s'), name: long('n') })).toEqual([`(body): must hold at most ${MAX_ROUTING_GRANTS_CHARS} characters of JSON (MAX_ROUTING_GRANTS_CHARS)`]);
    expect(errors(['svc'])).toHaveLength(1);
  });

  it('a webhook passes only with every non-empty routing value held; initial grants are the values webhooks use', () => {
    expect(checkGrants({ serviceId: ['s1'] }, { serviceId: 's1', other: 'x', name: '' })).toEqual(E.right(undefined));
    expect(checkGrants({ serviceId: ['s1'] }, { serviceId: 's1', name: 'n1' })).toEqual(E.left({ kind: 'Forbidden', message: expect.stringContaining('name "n1"') }));
    expect(grantsFromAttributes([{ serviceId: 's1' }, { serviceId: 's1', name: 'n' }, { other: 'x' }])).toEqual({ serviceId: ['s1'], name: ['n'] });
  });
});

describe('registration within the grants', () => {
  const body = { url: 'https://receiver.example/hook', subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-b' } };

  it('a tenant naming a value it does not hold gets Forbidden naming it and nothing is stored; the admin is unaffected', async () => {
    const s = setup();
    s.tenants.rows.set(A, aTenant(A, { serviceId: ['svc-a'] }));
    expect(await left(createWebhook(s.deps)(body, asA))).toEqual({ kind: 'Forbidden', message: expect.stringContaining('serviceId "svc-b"') });
    expect(s.webhooks.rows.size).toBe(0);
    const mine = await right(createWebhook(s.deps)({ ...body, attributes: { serviceId: 'svc-a' } }, asA));
    await right(createWebhook(s.deps)(body));
    expect(await left(replaceWebhook(s.deps)({ id: mine.id, body, principal: asA }))).toMatchObject({ kind: 'Forbidden' });
    expect(await left(patchWebhook(s.deps)({ id: mine.id, body: { attributes: { name: 'n' } }, principal: asA }))).toEqual({ kind: 'Forbidden', message: expect.stringContaining('name "n"') });
    expect(s.webhooks.rows.get(mine.id)).toEqual(mine);
    // Without the grants port, tenant writes fail closed.
    expect(await left(createWebhook({ ...s.deps, grantsOf: undefined })({ ...body, attributes: { serviceId: 'svc-a' } }, asA))).toMatchObject({ kind: 'Permanent' });
  });

  it('WebSub: a topic routing value obeys the grants; an unsubscribe needs none', async () => {
    const s = setup();
    s.tenants.rows.set(A, aTenant(A, { serviceId: ['svc-a'] }));
    const queued: unknown[] = [];
    const websub = requestWebSub({ ...s.deps, enqueueVerification: (job) => (queued.push(job), TE.right(undefined)) });
    const form = (mode: string, topic: string) => ({ 'hub.mode': mode, 'hub.topic': topic, 'hub.callback': 'https://receiver.example/cb' });
    expect(await left(websub({ form: form('subscribe', 'service:subscribed?serviceId=svc-b'), principal: asA }))).toMatchObject({ kind: 'Forbidden' });
    expect(s.webhooks.rows.size + queued.length).toBe(0);
    await right(websub({ form: form('subscribe', 'service:subscribed?serviceId=svc-a'), principal: asA }));
    await right(s.tenants.setRouting(A, {}));
    await right(websub({ form: form('unsubscribe', 'service:subscribed?serviceId=svc-a'), principal: asA }));
    expect(queued).toHaveLength(2);
  });

  it('verification: with VERIFY_ENDPOINTS_DEFAULT a tenant cannot say verify false; nowhere can it turn verification off; the admin can', async () => {
    const s = setup();
    s.tenants.rows.set(A, aTenant(A, { serviceId: ['svc-a'] }));
    const own = { ...body, attributes: { serviceId: 'svc-a' } };
    const strict = { ...s.deps, verifyEndpointsDefault: true };
    expect(await left(createWebhook(strict)({ ...own, verify: false }, asA))).toEqual({ kind: 'Forbidden', message: expect.stringMatching(/^verify: /) });
    expect(s.webhooks.rows.size).toBe(0);
    const failed = await right(createWebhook(strict)(own, asA));
    expect(failed.verified).toBe(false);
    // Even where the setting is off, a webhook under verification stays under it for its tenant.
    for (const deps of [strict, s.deps]) {
      expect(await left(patchWebhook(deps)({ id: failed.id, body: { verify: false }, principal: asA }))).toMatchObject({ kind: 'Forbidden' });
      expect(await left(replaceWebhook(deps)({ id: failed.id, body: { ...own, verify: false }, principal: asA }))).toMatchObject({ kind: 'Forbidden' });
    }
    expect(s.webhooks.rows.get(failed.id)?.verified).toBe(false);
    // A webhook stored before the setting (no verification) is challenged again when its URL changes.
    const old = aWebhook({ tenantId: A, attributes: { serviceId: 'svc-a' }, subscriptions: ['service:subscribed'] });
    s.webhooks.rows.set(old.id, old);
    expect((await right(patchWebhook(strict)({ id: old.id, body: { headers: { 'X-A': '1' } }, principal: asA }))).verified).toBe(true);
    expect((await right(patchWebhook(strict)({ id: old.id, body: { url: 'https://elsewhere.example/' }, principal: asA }))).verified).toBe(false);
    expect((await right(createWebhook(strict)({ ...own, verify: false }))).verified).toBeUndefined();
    expect((await right(patchWebhook(strict)({ id: failed.id, body: { verify: false } }))).verified).toBeUndefined();
  });
});

describe('grants at delivery planning', () => {
  const EVENT = '01J0000000000000000000EVNT' as EventId;
  const plan = async (event: { name: string; payload: Record<string, unknown> }, webhooks: Webhook[], grants: Record<string, RoutingGrants>) => {
    const events = memoryEventStore();
    const store = memoryWebhookStore();
    const queue = memoryDeliveryQueue();
    for (const w of webhooks) store.rows.set(w.id, w);
    events.rows.set(EVENT, { id: EVENT, ...event, receivedAt: 'x', status: 'accepted' } as never);
    const asked: string[] = [];
    const grantsOf: TenantGrants = (id) => (asked.push(id), TE.right(grants[id]));
    let cursor: Parameters<ReturnType<typeof enqueueFanOutPage>>[0] | undefined = { eventId: EVENT, planIndex: 0 };
    while (cursor !== undefined) cursor = (await right(enqueueFanOutPage({ events, webhooks: store, queue, pageSize: 10, maxDeliveriesPerMessage: 50, grantsOf })(cursor))).next;
    return { to: queue.sent.flatMap((m) => m.message.items.map((i) => i.webhookId)).sort(), asked };
  };
  const hook = (tenantId: TenantId | undefined, attributes: Record<string, string>) =>
    aWebhook({ subscriptions: ['service:subscribed', 'ping'], attributes, ...(tenantId === undefined ? {} : { tenantId }) });

  it('a tenant webhook receives targeted events, AUTO fan-outs and ping:all pings only for values its tenant holds; admin webhooks always', async () => {
    const a = hook(A, { serviceId: 'svc-b', name: 'a-ping' });
    const b = hook(B, { serviceId: 'svc-b', name: 'b-ping' });
    const admin = hook(undefined, { serviceId: 'svc-b', name: 'admin' });
    const grants: Record<string, RoutingGrants> = { [A]: { serviceId: ['svc-a'], name: ['a-ping'] }, [B]: { serviceId: ['svc-b'] } };
    const all = [a, b, admin];
    expect((await plan({ name: 'service:subscribed', payload: { serviceId: 'svc-b', fiscalCode: FISCAL_CODE } }, all, grants)).to).toEqual([b.id, admin.id].sort());
    expect((await plan({ name: 'profile:completed', payload: { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'AUTO' } }, all, grants)).to).toEqual([b.id, admin.id].sort());
    expect((await plan({ name: 'ping:all', payload: {} }, all, grants)).to).toEqual([a.id, admin.id].sort());
    // A tenant that no longer exists holds nothing; pages of admin webhooks never ask.
    expect((await plan({ name: 'ping:all', payload: {} }, all, {})).to).toEqual([admin.id]);
    expect((await plan({ name: 'ping:all', payload: {} }, [admin], grants)).asked).toEqual([]);
  });
});

describe('initialisation and the cache', () => {
  it('a tenant stored before grants gets the values its webhooks use, once, with one line of counts', async () => {
    const s = setup();
    const C = 'CCCCCCCCCCCCCCCCCCCCCCCCCC' as TenantId;
    s.tenants.rows.set(A, aTenant(A));
    s.tenants.rows.set(C, aTenant(C, { serviceId: ['s2'] }));
    for (const attributes of [{ serviceId: 's1' }, { serviceId: 's2', name: 'n' }, { serviceId: 's1' }] as Record<string, string>[])
      await right(s.webhooks.create(aWebhook({ tenantId: A, attributes })));
    await right(s.webhooks.create(aWebhook({ tenantId: B, attributes: { serviceId: 'other' } })));
    const tenant = await right(ensureGrants(s.grantsDeps)(aTenant(A)));
    expect(tenant.routing).toEqual({ serviceId: ['s1', 's2'], name: ['n'] });
    // Another tenant already holds s2: the line names it (ids and counts, never the values).
    expect(s.lines).toEqual([
      `tenant ${A}: routing grants initialised from 3 webhooks (serviceId: 2, name: 1); 1 of these values are also granted to tenant(s) ${C}: review with GET /api/tenants/{id}`,
    ]);
    // Another instance got there first: its grants stand, and no second line.
    s.tenants.rows.set(B, aTenant(B, { serviceId: [] }));
    expect((await right(ensureGrants(s.grantsDeps)(aTenant(B)))).routing).toEqual({ serviceId: [] });
    expect(s.lines).toHaveLength(1);
  });

  it('the first cache load after an upgrade initialises every tenant, and names the tenants that routed on the same value', async () => {
    const s = setup();
    s.tenants.rows.set(A, aTenant(A));
    s.tenants.rows.set(B, aTenant(B));
    await right(s.webhooks.create(aWebhook({ tenantId: A, attributes: { serviceId: 'svc-b' } })));
    await right(s.webhooks.create(aWebhook({ tenantId: B, attributes: { serviceId: 'svc-b', name: 'n' } })));
    const cache = grantsCache({ ...s.grantsDeps, clock: s.clock, ttlSeconds: 5 });
    expect(await right(cache.grantsOf(B))).toEqual({ serviceId: ['svc-b'], name: ['n'] });
    expect(s.lines).toEqual([
      `tenant ${A}: routing grants initialised from 1 webhooks (serviceId: 1)`,
      `tenant ${B}: routing grants initialised from 1 webhooks (name: 1, serviceId: 1); 1 of these values are also granted to tenant(s) ${A}: review with GET /api/tenants/{id}`,
    ]);
    s.clock.advance(5000);
    await right(cache.grantsOf(A));
    expect(s.lines).toHaveLength(2);
  });

  it('new tenants hold what they are given (nothing by default); PUT replaces and drops the cache', async () => {
    const s = setup();
    const created = await right(createTenant({ tenants: s.tenants, clock: s.clock, randomBytes: s.deps.randomBytes })({ name: 'x' }));
    expect(created.tenant.routing).toEqual({});
    let dropped = 0;
    const set = setTenantRouting({ tenants: s.tenants, onChange: () => void (dropped += 1) });
    expect((await right(set({ id: created.tenant.id, body: { name: ['n'] } }))).routing).toEqual({ name: ['n'] });
    expect(await left(set({ id: created.tenant.id, body: { color: [] } }))).toMatchObject({ kind: 'Invalid', details: ['color: must be a routing attribute (name, serviceId)'] });
    expect(await left(set({ id: 'nope', body: {} }))).toMatchObject({ kind: 'NotFound' });
    expect(dropped).toBe(1);
    expect(s.tenants.rows.get(created.tenant.id)?.routing).toEqual({ name: ['n'] });
  });

  it('the cache sees a change made elsewhere only after its TTL, its own invalidation at once, and keeps no failed load', async () => {
    const s = setup();
    s.tenants.rows.set(A, aTenant(A, { serviceId: ['s1'] }));
    const cache = grantsCache({ ...s.grantsDeps, clock: s.clock, ttlSeconds: 5 });
    expect(await right(cache.grantsOf(A))).toEqual({ serviceId: ['s1'] });
    s.tenants.rows.set(A, aTenant(A, {}));
    expect(await right(cache.grantsOf(A))).toEqual({ serviceId: ['s1'] });
    s.clock.advance(5000);
    expect(await right(cache.grantsOf(A))).toEqual({});
    s.tenants.rows.set(A, aTenant(A, { name: ['n'] }));
    cache.invalidate();
    expect(await right(cache.grantsOf(A))).toEqual({ name: ['n'] });
    expect(await right(cache.grantsOf(B))).toBeUndefined();
    cache.invalidate();
    s.tenants.failWith = { kind: 'Transient', message: 'down' };
    expect(await left(cache.grantsOf(A))).toMatchObject({ kind: 'Transient' });
    s.tenants.failWith = undefined;
    expect(await right(cache.grantsOf(A))).toEqual({ name: ['n'] });
  });
});
