import * as E from 'fp-ts/Either';
import { decodePayload, type EventName, planForEvent } from '../catalogue';
import { type Delivery, deliveriesFor, matches } from '../mapping';
import type { Webhook } from '../webhook';
import { aWebhook, FISCAL_CODE } from './fixtures';

/** Decodes like ingest does, then plans and maps over one page of webhooks. */
const deliver = (name: EventName, payload: unknown, webhooks: Webhook[]): Delivery[] => {
  const decoded = decodePayload(name, payload);
  if (E.isLeft(decoded)) throw new Error(`fixture payload does not decode for ${name}`);
  return planForEvent(decoded.right).flatMap((plan) => deliveriesFor(plan, webhooks));
};

const bodies = (deliveries: Delivery[]) => deliveries.map((d) => ({ to: d.webhook.id, body: d.body }));

describe('event mapping (DESIGN.md section 2)', () => {
  const named = aWebhook({ subscriptions: ['ping'], attributes: { name: 'wh1' } });
  const namedWildcard = aWebhook({ subscriptions: ['*'], attributes: { name: 'wh2', serviceId: 'svc-2' } });
  const namedOtherEvent = aWebhook({ subscriptions: ['service:subscribed'], attributes: { name: 'wh3', serviceId: 'svc-3' } });
  const unnamed = aWebhook({ subscriptions: ['ping'], attributes: {} });
  const emptyName = aWebhook({ subscriptions: ['ping'], attributes: { name: '' } });
  const disabledNamed = aWebhook({ subscriptions: ['ping'], attributes: { name: 'wh4' }, disabled: true });
  const service1 = aWebhook({ subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-1' } });
  const service1Disabled = aWebhook({ subscriptions: ['service:subscribed'], attributes: { serviceId: 'svc-1b' }, disabled: true });
  const service1OnlyPing = aWebhook({ subscriptions: ['ping'], attributes: { serviceId: 'svc-5', name: 'wh5' } });
  const all = [named, namedWildcard, namedOtherEvent, unnamed, emptyName, disabledNamed, service1, service1Disabled, service1OnlyPing];

  describe('ping (public)', () => {
    it('reaches the enabled subscribers whose name attribute equals the payload name, without the name in the body', () => {
      expect(bodies(deliver('ping', { name: 'wh1' }, all))).toEqual([{ to: named.id, body: { name: 'ping', payload: {} } }]);
    });
    it('never reaches a subscriber without a non-empty name attribute (a required attribute)', () => {
      expect(deliver('ping', { name: 'anything' }, [unnamed, emptyName])).toEqual([]);
    });
    it('never reaches a disabled webhook', () => {
      expect(deliver('ping', { name: 'wh4' }, [disabledNamed])).toEqual([]);
    });
  });

  describe('ping:all (non-public)', () => {
    it('becomes one ping per enabled webhook with a non-empty name that subscribes to ping (directly or by *)', () => {
      const result = bodies(deliver('ping:all', undefined, all));
      expect(result).toEqual([
        { to: named.id, body: { name: 'ping', payload: {} } },
        { to: namedWildcard.id, body: { name: 'ping', payload: {} } },
        { to: service1OnlyPing.id, body: { name: 'ping', payload: {} } },
      ]);
    });
    it('accepts an empty payload object too', () => {
      expect(deliver('ping:all', {}, [named])).toHaveLength(1);
    });
  });

  describe('service:subscribed (public)', () => {
    it('reaches the subscribers of that serviceId only, with the fiscal code and without the serviceId', () => {
      expect(bodies(deliver('service:subscribed', { serviceId: 'svc-1', fiscalCode: FISCAL_CODE }, all))).toEqual([
        { to: service1.id, body: { name: 'service:subscribed', payload: { fiscalCode: FISCAL_CODE } } },
      ]);
    });
    it('reaches nobody for an unknown serviceId', () => {
      expect(deliver('service:subscribed', { serviceId: 'svc-unknown', fiscalCode: FISCAL_CODE }, all)).toEqual([]);
    });
  });

  describe('profile:completed (non-public)', () => {
    it('AUTO becomes one service:subscribed per enabled webhook with a serviceId that subscribes to it', () => {
      expect(bodies(deliver('profile:completed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'AUTO' }, all))).toEqual([
        { to: namedWildcard.id, body: { name: 'service:subscribed', payload: { fiscalCode: FISCAL_CODE } } },
        { to: namedOtherEvent.id, body: { name: 'service:subscribed', payload: { fiscalCode: FISCAL_CODE } } },
        { to: service1.id, body: { name: 'service:subscribed', payload: { fiscalCode: FISCAL_CODE } } },
      ]);
    });
    it.each(['MANUAL', 'LEGACY'])('%s reaches nobody', (mode) => {
      expect(deliver('profile:completed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: mode }, all)).toEqual([]);
    });
  });

  describe('profile:service-preferences-changed (non-public)', () => {
    it('a change to AUTO behaves as profile:completed with AUTO', () => {
      const changed = deliver('profile:service-preferences-changed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'AUTO', oldServicePreferencesMode: 'MANUAL' }, all);
      const completed = deliver('profile:completed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'AUTO' }, all);
      expect(changed).toEqual(completed);
      expect(changed).toHaveLength(3);
    });
    it.each([
      ['MANUAL', 'AUTO'],
      ['LEGACY', 'AUTO'],
      ['MANUAL', 'LEGACY'],
    ])('a change to %s (from %s) reaches nobody', (mode, old) => {
      expect(deliver('profile:service-preferences-changed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: mode, oldServicePreferencesMode: old }, all)).toEqual([]);
    });
  });

  it('never leaks an attribute into a body, whatever the attributes are', () => {
    const webhooks = [aWebhook({ attributes: { name: 'n', serviceId: 's', fiscalCode: FISCAL_CODE, extra: 'x' } })];
    const results = [
      ...deliver('ping', { name: 'n' }, webhooks),
      ...deliver('ping:all', {}, webhooks),
      ...deliver('service:subscribed', { serviceId: 's', fiscalCode: FISCAL_CODE }, webhooks),
      ...deliver('profile:completed', { fiscalCode: FISCAL_CODE, servicePreferencesMode: 'AUTO' }, webhooks),
    ];
    expect(results).toHaveLength(4);
    for (const d of results) expect(d.body.payload).toEqual({});
  });

  it('requires payload fields that are also attributes to be equal (a fiscalCode attribute filters by fiscal code)', () => {
    const onlyOther = aWebhook({ attributes: { serviceId: 's', fiscalCode: 'ZZZYYY00A00A000B' } });
    expect(deliver('service:subscribed', { serviceId: 's', fiscalCode: FISCAL_CODE }, [onlyOther])).toEqual([]);
  });

  it('matches() checks enabled, subscription, required attributes and equality', () => {
    const w = aWebhook({ subscriptions: ['ping'], attributes: { name: 'a' } });
    expect(matches('ping', { name: 'a' }, w)).toBe(true);
    expect(matches('ping', { name: 'b' }, w)).toBe(false);
    expect(matches('service:subscribed', { serviceId: 'a', fiscalCode: FISCAL_CODE }, w)).toBe(false);
    expect(matches('ping', { name: 'a' }, { ...w, disabled: true })).toBe(false);
  });

  it('drops payload fields the catalogue does not name', () => {
    expect(bodies(deliver('service:subscribed', { serviceId: 'svc-1', fiscalCode: FISCAL_CODE, secretStuff: 'x' }, [service1]))).toEqual([
      { to: service1.id, body: { name: 'service:subscribed', payload: { fiscalCode: FISCAL_CODE } } },
    ]);
  });

  it('works page by page: the union of the pages is the result over all webhooks', () => {
    const decoded = decodePayload('ping:all', {});
    if (E.isLeft(decoded)) throw new Error('decode');
    const [plan] = planForEvent(decoded.right);
    if (plan === undefined) throw new Error('no plan');
    const paged = [all.slice(0, 4), all.slice(4)].flatMap((page) => deliveriesFor(plan, page));
    expect(paged).toEqual(deliveriesFor(plan, all));
  });
});
