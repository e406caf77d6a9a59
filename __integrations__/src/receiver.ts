import http from 'node:http';
import type { AddressInfo } from 'node:net';

/*
 * A webhook receiver, playing an integrated project: it records every request and answers as its
 * script says (2xx, 5xx a few times then 2xx, 410, hang, ...).
 */

/** What the receiver does with one request: answer with a status, or never answer. */
export type Reply = { readonly kind: 'answer'; readonly status: number; readonly headers?: Readonly<Record<string, string>> } | { readonly kind: 'hang' };

export const answer = (status: number, headers?: Readonly<Record<string, string>>): Reply => ({ kind: 'answer', status, ...(headers === undefined ? {} : { headers }) });
export const hang: Reply = { kind: 'hang' };

/** The replies for the first requests, in order, then `then` for every later one. */
export type ReceiverScript = { readonly first: readonly Reply[]; readonly then: Reply };

export const always = (reply: Reply): ReceiverScript => ({ first: [], then: reply });
export const failTimesThenAnswer = (options: { times: number; failure: Reply; success?: Reply }): ReceiverScript => ({
  first: Array.from({ length: options.times }, () => options.failure),
  then: options.success ?? answer(204),
});

export type Arrival = {
  /** 0 for the first request this receiver got. */
  readonly index: number;
  readonly receivedAtMs: number;
  readonly method: string;
  readonly path: string;
  /** Lower-case names; repeated headers joined with ", " as Node does. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly reply: Reply;
};

export type Receiver = {
  readonly name: string;
  /** The URL the dispatcher is given: RECEIVER_HOST and the port this receiver got. */
  readonly url: string;
  readonly arrivals: readonly Arrival[];
  close(): Promise<void>;
};

/** A receiver has no reason to accept more; a bigger body is recorded cut, which fails its checks. */
export const MAX_RECORDED_BODY_BYTES = 1024 * 1024;

const flatHeaders = (headers: http.IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(', ') : v]])));

const readBody = (request: http.IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_RECORDED_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });

/** Starts a receiver on a free port of `bindHost`; its URL names `publicHost`, where the dispatcher finds it. */
export const startReceiver = async (options: { name: string; script: ReceiverScript; bindHost: string; publicHost: string }): Promise<Receiver> => {
  const arrivals: Arrival[] = [];
  let requestsSeen = 0;
  const server = http.createServer((request, response) => {
    const receivedAtMs = Date.now();
    // The reply is chosen when the request comes in, so replies follow the order of requests.
    const index = requestsSeen++;
    const reply = options.script.first[index] ?? options.script.then;
    readBody(request).then(
      (body) => {
        // Recorded only once complete, so a check never sees half a request.
        arrivals.push({ index, receivedAtMs, method: request.method ?? '', path: request.url ?? '', headers: flatHeaders(request.headers), body, reply });
        if (reply.kind === 'answer') response.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers }).end(`receiver ${options.name}: ${reply.status}`);
        // A hanging reply keeps the socket open until the dispatcher gives up or the receiver closes.
      },
      () => response.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.bindHost, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.publicHost.includes(':') && !options.publicHost.startsWith('[') ? `[${options.publicHost}]` : options.publicHost;
  return {
    name: options.name,
    url: `http://${host}:${port}/hooks/${encodeURIComponent(options.name)}`,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive sockets of the dispatcher's pool, and hanging requests, would hold close().
        server.closeAllConnections();
      }),
  };
};
