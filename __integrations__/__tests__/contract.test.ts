import { createScenario, randomFiscalCode, type Scenario } from '../src/scenario';

/*
 * The HTTP contracts an outside client relies on (DESIGN.md section 5): keys, answers and errors of
 * ingest, the registry and health. Deliveries are the other files' business.
 */

let scenario: Scenario;
beforeEach(() => {
  scenario = createScenario();
});
afterEach(async () => {
  await scenario.dispose();
});

const keys = () => ({ ingest: process.env.INGEST_API_KEY ?? '', admin: process.env.ADMIN_API_KEY ?? '' });

describe('GET /api/health', () => {
  test('answers 200 {"status":"ok"} without a key', async () => {
    const answer = await scenario.client.health();
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ status: 'ok' });
  });
});

describe('POST /api/events', () => {
  const event = () => ({ name: 'ping', payload: { name: scenario.unique('nobody') } });

  test.each([
    ['no key', undefined],
    ['a wrong key', 'not-the-ingest-key-at-all'],
  ])('answers 401 with %s', async (_, key) => {
    const answer = await scenario.client.request({ method: 'POST', path: '/api/events', key, body: event() });
    expect(answer.status).toBe(401);
  });

  test('answers 401 with the admin key: one leaked key must not open the other door', async () => {
    expect((await scenario.client.request({ method: 'POST', path: '/api/events', key: keys().admin, body: event() })).status).toBe(401);
  });

  test('answers 400 naming the problem for an unknown event or a bad payload', async () => {
    const unknown = await scenario.client.request({ method: 'POST', path: '/api/events', key: keys().ingest, body: { name: 'no:such-event', payload: {} } });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('no:such-event');
    const badPayload = await scenario.client.request({
      method: 'POST',
      path: '/api/events',
      key: keys().ingest,
      body: { name: 'profile:completed', payload: { fiscalCode: 'not-a-fiscal-code', servicePreferencesMode: 'AUTO' } },
    });
    expect(badPayload.status).toBe(400);
    expect(badPayload.text).toContain('fiscalCode');
    const notJson = await scenario.client.request({ method: 'POST', path: '/api/events', key: keys().ingest, body: '{"name":' });
    expect(notJson.status).toBe(400);
  });

  test('answers 413 for a body over the size limit', async () => {
    // Larger than any limit the dispatcher accepts: a queue message holds at most 64 KB.
    const huge = { name: 'ping', payload: { name: 'x'.repeat(100 * 1024) } };
    expect((await scenario.client.request({ method: 'POST', path: '/api/events', key: keys().ingest, body: huge })).status).toBe(413);
  });

  test('answers 202 with the id it was given, or a new one', async () => {
    const id = scenario.unique('given');
    expect(await scenario.client.postEvent({ id, name: 'service:subscribed', payload: { serviceId: scenario.unique('nobody'), fiscalCode: randomFiscalCode() } })).toEqual({ id });
    const generated = await scenario.client.postEvent(event());
    expect(generated.id).toMatch(/^[A-Za-z0-9_.:-]{1,128}$/);
  });
});

describe('/api/webhooks', () => {
  const input = () => ({ url: 'http://127.0.0.1:9/unused', subscriptions: ['ping'], attributes: { name: scenario.unique('registry') }, headers: { 'X-Project': 'p' } });

  test.each([
    ['no key', undefined],
    ['the ingest key', 'ingest'],
  ])('answers 401 with %s', async (_, which) => {
    const key = which === 'ingest' ? keys().ingest : undefined;
    expect((await scenario.client.request({ method: 'POST', path: '/api/webhooks', key, body: input() })).status).toBe(401);
    expect((await scenario.client.request({ method: 'GET', path: '/api/webhooks', key })).status).toBe(401);
  });

  test('creates (201, with a whsec_ secret), shows without the secret, patches and deletes', async () => {
    const body = input();
    const created = await scenario.client.createWebhook(body);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const { headers: _headers, ...withoutHeaders } = body;
    expect(created).toMatchObject({ ...withoutHeaders, headerNames: ['X-Project'], disabled: false });
    expect(created).not.toHaveProperty('headers');
    const shown = await scenario.client.request({ method: 'GET', path: `/api/webhooks/${created.id}`, key: keys().admin });
    expect(shown.status).toBe(200);
    // Header values are write-only: the names only, never the values; and nothing with a secret is cached.
    expect(shown.json).toMatchObject({ id: created.id, url: created.url, subscriptions: ['ping'], headerNames: ['X-Project'], disabled: false });
    expect(shown.json).not.toHaveProperty('secret');
    expect(shown.json).not.toHaveProperty('headers');
    expect(shown.headers.get('cache-control')).toBe('no-store');
    expect((await scenario.client.patchWebhook(created.id, { disabled: true })).disabled).toBe(true);
    await scenario.client.deleteWebhook(created.id);
    expect((await scenario.client.request({ method: 'GET', path: `/api/webhooks/${created.id}`, key: keys().admin })).status).toBe(404);
  });

  test('answers 400 for an invalid webhook', async () => {
    const answer = await scenario.client.request({ method: 'POST', path: '/api/webhooks', key: keys().admin, body: { url: 'not a url', subscriptions: ['no-such-event'] } });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('url');
  });
});
