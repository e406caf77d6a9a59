import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { HostComponent, HostContext, RawHttpAuthorize, RawHttpHandler } from './core/component';
import { functionsWithTrigger, triggerBinding } from './core/invoke';
import type { RegisteredFunction, RpcHttp } from './core/types';
// The one dependency-free module of src/ the local host may import (docs/architecture.md, "Layers").
import { plainIntegerIn } from '../src/domain/stringValues';

/** Azure's front end refuses request bodies over 100 MB; so does the local host. */
export const MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024;

/**
 * The host's body limit: FUNCTIONS_REQUEST_BODY_SIZE_LIMIT (bytes, the Functions app setting that
 * overrides the 100 MB default), else 100 MB. An app whose routes take small bodies sets it low, so
 * a large upload is refused while it streams in instead of being buffered (see DURABLE.md).
 */
export const requestBodyLimitBytes = (env: NodeJS.ProcessEnv = process.env): number => {
  const value = env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT?.trim();
  return (value === undefined ? undefined : plainIntegerIn(value, { min: 1, max: Number.MAX_SAFE_INTEGER })) ?? MAX_REQUEST_BODY_BYTES;
};

/** A request the host refuses before any function sees it (the real host answers these 400). */
export type BadRequest = { readonly status: 400; readonly message: string };

// A Host header as RFC 9110 allows it for us: a reg-name or IP literal and an optional port in range,
// no userinfo. Anything else is refused without echoing it (it may carry credentials).
const HOST_HEADER = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?$/;

/**
 * The request's URL from its target and Host header, or why it is malformed. Never throws: a
 * throw here used to end the whole host. Absolute-form targets (`GET http://a/..`) must name a
 * valid authority; `//a:1/x` is a path (origin-form), not a protocol-relative URL.
 */
export const requestUrl = (p: { target: string | undefined; host: string | undefined; fallbackHost: string }): URL | BadRequest => {
  const bad = (message: string): BadRequest => ({ status: 400, message });
  const host = p.host ?? p.fallbackHost;
  const hostMatch = HOST_HEADER.exec(host);
  if (hostMatch === null || Number(hostMatch[1] ?? '0') > 65535) return bad('The Host header is not a valid host[:port]');
  const target = p.target ?? '/';
  try {
    if (target.startsWith('/')) return new URL(`http://${host}${target}`);
    if (/^https?:\/\//i.test(target)) {
      const absolute = new URL(target);
      if (absolute.username !== '' || absolute.password !== '') return bad('The request target must not carry credentials');
      return new URL(`http://${host}${absolute.pathname}${absolute.search}`);
    }
  } catch {
    return bad('The request target is not a valid URL');
  }
  return bad('The request target must be a path or an absolute http URL');
};

/** Path segments, percent-decoded; undefined when one is not valid percent-encoded UTF-8. */
export const decodePath = (pathname: string): string[] | undefined => {
  try {
    return pathname
      .split('/')
      .filter((s) => s.length > 0)
      .map(decodeURIComponent);
  } catch {
    return undefined;
  }
};

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string; optional: boolean; int: boolean } | { kind: 'catchAll'; name: string };

export type Route = { fn: RegisteredFunction; template: string; segments: Segment[]; methods: string[] | undefined };

/** Parses a Functions route template (`webhooks/{id}`, `{id?}`, `{id:int}`, `{*rest}`). */
export const parseRoute = (template: string): Segment[] =>
  template
    .split('/')
    .filter((s) => s.length > 0)
    .map((s): Segment => {
      const m = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+)(?:\([^)]*\))?)?(\?)?\}$/.exec(s);
      if (m === null) return { kind: 'literal', value: s.toLowerCase() };
      const name = m[2] ?? '';
      if (m[1] === '*') return { kind: 'catchAll', name };
      return { kind: 'param', name, optional: m[4] === '?', int: m[3] === 'int' };
    });

/** Matches path segments (already below the route prefix) against a route; returns its params. */
export const matchRoute = (segments: Segment[], path: string[]): Record<string, string> | undefined => {
  const params: Record<string, string> = {};
  let i = 0;
  for (const segment of segments) {
    const part = path[i];
    if (segment.kind === 'catchAll') {
      params[segment.name] = path.slice(i).join('/');
      return params;
    }
    if (part === undefined) {
      if (segment.kind === 'param' && segment.optional) continue;
      return undefined;
    }
    if (segment.kind === 'literal') {
      if (part.toLowerCase() !== segment.value) return undefined;
    } else {
      if (segment.int && !/^-?\d+$/.test(part)) return undefined;
      params[segment.name] = part;
    }
    i++;
  }
  return i === path.length ? params : undefined;
};

/**
 * Reads the body up to `limit` bytes. A declared Content-Length over the limit is refused before
 * a byte is read, and a body that grows past it is refused as soon as it does: nothing beyond the
 * limit is ever buffered.
 */
const readBody = (req: IncomingMessage, limit: number): Promise<Buffer | 'tooLarge'> =>
  new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) return resolve('tooLarge');
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.removeListener('data', onData);
      req.pause();
      chunks.length = 0;
      resolve('tooLarge');
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });

/** How long a refused upload may keep sending (discarded) so that its client reads the answer. */
const LINGER_MS = 2_000;

/**
 * Answers and closes the connection without reading the rest of the request: what still arrives
 * is discarded, not buffered, for LINGER_MS (closing at once would reset the connection and the
 * client could lose the answer), then the socket is destroyed.
 */
const refuseAndClose = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  // No `connection: close`: Node would then close at once, and the reset could lose the answer.
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  const req = res.req;
  req.removeAllListeners('data');
  req.resume();
  const socket = res.socket;
  if (socket === null) return;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
};

const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const flatHeaders = (req: IncomingMessage): Record<string, string> => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
};

type RpcCookie = {
  name?: string;
  value?: string;
  domain?: { value?: string };
  path?: { value?: string };
  secure?: { value?: boolean };
  httpOnly?: { value?: boolean };
  sameSite?: number;
  maxAge?: { value?: number };
};

const toSetCookie = (c: RpcCookie): string => {
  const parts = [`${c.name ?? ''}=${c.value ?? ''}`];
  if (c.domain?.value) parts.push(`Domain=${c.domain.value}`);
  if (c.path?.value) parts.push(`Path=${c.path.value}`);
  if (c.maxAge?.value !== undefined) parts.push(`Max-Age=${c.maxAge.value}`);
  if (c.secure?.value) parts.push('Secure');
  if (c.httpOnly?.value) parts.push('HttpOnly');
  if (c.sameSite === 1) parts.push('SameSite=Lax');
  if (c.sameSite === 2) parts.push('SameSite=Strict');
  if (c.sameSite === 3) parts.push('SameSite=None');
  return parts.join('; ');
};

const bodyBytes = (body: RpcHttp['body']): Buffer => {
  if (body == null) return Buffer.alloc(0);
  if (body.bytes != null) return Buffer.from(body.bytes);
  if (body.string != null) return Buffer.from(body.string, 'utf8');
  if (body.json != null) return Buffer.from(body.json, 'utf8');
  return Buffer.alloc(0);
};

/**
 * HTTP triggers under `/{routePrefix}/` on one port, plus raw handlers mounted by other components
 * (the durable client API). Tracks requests in flight so that stop() can wait for them.
 */
export const createHttpComponent = (
  ctx: HostContext,
  options: { port: number; host: string; onListening: (port: number) => void },
): HostComponent & { mount: (prefix: string, handler: RawHttpHandler, authorize?: RawHttpAuthorize) => void } => {
  const prefix = (ctx.hostJson.extensions?.http?.routePrefix ?? 'api').replace(/^\/|\/$/g, '');
  const routes: Route[] = functionsWithTrigger(ctx.invoker.registry, 'httpTrigger').map((fn) => {
    const [, binding] = triggerBinding(fn);
    const template = typeof binding.route === 'string' ? binding.route : fn.metadata.name;
    const methods = Array.isArray(binding.methods) ? binding.methods.map((m) => String(m).toUpperCase()) : undefined;
    return { fn, template, segments: parseRoute(template), methods };
  });
  const mounts: [string, RawHttpHandler, RawHttpAuthorize | undefined][] = [];
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const bodyLimit = requestBodyLimitBytes();
  const tooLarge = (res: ServerResponse): void => refuseAndClose(res, 413, { error: 'PayloadTooLarge', message: `Request bodies are limited to ${bodyLimit} bytes` });

  const handleFunction = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const path = decodePath(url.pathname);
    if (path === undefined) return refuseAndClose(res, 400, { error: 'BadRequest', message: 'The path is not valid percent-encoded UTF-8' });
    if (prefix !== '' && path.shift()?.toLowerCase() !== prefix.toLowerCase()) {
      return sendJson(res, 404, { error: 'NotFound', message: `No route for ${req.method} ${url.pathname}` });
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const matching = routes.map((route) => ({ route, params: matchRoute(route.segments, path) })).filter((m): m is { route: Route; params: Record<string, string> } => m.params !== undefined);
    const match = matching.find((m) => m.route.methods === undefined || m.route.methods.includes(method));
    if (match === undefined) {
      return matching.length > 0
        ? sendJson(res, 405, { error: 'MethodNotAllowed', message: `${method} is not allowed on ${url.pathname}` })
        : sendJson(res, 404, { error: 'NotFound', message: `No route for ${method} ${url.pathname}` });
    }
    const body = await readBody(req, bodyLimit);
    if (body === 'tooLarge') return tooLarge(res);
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => (query[key] = value));
    const outcome = await ctx.invoker.invoke(match.route.fn, {
      data: { http: { method, url: url.toString(), headers: flatHeaders(req), query, params: match.params, body: { bytes: body } } },
    });
    ctx.log.invocation({
      function: match.route.fn.metadata.name,
      invocationId: outcome.invocationId,
      durationMs: outcome.durationMs,
      outcome: outcome.kind,
      trigger: 'http',
      error: outcome.kind === 'failed' ? outcome.error.message : undefined,
    });
    if (outcome.kind === 'failed') {
      ctx.log.log('error', match.route.fn.metadata.name, outcome.error.stack ?? outcome.error.message, { invocationId: outcome.invocationId });
      return sendJson(res, 500, { error: 'InternalServerError', message: 'The function failed; see the host log', invocationId: outcome.invocationId });
    }
    const rpc = outcome.response.returnValue?.http ?? outcome.response.outputData?.find((o) => o.data?.http)?.data?.http;
    if (rpc == null) {
      res.writeHead(204);
      return void res.end();
    }
    const out = bodyBytes(rpc.body);
    const headers: Record<string, string | string[]> = { ...(rpc.headers ?? {}) };
    const cookies = (rpc.cookies ?? []) as RpcCookie[];
    if (cookies.length > 0) headers['set-cookie'] = cookies.map(toSetCookie);
    headers['content-length'] = String(out.length);
    res.writeHead(Number(rpc.statusCode ?? 200), headers);
    res.end(out);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl({ target: req.url, host: req.headers.host, fallbackHost: new URL(ctx.baseUrl()).host });
    if (!(url instanceof URL)) return refuseAndClose(res, url.status, { error: 'BadRequest', message: url.message });
    const mounted = mounts.find(([p]) => url.pathname.startsWith(p));
    if (mounted === undefined) return handleFunction(req, res, url);
    const refused = mounted[2]?.(req, url);
    if (refused !== undefined) return refuseAndClose(res, 401, { error: 'Unauthorized', message: refused });
    const body = await readBody(req, bodyLimit);
    return body === 'tooLarge' ? tooLarge(res) : mounted[1](req, res, body);
  };

  const server = http.createServer((req, res) => {
    inFlight++;
    // serve() is async, so even a synchronous throw inside it becomes a rejection handled here.
    serve(req, res)
      .catch((e: unknown) => {
        ctx.log.log('error', 'host', `HTTP request failed: ${e instanceof Error ? (e.stack ?? e.message) : 'a non-Error was thrown'}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'InternalServerError', message: 'The host failed to serve the request' });
        else res.destroy();
      })
      .finally(() => {
        inFlight--;
        if (inFlight === 0) idle?.();
      });
  });
  // Kestrel, the real host's server, keeps an idle connection 130 s (KestrelServerLimits.KeepAliveTimeout).
  // At 5 s, a loaded machine let clients reuse a socket just as the server closed it ("other side closed").
  server.keepAliveTimeout = 130_000;

  return {
    name: 'http',
    mount: (p, handler, authorize) => mounts.push([p, handler, authorize]),
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.removeListener('error', reject);
          const address = server.address();
          options.onListening(typeof address === 'object' && address !== null ? address.port : options.port);
          for (const route of routes) {
            ctx.log.log('information', 'host', `${route.fn.metadata.name}: [${route.methods?.join(',') ?? 'ALL'}] ${ctx.baseUrl()}${prefix}/${route.template}`);
          }
          resolve();
        });
      }),
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        if (inFlight === 0) return;
        idle = () => server.closeAllConnections();
      }),
  };
};
