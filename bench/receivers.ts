import http from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * The webhook receivers: one loopback server, one path per webhook (`/r/<group>/<index>`). Each path
 * answers 204 (ok), 500 (fail) or holds the request open (hang, until the dispatcher's timeout or
 * until the mode changes). Every arrival is stamped with performance.now() and its `webhook-id`.
 */

export type Behaviour = 'ok' | 'fail' | 'hang';

export type Arrival = { readonly at: number; readonly path: string; readonly deliveryId: string };

export type Receivers = {
  readonly baseUrl: string;
  /** Origin 1 is a second port: a misbehaving receiver there does not share the sender's per-origin connections with origin 0. */
  urlFor(group: string, index: number, origin?: 0 | 1): string;
  setBehaviour(pathPrefix: string, behaviour: Behaviour): void;
  /** First arrival of each delivery id (repeats are counted in `repeats`). */
  readonly firstArrival: ReadonlyMap<string, Arrival>;
  /** Arrivals per group: every request (repeats included), and distinct delivery ids. */
  arrivalsIn(group: string): number;
  distinctIn(group: string): number;
  readonly repeats: () => number;
  /** Resolves when `predicate` holds, checked at each arrival and every 200 ms; false after the deadline. */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
};

const groupOf = (path: string): string => path.split('/')[2] ?? '';

export const startReceivers = async (): Promise<Receivers> => {
  const behaviours: [string, Behaviour][] = [];
  const firstArrival = new Map<string, Arrival>();
  const perGroup = new Map<string, number>();
  const distinctPerGroup = new Map<string, number>();
  const hanging = new Set<http.ServerResponse>();
  const waiters = new Set<() => void>();
  let repeats = 0;
  const behaviourOf = (path: string): Behaviour => {
    for (let i = behaviours.length - 1; i >= 0; i--) {
      const [prefix, b] = behaviours[i] as [string, Behaviour];
      if (path.startsWith(prefix)) return b;
    }
    return 'ok';
  };
  const server = http.createServer((req, res) => {
    const at = performance.now();
    const path = req.url ?? '/';
    const deliveryId = String(req.headers['webhook-id'] ?? '');
    req.resume();
    req.on('end', () => {
      const group = groupOf(path);
      if (firstArrival.has(deliveryId)) repeats++;
      else {
        firstArrival.set(deliveryId, { at, path, deliveryId });
        distinctPerGroup.set(group, (distinctPerGroup.get(group) ?? 0) + 1);
      }
      perGroup.set(group, (perGroup.get(group) ?? 0) + 1);
      const behaviour = behaviourOf(path);
      if (behaviour === 'ok') res.writeHead(204).end();
      else if (behaviour === 'fail') res.writeHead(500, { 'content-type': 'text/plain' }).end('bench: failing on purpose');
      else {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
      }
      waiters.forEach((w) => w());
    });
  });
  const other = http.createServer((req, res) => server.emit('request', req, res));
  for (const s of [server, other]) {
    s.keepAliveTimeout = 60_000;
    s.headersTimeout = 0;
    s.requestTimeout = 0;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  }
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  return {
    baseUrl,
    urlFor: (group, index, origin = 0) => `${origin === 0 ? baseUrl : otherUrl}/r/${group}/${index}`,
    setBehaviour: (pathPrefix, behaviour) => {
      behaviours.push([pathPrefix, behaviour]);
      // Requests held by a path that no longer hangs are answered now.
      for (const res of [...hanging]) if (res.req.url !== undefined && behaviourOf(res.req.url) !== 'hang') res.writeHead(204).end();
    },
    firstArrival,
    arrivalsIn: (group) => perGroup.get(group) ?? 0,
    distinctIn: (group) => distinctPerGroup.get(group) ?? 0,
    repeats: () => repeats,
    waitFor: (predicate, timeoutMs) =>
      new Promise((resolve) => {
        const finish = (result: boolean): void => {
          clearTimeout(timer);
          clearInterval(ticker);
          waiters.delete(check);
          resolve(result);
        };
        const check = (): void => {
          if (predicate()) finish(true);
        };
        const timer = setTimeout(() => finish(false), timeoutMs);
        const ticker = setInterval(check, 200);
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy();
        other.closeAllConnections();
        other.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
