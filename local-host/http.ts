import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { HostComponent, HostContext, RawHttpHandler } from './core/component';
import { functionsWithTrigger, triggerBinding } from './core/invoke';
import type { RegisteredFunction, RpcHttp } from './core/types';

/** Azure's front end refuses request bodies over 100 MB; so does the local host. */
export const MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024;

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

const readBody = (req: IncomingMessage, limit: number): Promise<Buffer | 'tooLarge'> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'tooLarge' : Buffer.concat(chunks)));
    req.on('error', reject);
  });

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

type RpcCookie = { name?: string; value?: string; domain?: { value?: string }; path?: { value?: string }; secure?: { value?: boolean }; httpOnly?: { value?: boolean }; sameSite?: number; maxAge?: { value?: number } };

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
export const createHttpComponent = (ctx: HostContext, options: { port: number; host: string; onListening: (port: number) => void }): HostComponent & { mount: (prefix: string, handler: RawHttpHandler) => void } => {
  const prefix = (ctx.hostJson.extensions?.http?.routePrefix ?? 'api').replace(/^\/|\/$/g, '');
  const routes: Route[] = functionsWithTrigger(ctx.invoker.registry, 'httpTrigger').map((fn) => {
    const [, binding] = triggerBinding(fn);
    const template = typeof binding.route === 'string' ? binding.route : fn.metadata.name;
    const methods = Array.isArray(binding.methods) ? binding.methods.map((m) => String(m).toUpperCase()) : undefined;
    return { fn, template, segments: parseRoute(template), methods };
  });
  const mounts: [string, RawHttpHandler][] = [];
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const handleFunction = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname.split('/').filter((s) => s.length > 0).map(decodeURIComponent);
    if (prefix !== '' && path.shift()?.toLowerCase() !== prefix.toLowerCase()) {
      return sendJson(res, 404, { error: 'NotFound', message: `No route for ${req.method} ${url.pathname}` });
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const matching = routes
      .map((route) => ({ route, params: matchRoute(route.segments, path) }))
      .filter((m): m is { route: Route; params: Record<string, string> } => m.params !== undefined);
    const match = matching.find((m) => m.route.methods === undefined || m.route.methods.includes(method));
    if (match === undefined) {
      return matching.length > 0
        ? sendJson(res, 405, { error: 'MethodNotAllowed', message: `${method} is not allowed on ${url.pathname}` })
        : sendJson(res, 404, { error: 'NotFound', message: `No route for ${method} ${url.pathname}` });
    }
    const body = await readBody(req, MAX_REQUEST_BODY_BYTES);
    if (body === 'tooLarge') return sendJson(res, 413, { error: 'PayloadTooLarge', message: `Request bodies are limited to ${MAX_REQUEST_BODY_BYTES} bytes` });
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => (query[key] = value));
    const outcome = await ctx.invoker.invoke(match.route.fn, {
      data: { http: { method, url: url.toString(), headers: flatHeaders(req), query, params: match.params, body: { bytes: body } } },
    });
    ctx.log.invocation({ function: match.route.fn.metadata.name, invocationId: outcome.invocationId, durationMs: outcome.durationMs, outcome: outcome.kind, trigger: 'http', error: outcome.kind === 'failed' ? outcome.error.message : undefined });
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

  const server = http.createServer((req, res) => {
    inFlight++;
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    const mounted = mounts.find(([p]) => url.pathname.startsWith(p));
    const work = mounted
      ? readBody(req, MAX_REQUEST_BODY_BYTES).then((body) => (body === 'tooLarge' ? sendJson(res, 413, { error: 'PayloadTooLarge' }) : mounted[1](req, res, body)))
      : handleFunction(req, res, url);
    work
      .catch((e: unknown) => {
        ctx.log.log('error', 'host', `HTTP request failed: ${(e as Error).stack ?? String(e)}`);
        if (!res.headersSent) sendJson(res, 500, { error: 'InternalServerError', message: 'The host failed to serve the request' });
        else res.destroy();
      })
      .finally(() => {
        inFlight--;
        if (inFlight === 0) idle?.();
      });
  });
  server.keepAliveTimeout = 5_000;

  return {
    name: 'http',
    mount: (p, handler) => mounts.push([p, handler]),
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
