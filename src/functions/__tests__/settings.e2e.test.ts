import * as E from 'fp-ts/Either';
import path from 'node:path';
import { HealthReport } from '../../domain/views';
import { type SpawnedHost, spawnHost } from '../../../local-host/testing/spawnHost';

/*
 * Settings as the real Functions host treats them, on the compiled app in the embedded host:
 * an unresolved %NAME% (host.json, a binding) refuses the start naming the setting; a bad setting the
 * app decodes leaves every function registered, health answering 503 with its name (never its value)
 * and the other functions answering 503 instead of vanishing.
 */

const appDir = path.resolve(__dirname, '..', '..', '..');
const ADMIN_KEY = 'test-admin-key-0123456789-abcdefghijklmn';

describe('an unresolved %NAME% refuses the start, naming the setting', () => {
  it.each([
    ['DURABLE_TASK_HUB', /host\.json refers to app settings that are not set: DURABLE_TASK_HUB \(as %DURABLE_TASK_HUB%\)/],
    ['DELIVERIES_QUEUE', /the app setting "DELIVERIES_QUEUE" \(used as %DELIVERIES_QUEUE%\) is not set/],
  ])('%s', async (name, refusal) => {
    // Empty counts as unset, and keeps local.settings.json.example from filling it in.
    await expect(spawnHost({ appDir, env: { [name]: '' } })).rejects.toThrow(refusal);
  });
});

describe('a bad setting the app decodes', () => {
  let host: SpawnedHost;
  const badKey = 'short key';
  beforeAll(async () => {
    host = await spawnHost({ appDir, env: { INGEST_API_KEY: badKey, ADMIN_API_KEY: ADMIN_KEY } });
  });
  afterAll(async () => {
    await host.stop();
  });

  it('leaves every function registered', () => {
    const started = host.logs.find((l) => l.message.startsWith('Host started'));
    expect(started?.message).toMatch(/Host started: (\d+) functions/);
    expect(Number(/(\d+) functions/.exec(started?.message ?? '')?.[1])).toBeGreaterThanOrEqual(20);
  });

  it('health answers 503 naming the setting and not its value', async () => {
    const res = await fetch(`${host.baseUrl}/api/health`);
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(JSON.parse(text)).toMatchObject({
      status: 'unavailable',
      message: 'Invalid settings: INGEST_API_KEY',
      checks: { settings: 'down' },
      settings: [expect.stringMatching(/^INGEST_API_KEY: /)],
    });
    // The answer keeps the documented contract (the OpenAPI HealthReport).
    expect(E.isRight(HealthReport.decode(JSON.parse(text)))).toBe(true);
    expect(text).not.toContain(badKey);
  });

  it.each([
    ['POST', 'events'],
    ['GET', 'webhooks'],
    ['GET', 'tenants'],
  ])('%s /api/%s answers 503 with Retry-After instead of 404', async (method, route) => {
    const res = await fetch(`${host.baseUrl}/api/${route}`, { method, headers: { authorization: `Bearer ${ADMIN_KEY}` }, body: method === 'POST' ? '{"name":"ping:all"}' : undefined });
    const text = await res.text();
    expect({ status: res.status, retryAfter: res.headers.get('retry-after') }).toEqual({ status: 503, retryAfter: '30' });
    expect(JSON.parse(text)).toMatchObject({ error: 'Transient', message: expect.stringContaining('(INGEST_API_KEY)') });
    expect(text).not.toContain(badKey);
  });
});
