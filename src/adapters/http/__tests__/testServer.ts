import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A receiver on loopback that records what it saw; every test closes it. */
export type TestServer = {
  readonly url: (path?: string) => string;
  readonly port: number;
  /** TCP connections accepted so far. */
  readonly connections: () => number;
  /** Connections open right now, and the most open at once. */
  readonly openConnections: () => number;
  readonly maxOpenConnections: () => number;
  readonly requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  readonly close: () => Promise<void>;
};

export const startServer = async (handler: (req: IncomingMessage, res: ServerResponse, body: string) => void, host = '127.0.0.1'): Promise<TestServer> => {
  const sockets = new Set<Socket>();
  let connections = 0;
  let maxOpen = 0;
  const requests: TestServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    maxOpen = Math.max(maxOpen, sockets.size);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    url: (path = '/hook') => `http://${hostInUrl}:${port}${path}`,
    port,
    connections: () => connections,
    openConnections: () => sockets.size,
    maxOpenConnections: () => maxOpen,
    requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** Polls until the condition holds, failing after the deadline (no fixed sleeps). */
export const waitFor = async (condition: () => boolean, what: string, deadlineMs = 5000): Promise<void> => {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
