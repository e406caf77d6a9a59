import path from 'node:path';
import { type SpawnedHost, spawnHost } from '../testing/spawnHost';

const appDir = path.join(__dirname, 'fixtures', 'http-app');

describe('local host: HTTP triggers', () => {
  let host: SpawnedHost;
  beforeAll(async () => {
    host = await spawnHost({ appDir });
  });
  afterAll(async () => {
    await host.stop();
  });

  it('passes route params, query, headers and a binary body, and returns status, headers and body as set', async () => {
    const body = Buffer.from([0, 1, 2, 250, 255]);
    const res = await fetch(`${host.baseUrl}/api/items/books/42?color=red`, { method: 'POST', headers: { 'x-custom': 'yes' }, body });
    expect(res.status).toBe(207);
    expect(res.headers.get('x-echo-method')).toBe('POST');
    expect(await res.json()).toEqual({
      params: { category: 'books', id: '42' },
      query: { color: 'red' },
      header: 'yes',
      bodyBase64: body.toString('base64'),
    });
  });

  it('matches optional and typed route segments', async () => {
    const optional = await fetch(`${host.baseUrl}/api/items/books`);
    expect(optional.status).toBe(207);
    expect(((await optional.json()) as { params: unknown }).params).toEqual({ category: 'books' });
    const notInt = await fetch(`${host.baseUrl}/api/items/books/abc`);
    expect(notInt.status).toBe(404);
  });

  it('returns binary response bodies byte for byte', async () => {
    const res = await fetch(`${host.baseUrl}/api/binary`, { method: 'POST', body: Buffer.from([1, 2, 3, 0, 255]) });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from([255, 0, 3, 2, 1]));
  });

  it('answers 404 JSON for an unknown route and 405 for a method the route does not allow', async () => {
    const unknown = await fetch(`${host.baseUrl}/api/nothing/here`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toBe('NotFound');
    const wrongMethod = await fetch(`${host.baseUrl}/api/items/books`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
  });

  it('answers 500 with an invocation id when the handler throws, and logs it', async () => {
    const res = await fetch(`${host.baseUrl}/api/fails`);
    expect(res.status).toBe(500);
    const { invocationId } = (await res.json()) as { invocationId: string };
    expect(invocationId).toMatch(/^[0-9a-f-]{36}$/);
    const line = await host.waitForLog((l) => l.invocationId === invocationId && l.outcome === 'failed');
    expect(line.function).toBe('fails');
    expect(String(line.error)).toContain('handler exploded');
  });

  it('writes one structured line per invocation and forwards context.log', async () => {
    await fetch(`${host.baseUrl}/api/items/x`);
    await host.waitForLog((l) => l.category === 'echo' && l.message === 'echo invoked');
    const line = await host.waitForLog((l) => l.function === 'echo' && l.outcome === 'succeeded');
    expect(typeof line.durationMs).toBe('number');
    expect(line.trigger).toBe('http');
  });
});

describe('local host: life cycle', () => {
  it('finishes a request in flight on SIGTERM, then exits 0', async () => {
    const host = await spawnHost({ appDir });
    const pending = fetch(`${host.baseUrl}/api/slow/800`);
    await new Promise((r) => setTimeout(r, 200));
    const exit = host.stop('SIGTERM');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('done');
    expect(await exit).toBe(0);
  });

  it('exits non-zero with a clear message when the port is taken', async () => {
    const first = await spawnHost({ appDir });
    try {
      await expect(spawnHost({ appDir, port: first.port, startTimeoutMs: 15_000 })).rejects.toThrow(/already in use/);
    } finally {
      await first.stop();
    }
  });

  it('exits non-zero with a clear message when the app fails to load', async () => {
    await expect(spawnHost({ appDir: path.join(__dirname, 'fixtures', 'does-not-exist') })).rejects.toThrow(/package\.json/);
  });
});
