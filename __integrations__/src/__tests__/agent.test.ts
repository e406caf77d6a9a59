import * as E from 'fp-ts/Either';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { arrivalProblems, canonicalJson, deliveryProblems, groupDeliveries } from '../deliveries';
import { answer, type Arrival, failTimesThenAnswer, hang, startReceiver } from '../receiver';
import { decodeAgentSettings, decodeExternalDispatcherSettings } from '../settings';
import { randomFiscalCode } from '../scenario';
import { expectQuietFor, waitFor } from '../waitFor';

/*
 * The agent checks itself: a test agent whose checks cannot fail proves nothing, so each check is
 * shown failing on a request that breaks the contract.
 */

const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;

const signed = (options: { id: string; body: string; secret?: string; headers?: Record<string, string> }): Arrival => {
  const timestamp = new Date();
  const signature = new StandardWebhook(options.secret ?? SECRET).sign(options.id, timestamp, options.body);
  return {
    index: 0,
    receivedAtMs: Date.now(),
    method: 'POST',
    path: '/hooks/x',
    headers: {
      'content-type': 'application/json',
      'webhook-id': options.id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signature,
      ...options.headers,
    },
    body: options.body,
    reply: answer(204),
  };
};

describe('arrivalProblems', () => {
  const webhook = { secret: SECRET, headers: { 'X-Project': 'one' } };
  const body = '{"name":"ping","payload":{}}';

  test('accepts a request that keeps the contract', () => {
    expect(arrivalProblems(signed({ id: 'msg_1', body, headers: { 'x-project': 'one' } }), webhook)).toEqual([]);
  });

  test('rejects a signature made with another secret, or over another body', () => {
    const other = `whsec_${Buffer.from('another secret of thirty-two byte').toString('base64')}`;
    expect(arrivalProblems(signed({ id: 'msg_1', body, secret: other, headers: { 'x-project': 'one' } }), webhook).join()).toMatch(/signature does not verify/);
    const tampered = { ...signed({ id: 'msg_1', body, headers: { 'x-project': 'one' } }), body: '{"name":"ping","payload":{"x":1}}' };
    expect(arrivalProblems(tampered, webhook).join()).toMatch(/signature does not verify/);
  });

  test('rejects a missing custom header, a wrong method, a missing webhook-id and a body that is not an event', () => {
    const arrival = signed({ id: 'msg_1', body });
    expect(arrivalProblems(arrival, webhook)).toEqual(['custom header X-Project is undefined, expected "one"']);
    expect(arrivalProblems({ ...arrival, method: 'PUT', headers: { ...arrival.headers, 'x-project': 'one' } }, webhook)).toEqual(['method is PUT, expected POST']);
    const { 'webhook-id': _id, ...withoutId } = arrival.headers;
    expect(arrivalProblems({ ...arrival, headers: { ...withoutId, 'x-project': 'one' } }, webhook).join('\n')).toMatch(/header webhook-id is missing/);
    expect(arrivalProblems(signed({ id: 'msg_2', body: '[1]', headers: { 'x-project': 'one' } }), webhook).join()).toMatch(/not a JSON/);
  });
});

describe('groupDeliveries', () => {
  test('groups attempts by webhook-id and flags a retry that changed the body', () => {
    const a1 = { ...signed({ id: 'msg_a', body: '{"name":"ping","payload":{}}' }), index: 0 };
    const b1 = { ...signed({ id: 'msg_b', body: '{"name":"ping","payload":{}}' }), index: 1 };
    const a2 = { ...signed({ id: 'msg_a', body: '{"name":"ping","payload":{"changed":true}}' }), index: 2 };
    const deliveries = groupDeliveries([a2, b1, a1]);
    expect(deliveries.map((d) => [d.webhookId, d.attempts.length])).toEqual([
      ['msg_a', 2],
      ['msg_b', 1],
    ]);
    expect(deliveryProblems(deliveries[0]!)).toEqual(['webhook-id msg_a: the attempts carried different bodies']);
    expect(deliveryProblems(deliveries[1]!)).toEqual([]);
  });

  test('canonicalJson ignores key order only', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, 2] }, b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });
});

describe('receiver', () => {
  test('answers as scripted, in order, and records method, headers and body', async () => {
    const receiver = await startReceiver({ name: 'unit', script: failTimesThenAnswer({ times: 2, failure: answer(503) }), bindHost: '127.0.0.1', publicHost: '127.0.0.1' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(receiver.url, { method: 'POST', headers: { 'x-n': String(i) }, body: `body ${i}` })).status);
      expect(statuses).toEqual([503, 503, 204]);
      expect(receiver.arrivals.map((a) => [a.method, a.headers['x-n'], a.body])).toEqual([
        ['POST', '0', 'body 0'],
        ['POST', '1', 'body 1'],
        ['POST', '2', 'body 2'],
      ]);
    } finally {
      await receiver.close();
    }
  });

  test('a hanging reply records the request and never answers; close() ends it', async () => {
    const receiver = await startReceiver({ name: 'hang', script: { first: [hang], then: answer(200) }, bindHost: '127.0.0.1', publicHost: '127.0.0.1' });
    const pending = fetch(receiver.url, { method: 'POST', body: 'x' }).then(
      (r) => `answered ${r.status}`,
      () => 'failed',
    );
    await waitFor({ what: 'the request to be recorded', timeoutMs: 5_000, condition: () => receiver.arrivals.length === 1 });
    await receiver.close();
    expect(await pending).toBe('failed');
  });
});

describe('waitFor and expectQuietFor', () => {
  test('waitFor reports what is missing on timeout', async () => {
    await expect(waitFor({ what: 'a miracle', timeoutMs: 100, condition: () => false, missing: () => 'still 0 of 1' })).rejects.toThrow(/Timed out after 100 ms waiting for a miracle\nstill 0 of 1/);
  });

  test('expectQuietFor fails as soon as something unexpected shows up', async () => {
    let calls = 0;
    await expect(expectQuietFor({ what: 'silence', periodMs: 5_000, unexpected: () => (++calls > 2 ? 'a late delivery' : undefined) })).rejects.toThrow(/Expected silence .*\na late delivery/);
  });
});

describe('settings', () => {
  test('default to the embedded mode on loopback', () => {
    expect(decodeAgentSettings({})).toEqual(
      E.right({ INTEGRATION_MODE: 'embedded', DELIVERY_WAIT_MS: 60000, GRACE_PERIOD_MS: 1500, STARTUP_TIMEOUT_MS: 60000, RECEIVER_BIND_HOST: '127.0.0.1', RECEIVER_HOST: '127.0.0.1' }),
    );
  });

  test('know the container mode (the app image on the real Functions host)', () => {
    const decoded = decodeAgentSettings({ INTEGRATION_MODE: 'container', RECEIVER_BIND_HOST: '0.0.0.0', RECEIVER_HOST: 'host.docker.internal' });
    expect(E.isRight(decoded) && decoded.right.INTEGRATION_MODE).toBe('container');
  });

  test('name every bad setting without echoing values', () => {
    const result = decodeAgentSettings({ INTEGRATION_MODE: 'kubernetes', GRACE_PERIOD_MS: '-1' });
    expect(E.isLeft(result) && result.left.message).toMatch(/INTEGRATION_MODE[\s\S]*GRACE_PERIOD_MS: must be a whole number/);
    const external = decodeExternalDispatcherSettings({ DISPATCHER_URL: 'http://app:80/api', INGEST_API_KEY: 'short' });
    const message = E.isLeft(external) ? external.left.message : '';
    expect(message).toMatch(/DISPATCHER_URL: must be an http\(s\) URL without a trailing path/);
    expect(message).toMatch(/INGEST_API_KEY: must be a key of at least 32 characters/);
    expect(message).toMatch(/ADMIN_API_KEY/);
    expect(message).not.toContain('short');
  });

  test('accept an external dispatcher', () => {
    expect(decodeExternalDispatcherSettings({ DISPATCHER_URL: 'http://app:80/', INGEST_API_KEY: 'i'.repeat(32), ADMIN_API_KEY: 'a'.repeat(32) })).toEqual(
      E.right({ DISPATCHER_URL: 'http://app', INGEST_API_KEY: 'i'.repeat(32), ADMIN_API_KEY: 'a'.repeat(32) }),
    );
  });
});

describe('randomFiscalCode', () => {
  test('always has the pattern the dispatcher checks', () => {
    const pattern = /^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$/;
    for (let i = 0; i < 200; i++) expect(randomFiscalCode()).toMatch(pattern);
  });
});
