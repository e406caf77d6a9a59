import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { type SpawnedHost, spawnHost } from '../testing/spawnHost';

const appDir = path.join(__dirname, 'fixtures', 'http-app');
const BODY_LIMIT_BYTES = 1024 * 1024;

/** Sends raw bytes over one TCP connection and resolves with the status code of the answer. */
const rawStatus = (port: number, request: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (m !== null) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed without a status; got ${JSON.stringify(answer)}`)));
    socket.write(request, 'latin1');
  });

const get = (target: string, host = '127.0.0.1'): string => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

/** Resident memory of a process in MB (Linux). */
const rssMb = async (pid: number): Promise<number> => {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
};

/** A body of `bytes` zeros, made chunk by chunk as the socket asks for it: never in memory whole. */
const lazyBody = (bytes: number): Readable => {
  const chunk = Buffer.alloc(64 * 1024);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
};

/**
 * POSTs a lazily made body over a raw socket and resolves with the status of the answer: the host
 * may answer and close before the upload ends, and a write error after the answer is expected.
 */
const postBig = (p: { port: number; path: string; bytes: number; declareLength: boolean }): Promise<number> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ port: p.port, host: '127.0.0.1' });
    const framing = p.declareLength ? `Content-Length: ${p.bytes}` : 'Transfer-Encoding: chunked';
    socket.write(`POST ${p.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${framing}\r\n\r\n`);
    const body = lazyBody(p.bytes);
    if (p.declareLength) body.pipe(socket);
    else {
      body.on('data', (chunk: Buffer) => {
        socket.write(`${chunk.length.toString(16)}\r\n`);
        socket.write(chunk);
        if (!socket.write('\r\n')) body.pause();
      });
      socket.on('drain', () => body.resume());
      body.on('end', () => socket.write('0\r\n\r\n'));
    }
    let answer = '';
    let status: number | undefined;
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (m !== null && status === undefined) {
        status = Number(m[1]);
        body.destroy();
        socket.destroy();
        resolve(status);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      body.destroy();
      if (status === undefined) reject(new Error(`connection closed without a status; got ${JSON.stringify(answer)}`));
    });
  });

describe('local host: malformed and oversized requests', () => {
  let host: SpawnedHost;
  beforeAll(async () => {
    host = await spawnHost({ appDir, env: { FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: String(BODY_LIMIT_BYTES) } });
  });
  afterAll(async () => {
    await host.stop();
  });

  const stillServes = async (): Promise<void> => {
    const res = await fetch(`${host.baseUrl}/api/health`);
    expect(res.status).toBe(200);
  };

  it.each([
    ['a port out of range in Host', 400, get('/api/health', 'a:99999')],
    ['an empty Host', 400, get('/api/health', '')],
    ['Host "["', 400, get('/api/health', '[')],
    ['Host "a b"', 400, get('/api/health', 'a b')],
    ['Host "x:y:z"', 400, get('/api/health', 'x:y:z')],
    ['Host with userinfo', 400, get('/api/health', 'user:pw@127.0.0.1')],
    ['no Host at all', 400, 'GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n'],
    ['an absolute target with a bad port', 400, get('http://a:99999/api/health')],
    ['an absolute target with credentials', 400, get('http://user:pw@127.0.0.1/api/health')],
    ['an absolute target of another scheme', 400, get('ftp://127.0.0.1/api/health')],
    ['a target "//a:99999/..." (a path, not a host)', 404, get('//a:99999/api/health')],
    ['a bad percent-encoding', 400, get('/api/webhooks/%E0%A4%A')],
    ['a lone "%"', 400, get('/api/items/%')],
    ['percent-encoded bytes that are not UTF-8', 400, get('/api/items/%ff')],
    ['a target "*"', 400, get('*')],
    ['a request line that is not HTTP', 400, 'HELLO\r\n\r\n'],
    ['a Content-Length that is not a number', 400, 'POST /api/binary HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n'],
    ['a bad percent-encoding under the durable API prefix (no durable app here)', 400, get('/runtime/webhooks/durabletask/instances/%E0%A4%A')],
  ])('%s: answers %i and keeps serving', async (_name, status, request) => {
    expect(await rawStatus(host.port, request)).toBe(status);
    await stillServes();
  });

  it('never writes the Host header or its userinfo into the log', async () => {
    expect(await rawStatus(host.port, get('/api/health', 'secretuser:secretpw@127.0.0.1'))).toBe(400);
    await stillServes();
    const everything = JSON.stringify(host.logs) + host.rawOutput.join('\n');
    expect(everything).not.toContain('secretpw');
    expect(everything).not.toContain('secretuser');
  });

  it('refuses a body over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT while it streams, declared or not, without buffering it', async () => {
    const pid = host.child.pid ?? 0;
    const before = await rssMb(pid);
    const sixtyMb = 60 * 1024 * 1024;
    const statuses = await Promise.all([
      postBig({ port: host.port, path: '/api/binary', bytes: sixtyMb, declareLength: true }),
      postBig({ port: host.port, path: '/api/binary', bytes: sixtyMb, declareLength: false }),
      postBig({ port: host.port, path: '/api/binary', bytes: sixtyMb, declareLength: false }),
      postBig({ port: host.port, path: '/api/binary', bytes: sixtyMb, declareLength: false }),
    ]);
    const after = await rssMb(pid);
    process.stdout.write(`host RSS before ${before.toFixed(1)} MB, after four 60 MB posts ${after.toFixed(1)} MB\n`);
    expect(statuses).toEqual([413, 413, 413, 413]);
    // Buffering them would have cost 240 MB; the margin is wide on purpose.
    expect(after - before).toBeLessThan(60);
    await stillServes();
  });

  it('still takes a body under the limit', async () => {
    const res = await fetch(`${host.baseUrl}/api/binary`, { method: 'POST', body: Buffer.alloc(BODY_LIMIT_BYTES, 1) });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(BODY_LIMIT_BYTES);
  });
});
