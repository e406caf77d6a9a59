import type { LookupAddress } from 'node:dns';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { AttemptResult, NetworkErrorAttempt, ResponseAttempt } from '../../../domain/outcome';
import type { ResolveAll } from '../destinationGuard';
import { createUndiciHttpSender, type ClosableHttpSender, type UndiciHttpSenderSettings } from '../undiciHttpSender';
import { startServer, waitFor, type TestServer } from './testServer';

const SHORT_TIMEOUT_MS = 400;

const settings = (overrides: Partial<UndiciHttpSenderSettings> = {}): UndiciHttpSenderSettings => ({
  timeoutMs: 5000,
  maxResponseBytes: 64,
  maxConnectionsPerOrigin: 4,
  allowPrivateDestinations: true,
  ...overrides,
});

const open: Array<{ close: () => Promise<void> }> = [];
const sender = (overrides: Partial<UndiciHttpSenderSettings> = {}): ClosableHttpSender => {
  const s = createUndiciHttpSender(settings(overrides));
  open.push(s);
  return s;
};
const server = async (...args: Parameters<typeof startServer>): Promise<TestServer> => {
  const s = await startServer(...args);
  open.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

const asResponse = (result: AttemptResult): ResponseAttempt => {
  if (result.kind !== 'Response') throw new Error(`expected a response, got ${JSON.stringify(result)}`);
  return result;
};
const asNetworkError = (result: AttemptResult): NetworkErrorAttempt => {
  if (result.kind !== 'NetworkError') throw new Error(`expected a network error, got ${JSON.stringify(result)}`);
  return result;
};

const post = (s: ClosableHttpSender, url: string, body = '{"name":"ping","payload":{}}', headers: Record<string, string> = {}) =>
  s.send({ url, body, headers: { 'content-type': 'application/json', ...headers } })();

describe('undici HttpSender: answers', () => {
  it('POSTs the body and headers, and reports a 2xx with latency and excerpt', async () => {
    const receiver = await server((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks ✓'));
    const body = JSON.stringify({ name: 'ping', payload: { note: 'café ☕ 𝄞' } });
    const result = asResponse(await post(sender(), receiver.url('/hook?x=1'), body, { 'webhook-id': 'd1', 'x-custom': 'v' }));
    expect(result).toMatchObject({ kind: 'Response', status: 200, excerpt: 'thanks ✓', bodyRead: 'Complete' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]).toMatchObject({ method: 'POST', url: '/hook?x=1', body });
    expect(receiver.requests[0]!.headers).toMatchObject({ 'webhook-id': 'd1', 'x-custom': 'v', 'content-type': 'application/json' });
  });

  it('reports 500 and 410 as statuses', async () => {
    const receiver = await server((req, res) => res.writeHead(req.url === '/gone' ? 410 : 500).end(req.url === '/gone' ? 'gone' : 'boom'));
    const s = sender();
    expect(asResponse(await post(s, receiver.url('/boom')))).toMatchObject({ status: 500, excerpt: 'boom' });
    expect(asResponse(await post(s, receiver.url('/gone')))).toMatchObject({ status: 410, excerpt: 'gone' });
  });

  it('reports 429 with its Retry-After', async () => {
    const receiver = await server((_req, res) => res.writeHead(429, { 'retry-after': '7' }).end());
    expect(asResponse(await post(sender(), receiver.url()))).toMatchObject({ status: 429, retryAfter: '7', excerpt: '' });
  });

  it('does not follow a redirect: the 3xx and its Location are the answer', async () => {
    const elsewhere = await server((_req, res) => res.end('should not be reached'));
    const receiver = await server((_req, res) => res.writeHead(307, { location: elsewhere.url('/new') }).end());
    const result = asResponse(await post(sender(), receiver.url()));
    expect(result).toMatchObject({ status: 307, location: elsewhere.url('/new') });
    expect(elsewhere.connections()).toBe(0);
  });

  it('reads only the cap of a huge response body, then drops the connection', async () => {
    let written = 0;
    let stopped = false;
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const receiver = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.on('close', () => (stopped = true));
      // An endless body, written as fast as the client takes it.
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const result = asResponse(await post(sender({ maxResponseBytes: 100 }), receiver.url()));
    expect(result).toMatchObject({ status: 200, bodyRead: 'Capped', excerpt: 'a'.repeat(100) });
    await waitFor(() => stopped, 'the receiver to see the connection close');
    // Socket buffers hold a few MB at most; an uncapped reader would take the whole stream (never ending).
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('cuts the excerpt on a character boundary and replaces control characters', async () => {
    const receiver = await server((_req, res) => res.writeHead(400).end('bad\u0000\u001b[31m input: é€𝄞'));
    const result = asResponse(await post(sender({ maxResponseBytes: 22 }), receiver.url()));
    // 22 bytes end inside the 4-byte 𝄞: the partial character is dropped, not mangled.
    expect(result).toMatchObject({ status: 400, bodyRead: 'Capped', excerpt: 'bad\uFFFD\uFFFD[31m input: é€' });
  });

  it('keeps the connection alive between deliveries to the same receiver', async () => {
    const receiver = await server((_req, res) => res.end('ok'));
    const s = sender();
    for (let i = 0; i < 6; i++) expect(asResponse(await post(s, receiver.url())).status).toBe(200);
    // undici frees a socket a tick after the body ends, so a request sent at once may open a
    // second one; without keep-alive there would be six.
    expect(receiver.connections()).toBeLessThanOrEqual(2);
  });

  it('opens at most maxConnectionsPerOrigin connections to one receiver', async () => {
    const pending: Array<() => void> = [];
    const receiver = await server((_req, res) => pending.push(() => res.end('ok')));
    const s = sender({ maxConnectionsPerOrigin: 2 });
    const results = Promise.all(Array.from({ length: 6 }, () => post(s, receiver.url())));
    // Answer in waves as requests arrive; never more than two can be waiting at once.
    while (receiver.requests.length < 6) {
      await waitFor(() => pending.length > 0, 'a request');
      pending.splice(0).forEach((answer) => answer());
    }
    pending.splice(0).forEach((answer) => answer());
    expect((await results).map((r) => asResponse(r).status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(receiver.maxOpenConnections()).toBeLessThanOrEqual(2);
  });

  it('talks to an IPv6 loopback receiver', async () => {
    const receiver = await server((_req, res) => res.end('v6'), '::1');
    expect(asResponse(await post(sender(), receiver.url()))).toMatchObject({ status: 200, excerpt: 'v6' });
  });
});

describe('undici HttpSender: failures', () => {
  it('reports a closed port as ConnectionRefused', async () => {
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    expect(asNetworkError(await post(sender(), `http://127.0.0.1:${port}/hook`))).toMatchObject({ error: 'ConnectionRefused' });
  });

  it('reports a reset before any answer as ConnectionReset', async () => {
    const receiver = await server((req) => req.socket.resetAndDestroy());
    const result = asNetworkError(await post(sender(), receiver.url()));
    expect(result.error).toBe('ConnectionReset');
    expect(result.message).not.toBe('');
  });

  it('keeps the status when the connection drops in the middle of the body', async () => {
    const receiver = await server((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      // A close (FIN), not a reset: an RST could make the kernel drop 'partial' before it is read.
      res.write('partial', () => req.socket.destroy());
    });
    const result = asResponse(await post(sender(), receiver.url()));
    expect(result).toMatchObject({ status: 200, bodyRead: 'Failed', excerpt: 'partial' });
  });

  it('times out a receiver that never answers, and drops the connection', async () => {
    let closed = false;
    const receiver = await server((req) => req.socket.on('close', () => (closed = true)));
    const result = asNetworkError(await post(sender({ timeoutMs: SHORT_TIMEOUT_MS }), receiver.url()));
    expect(result.error).toBe('Timeout');
    await waitFor(() => closed, 'the receiver to see the connection close');
  });

  it("a request's own timeoutMs (a webhook's) replaces the sender's, shorter or longer", async () => {
    const hanging = await server(() => undefined);
    const cut = asNetworkError(await sender({ timeoutMs: 60_000 }).send({ url: hanging.url(), body: '{}', headers: {}, timeoutMs: SHORT_TIMEOUT_MS })());
    expect(cut.error).toBe('Timeout');
    expect(cut.message).toContain(`${SHORT_TIMEOUT_MS} ms`);
    // An answer after the sender's default but within the request's own timeout is an answer.
    const slow = await server((_req, res) => {
      const later = setTimeout(() => res.end('ok'), 3 * SHORT_TIMEOUT_MS);
      res.on('close', () => clearTimeout(later));
    });
    expect(asResponse(await sender({ timeoutMs: SHORT_TIMEOUT_MS }).send({ url: slow.url(), body: '{}', headers: {}, timeoutMs: 5000 })()).status).toBe(200);
  });

  it('times out slow headers', async () => {
    const receiver = await server((_req, res) => {
      const late = setTimeout(() => res.end('late'), 3000);
      res.on('close', () => clearTimeout(late));
    });
    expect(asNetworkError(await post(sender({ timeoutMs: SHORT_TIMEOUT_MS }), receiver.url())).error).toBe('Timeout');
  });

  it('times out a body that never ends, even one that trickles, keeping the status', async () => {
    let closed = false;
    const receiver = await server((_req, res) => {
      res.writeHead(503);
      res.write('x');
      // One byte every 50 ms resets any per-read timeout; only the whole-attempt timeout ends it.
      const trickle = setInterval(() => res.write('x'), 50);
      res.on('close', () => {
        clearInterval(trickle);
        closed = true;
      });
    });
    const result = asResponse(await post(sender({ timeoutMs: SHORT_TIMEOUT_MS, maxResponseBytes: 4096 }), receiver.url()));
    expect(result).toMatchObject({ status: 503, bodyRead: 'TimedOut' });
    expect(result.excerpt).toMatch(/^x+$/);
    await waitFor(() => closed, 'the receiver to see the connection close');
  });

  it.each([
    ['not a URL', 'not a url'],
    ['another scheme', 'ftp://127.0.0.1/hook'],
    ['credentials', 'http://user:pass@127.0.0.1/hook'],
  ])('refuses %s as InvalidUrl', async (_label, url) => {
    expect(asNetworkError(await post(sender(), url)).error).toBe('InvalidUrl');
  });

  it('reports a header HTTP does not allow as InvalidRequest', async () => {
    const receiver = await server((_req, res) => res.end());
    const result = asNetworkError(await post(sender(), receiver.url(), '{}', { 'x-bad': 'line\r\nbreak' }));
    expect(result.error).toBe('InvalidRequest');
    expect(receiver.requests).toHaveLength(0);
  });

  it('reports an unknown host as DnsFailure', async () => {
    const nxdomain: ResolveAll = (hostname, _options, callback) => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    expect(asNetworkError(await post(sender({ resolve: nxdomain }), 'http://no-such-host.test/hook')).error).toBe('DnsFailure');
  });
});

describe('undici HttpSender: private destinations', () => {
  const resolvesTo =
    (addresses: LookupAddress[], calls: string[] = []): ResolveAll =>
    (hostname, _options, callback) => {
      calls.push(hostname);
      callback(null, addresses);
    };

  it.each([
    ['an IPv4 loopback literal', (s: TestServer) => s.url()],
    ['an IPv4-mapped IPv6 literal', (s: TestServer) => `http://[::ffff:127.0.0.1]:${s.port}/hook`],
    ['localhost', (s: TestServer) => `http://localhost:${s.port}/hook`],
  ])('refuses %s before connecting', async (_label, urlOf) => {
    const receiver = await server((_req, res) => res.end('reached'));
    const result = asNetworkError(await post(sender({ allowPrivateDestinations: false }), urlOf(receiver)));
    expect(result.error).toBe('DestinationNotAllowed');
    expect(result.message).toContain('loopback');
    expect(receiver.connections()).toBe(0);
  });

  it('refuses a name whose DNS answer is private (rebinding), checking the address actually used', async () => {
    const receiver = await server((_req, res) => res.end('reached'));
    const calls: string[] = [];
    const s = sender({ allowPrivateDestinations: false, resolve: resolvesTo([{ address: '127.0.0.1', family: 4 }], calls) });
    const result = asNetworkError(await post(s, `http://innocent.example:${receiver.port}/hook`));
    expect(result).toMatchObject({ error: 'DestinationNotAllowed' });
    expect(result.message).toContain('innocent.example resolves to 127.0.0.1');
    expect(calls).toEqual(['innocent.example']);
    expect(receiver.connections()).toBe(0);
  });

  it('refuses a name when any of its addresses is private', async () => {
    const receiver = await server((_req, res) => res.end('reached'));
    const mixed = resolvesTo([
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ]);
    const result = asNetworkError(await post(sender({ allowPrivateDestinations: false, resolve: mixed }), `http://mixed.example:${receiver.port}/`));
    expect(result.error).toBe('DestinationNotAllowed');
    expect(receiver.connections()).toBe(0);
  });

  it('allows private destinations when configured, through the same resolver', async () => {
    const receiver = await server((_req, res) => res.end('reached'));
    const calls: string[] = [];
    const s = sender({ allowPrivateDestinations: true, resolve: resolvesTo([{ address: '127.0.0.1', family: 4 }], calls) });
    expect(asResponse(await post(s, `http://receiver.test:${receiver.port}/hook`))).toMatchObject({ status: 200, excerpt: 'reached' });
    expect(asResponse(await post(s, receiver.url()))).toMatchObject({ status: 200 });
    expect(calls).toEqual(['receiver.test']);
    expect(receiver.requests[0]!.headers.host).toBe(`receiver.test:${receiver.port}`);
  });
});
