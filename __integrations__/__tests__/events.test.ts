import { signatureProblem } from '../src/deliveries';
import { createScenario, type Endpoint, type ExpectedDelivery, randomFiscalCode, type Scenario } from '../src/scenario';

/*
 * The event catalogue (DESIGN.md section 2) end to end: the backend posts through the ingest API,
 * integrated projects register through the registry API and receive signed deliveries.
 */

let scenario: Scenario;
beforeEach(() => {
  scenario = createScenario();
});
afterEach(async () => {
  await scenario.dispose();
});

const ping = { name: 'ping', payload: {} };
const serviceSubscribed = (fiscalCode: string) => ({ name: 'service:subscribed', payload: { fiscalCode } });

/** A ping webhook whose only job is to prove the dispatcher has worked through what came before. */
const sentinel = async (): Promise<{ endpoint: Endpoint; post: () => Promise<unknown>; expected: ExpectedDelivery }> => {
  const name = scenario.unique('sentinel');
  const endpoint = await scenario.endpoint({ name: 'sentinel', subscriptions: ['ping'], attributes: { name } });
  return { endpoint, post: () => scenario.post({ name: 'ping', payload: { name } }), expected: { endpoint, body: ping } };
};

describe('three webhooks with different subscriptions and attributes', () => {
  test('each event reaches exactly the webhooks that match it, without their own attributes, signed and with their headers', async () => {
    const [n1, n3, s2, s3] = [scenario.unique('wh1'), scenario.unique('wh3'), scenario.unique('service2'), scenario.unique('service3')];
    const w1 = await scenario.endpoint({ name: 'W1', subscriptions: ['ping'], attributes: { name: n1 }, headers: { 'X-Project': 'one' } });
    const w2 = await scenario.endpoint({
      name: 'W2',
      subscriptions: ['service:subscribed'],
      attributes: { serviceId: s2, environment: 'test' },
      headers: { Authorization: 'Bearer w2-token', 'X-Project': 'two' },
    });
    const w3 = await scenario.endpoint({ name: 'W3', subscriptions: ['ping', 'service:subscribed'], attributes: { name: n3, serviceId: s3 } });
    const [fc2, fc3] = [randomFiscalCode(), randomFiscalCode()];

    await scenario.post({ name: 'ping', payload: { name: n1 } });
    await scenario.post({ name: 'ping', payload: { name: n3 } });
    await scenario.post({ name: 'service:subscribed', payload: { serviceId: s2, fiscalCode: fc2 } });
    await scenario.post({ name: 'service:subscribed', payload: { serviceId: s3, fiscalCode: fc3 } });

    await scenario.expectDeliveries([
      { endpoint: w1, body: ping },
      { endpoint: w2, body: serviceSubscribed(fc2) },
      { endpoint: w3, body: ping },
      { endpoint: w3, body: serviceSubscribed(fc3) },
    ]);
    // Each webhook has its own secret: W1's delivery must not verify with W2's.
    const arrival = w1.receiver.arrivals[0];
    expect(arrival).toBeDefined();
    expect(signatureProblem(arrival!, w2.webhook.secret)).toMatch(/does not verify/);
    expect(w1.webhook.secret).not.toEqual(w2.webhook.secret);
  });
});

describe('ping', () => {
  test.each([1, 5, 10, 100])('%i ping(s) to one webhook arrive once each, and at no other webhook', async (count) => {
    const name = scenario.unique('pinged');
    const target = await scenario.endpoint({ name: 'target', subscriptions: ['ping'], attributes: { name } });
    const other = await scenario.endpoint({ name: 'other', subscriptions: ['ping'], attributes: { name: scenario.unique('other') } });
    const accepted = await scenario.postAll(Array.from({ length: count }, () => ({ name: 'ping', payload: { name } })));
    expect(new Set(accepted.map((a) => a.id)).size).toBe(count);
    await scenario.expectDeliveries([{ endpoint: target, body: ping, count }]);
    expect(other.receiver.arrivals).toHaveLength(0);
  });

  test('an event posted twice with the same id is delivered once', async () => {
    const name = scenario.unique('twice');
    const target = await scenario.endpoint({ name: 'target', subscriptions: ['ping'], attributes: { name } });
    const id = scenario.unique('event');
    const first = await scenario.post({ id, name: 'ping', payload: { name } });
    const second = await scenario.post({ id, name: 'ping', payload: { name } });
    expect([first.id, second.id]).toEqual([id, id]);
    await scenario.expectDeliveries([{ endpoint: target, body: ping }]);
  });
});

describe('ping:all', () => {
  test('reaches exactly the enabled webhooks that have a name attribute and subscribe to ping', async () => {
    const named = await scenario.endpoint({ name: 'named', subscriptions: ['ping'], attributes: { name: scenario.unique('named') } });
    const namedToo = await scenario.endpoint({
      name: 'named-too',
      subscriptions: ['ping', 'service:subscribed'],
      attributes: { name: scenario.unique('named-too'), serviceId: scenario.unique('svc') },
    });
    await scenario.endpoint({ name: 'named-not-subscribed', subscriptions: ['service:subscribed'], attributes: { name: scenario.unique('nns'), serviceId: scenario.unique('svc') } });
    await scenario.endpoint({ name: 'unnamed', subscriptions: ['ping'], attributes: { serviceId: scenario.unique('svc') } });
    await scenario.endpoint({ name: 'named-disabled', subscriptions: ['ping'], attributes: { name: scenario.unique('disabled') }, disabled: true });

    await scenario.post({ name: 'ping:all' });

    await scenario.expectDeliveries([
      { endpoint: named, body: ping },
      { endpoint: namedToo, body: ping },
    ]);
  });
});

describe('service:subscribed', () => {
  test('for a mapped service reaches the webhook of that service only, with the fiscal code', async () => {
    const serviceId = scenario.unique('mapped');
    const mapped = await scenario.endpoint({ name: 'mapped', subscriptions: ['service:subscribed'], attributes: { serviceId } });
    await scenario.endpoint({ name: 'other-service', subscriptions: ['service:subscribed'], attributes: { serviceId: scenario.unique('other') } });
    await scenario.endpoint({ name: 'same-service-ping-only', subscriptions: ['ping'], attributes: { serviceId, name: scenario.unique('p') } });
    const fiscalCode = randomFiscalCode();
    await scenario.post({ name: 'service:subscribed', payload: { serviceId, fiscalCode } });
    await scenario.expectDeliveries([{ endpoint: mapped, body: serviceSubscribed(fiscalCode) }]);
  });

  test('for an unmapped service reaches no webhook', async () => {
    await scenario.endpoint({ name: 'service-a', subscriptions: ['service:subscribed'], attributes: { serviceId: scenario.unique('a') } });
    await scenario.endpoint({ name: 'service-b', subscriptions: ['service:subscribed'], attributes: { serviceId: scenario.unique('b') } });
    const done = await sentinel();
    await scenario.post({ name: 'service:subscribed', payload: { serviceId: scenario.unique('unmapped'), fiscalCode: randomFiscalCode() } });
    await done.post();
    await scenario.expectDeliveries([done.expected]);
  });
});

/** Webhooks for the profile events: two services, and two that must never get service:subscribed. */
const profileEndpoints = async () => ({
  serviceX: await scenario.endpoint({ name: 'service-x', subscriptions: ['service:subscribed'], attributes: { serviceId: scenario.unique('x') } }),
  serviceY: await scenario.endpoint({ name: 'service-y', subscriptions: ['service:subscribed', 'ping'], attributes: { serviceId: scenario.unique('y') }, headers: { 'X-Tenant': 'y' } }),
  // Has a serviceId but does not subscribe; and a subscriber without a serviceId.
  notSubscribed: await scenario.endpoint({ name: 'service-not-subscribed', subscriptions: ['ping'], attributes: { serviceId: scenario.unique('z'), name: scenario.unique('z') } }),
  noServiceId: await scenario.endpoint({ name: 'no-service-id', subscriptions: ['service:subscribed'], attributes: { name: scenario.unique('n') } }),
  done: await sentinel(),
});

describe('profile:completed', () => {
  test('with AUTO becomes one service:subscribed for every webhook with a serviceId', async () => {
    const e = await profileEndpoints();
    const fiscalCode = randomFiscalCode();
    await scenario.post({ name: 'profile:completed', payload: { fiscalCode, servicePreferencesMode: 'AUTO' } });
    await e.done.post();
    await scenario.expectDeliveries([{ endpoint: e.serviceX, body: serviceSubscribed(fiscalCode) }, { endpoint: e.serviceY, body: serviceSubscribed(fiscalCode) }, e.done.expected]);
  });

  test.each(['MANUAL', 'LEGACY'])('with %s is delivered to nobody', async (servicePreferencesMode) => {
    const e = await profileEndpoints();
    await scenario.post({ name: 'profile:completed', payload: { fiscalCode: randomFiscalCode(), servicePreferencesMode } });
    await e.done.post();
    await scenario.expectDeliveries([e.done.expected]);
  });
});

describe('profile:service-preferences-changed', () => {
  test.each([
    ['AUTO', 'MANUAL'],
    ['AUTO', 'LEGACY'],
  ])('to %s (from %s) becomes one service:subscribed for every webhook with a serviceId', async (servicePreferencesMode, oldServicePreferencesMode) => {
    const e = await profileEndpoints();
    const fiscalCode = randomFiscalCode();
    await scenario.post({ name: 'profile:service-preferences-changed', payload: { fiscalCode, servicePreferencesMode, oldServicePreferencesMode } });
    await e.done.post();
    await scenario.expectDeliveries([{ endpoint: e.serviceX, body: serviceSubscribed(fiscalCode) }, { endpoint: e.serviceY, body: serviceSubscribed(fiscalCode) }, e.done.expected]);
  });

  test.each([
    ['MANUAL', 'AUTO'],
    ['LEGACY', 'AUTO'],
  ])('to %s (from %s) is delivered to nobody', async (servicePreferencesMode, oldServicePreferencesMode) => {
    const e = await profileEndpoints();
    await scenario.post({ name: 'profile:service-preferences-changed', payload: { fiscalCode: randomFiscalCode(), servicePreferencesMode, oldServicePreferencesMode } });
    await e.done.post();
    await scenario.expectDeliveries([e.done.expected]);
  });
});

describe('a disabled webhook', () => {
  test('gets nothing while disabled, and deliveries again once enabled', async () => {
    const name = scenario.unique('disabled');
    const disabled = await scenario.endpoint({ name: 'disabled', subscriptions: ['ping'], attributes: { name }, disabled: true });
    expect(disabled.webhook.disabled).toBe(true);
    const done = await sentinel();
    await scenario.post({ name: 'ping', payload: { name } });
    await done.post();
    await scenario.expectDeliveries([done.expected]);

    expect((await scenario.client.patchWebhook(disabled.webhook.id, { disabled: false })).disabled).toBe(false);
    await scenario.post({ name: 'ping', payload: { name } });
    // Cumulative: the sentinel's delivery is still there, and the re-enabled webhook gets exactly one.
    await scenario.expectDeliveries([done.expected, { endpoint: disabled, body: ping }]);
  });
});
