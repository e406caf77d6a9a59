import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { classify, type OpCount, opKey, type Service } from './storageOps';

/*
 * The counting proxy, run in its own process (bench/proxy.ts forks it) so its CPU does not delay the
 * receivers' clocks in the bench process. One HTTP listener per storage service forwards every request
 * unchanged to Azurite and counts it. Protocol on the IPC channel: it sends {ready, ports}; it answers
 * {snapshot} with {counts}.
 */

const BATCH_HEAD_BYTES = 2048;

const targets = JSON.parse(process.env.BENCH_PROXY_TARGETS ?? '{}') as Record<Service, number>;
const counts = new Map<string, OpCount>();
// Azurite closes idle connections after 5 s; a socket reused at that moment resets. Dropping idle
// sockets after 2 s avoids the race (a direct client would see it as a network error and retry).
const agent = new http.Agent({ keepAlive: true, maxSockets: 512, timeout: 2000 });

const count = (service: Service, req: http.IncomingMessage, batchHead: string, status: number): void => {
  const op = classify({ service, method: req.method ?? 'GET', url: req.url ?? '/', batchHead });
  const key = opKey(op);
  const entry = counts.get(key) ?? { ...op, count: 0, errors: 0 };
  entry.count++;
  if (status >= 400) entry.errors++;
  counts.set(key, entry);
};

const listen = (service: Service): Promise<number> => {
  const server = http.createServer((req, res) => {
    let batchHead = '';
    const upstream = http.request({ host: '127.0.0.1', port: targets[service], method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      count(service, req, batchHead, answer.statusCode ?? 0);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    // A transport error stays a transport error: the client sees its connection drop, as it would
    // without the proxy, rather than a 502 with a body it cannot parse.
    upstream.on('error', () => {
      count(service, req, batchHead, 599);
      res.destroy();
    });
    req.on('data', (chunk: Buffer) => {
      if (batchHead.length < BATCH_HEAD_BYTES) batchHead += chunk.toString('latin1', 0, Math.min(chunk.length, BATCH_HEAD_BYTES));
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
};

const main = async (): Promise<void> => {
  const ports = { blob: await listen('blob'), queue: await listen('queue'), table: await listen('table') };
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'snapshot') process.send?.({ type: 'counts', counts: [...counts.values()] });
  });
  // Dies with the bench: the IPC channel closes when the parent goes away.
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', ports });
};

void main();
