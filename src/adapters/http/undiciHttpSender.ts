import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { Agent } from 'undici';
import type { PortRanges } from '../../domain/destination';
import type { AttemptResult, BodyRead } from '../../domain/outcome';
import { MAX_TIMEOUT_MS } from '../../domain/webhook';
import { guardedConnector, type ResolveAll } from './destinationGuard';
import type { HttpSender, OutgoingRequest } from '../../ports/httpSender';
import { classifyNetworkError, describeNetworkError, sanitizeText } from './networkError';

export type UndiciHttpSenderSettings = {
  /** The whole attempt: connect, request, status and headers, and reading the capped body. */
  readonly timeoutMs: number;
  /** Response bytes kept for the excerpt; reading stops there and the connection is dropped. */
  readonly maxResponseBytes: number;
  readonly maxConnectionsPerOrigin: number;
  readonly allowPrivateDestinations: boolean;
  /** ALLOWED_DESTINATION_PORTS; absent or empty = any port. */
  readonly allowedDestinationPorts?: PortRanges;
  /** DNS resolution; tests inject one to play a rebinding DNS server. */
  readonly resolve?: ResolveAll;
};

export type ClosableHttpSender = HttpSender & {
  /** Waits for requests in flight, then closes the kept-alive connections. */
  readonly close: () => Promise<void>;
};

const MAX_HEADER_CHARS = 2048;

type Target = { readonly origin: string; readonly path: string };

const parseTarget = (text: string): Target | string => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'not an absolute URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} is not http or https`;
  // The registry refuses credentials in URLs; dropping them silently here would send unauthenticated.
  if (url.username !== '' || url.password !== '') return 'credentials in the URL are not sent; use the webhook headers';
  return { origin: url.origin, path: `${url.pathname}${url.search}` };
};

const firstHeader = (value: string | string[] | undefined): string | undefined => {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : sanitizeText(first, MAX_HEADER_CHARS);
};

type CappedBody = { readonly excerpt: string; readonly bodyRead: BodyRead; readonly bytes: number };

/** `text/html` from `Text/HTML; charset=utf-8`; undefined when absent or not a media type. */
const mediaType = (header: string | undefined): string | undefined => {
  const m = /^\s*([A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,64})\s*(?:;|$)/.exec(header ?? '');
  return m?.[1]?.toLowerCase();
};

/** Reads at most maxBytes, then destroys the body (and with it the connection): nothing more is buffered. */
const readCapped = async (body: AsyncIterable<Buffer> & { destroy: () => void }, maxBytes: number, timedOut: () => boolean): Promise<CappedBody> => {
  const decoder = new StringDecoder('utf8'); // holds back a character split at the cap instead of mangling it
  let text = '';
  let size = 0;
  const excerpt = (): string => sanitizeText(text, maxBytes);
  try {
    for await (const chunk of body) {
      const room = maxBytes - size;
      if (chunk.length > room) {
        text += decoder.write(chunk.subarray(0, room));
        body.destroy();
        return { excerpt: excerpt(), bodyRead: 'Capped', bytes: maxBytes };
      }
      text += decoder.write(chunk);
      size += chunk.length;
    }
    return { excerpt: excerpt() + sanitizeText(decoder.end(), maxBytes), bodyRead: 'Complete', bytes: size };
  } catch {
    return { excerpt: excerpt(), bodyRead: timedOut() ? 'TimedOut' : 'Failed', bytes: size };
  }
};

/**
 * The HttpSender on one shared undici Agent: keep-alive connections, at most
 * maxConnectionsPerOrigin per receiver, redirects not followed (a 3xx is an outcome), and the SSRF
 * guard in the connector.
 */
export const createUndiciHttpSender = (settings: UndiciHttpSenderSettings): ClosableHttpSender => {
  const agent = new Agent({
    connections: settings.maxConnectionsPerOrigin,
    // The agent's own timeouts are the widest a webhook may ask for (timeoutMs); each request's timer is the bound.
    headersTimeout: Math.max(settings.timeoutMs, MAX_TIMEOUT_MS),
    bodyTimeout: Math.max(settings.timeoutMs, MAX_TIMEOUT_MS),
    connect: guardedConnector({
      allowPrivate: settings.allowPrivateDestinations,
      ...(settings.allowedDestinationPorts === undefined ? {} : { allowedPorts: settings.allowedDestinationPorts }),
      connectTimeoutMs: Math.max(settings.timeoutMs, MAX_TIMEOUT_MS),
      ...(settings.resolve === undefined ? {} : { resolve: settings.resolve }),
    }),
  });

  const send = (request: OutgoingRequest) => async (): Promise<AttemptResult> => {
    const started = performance.now();
    const latencyMs = (): number => Math.round(performance.now() - started);
    const target = parseTarget(request.url);
    if (typeof target === 'string') return { kind: 'NetworkError', error: 'InvalidUrl', message: target, latencyMs: latencyMs() };

    // undici's own timeouts reset on every byte; this one bounds the attempt as a whole. The signal is
    // an emitter (undici takes either, and reads `reason` from it): an AbortController and its
    // listeners were about 4% of the host's CPU at fan-out 100 (docs/architecture.md item 32).
    const abortion: EventEmitter & { reason?: Error } = new EventEmitter();
    let timedOut = false;
    const timeoutMs = request.timeoutMs ?? settings.timeoutMs;
    const timer = setTimeout(() => {
      timedOut = true;
      abortion.reason = Object.assign(new Error(`no complete answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
      abortion.emit('abort');
    }, timeoutMs);
    try {
      const response = await agent.request({
        origin: target.origin,
        path: target.path,
        method: request.method ?? 'POST',
        headers: { ...request.headers },
        body: request.method === 'GET' ? null : request.body,
        signal: abortion,
      });
      const retryAfter = firstHeader(response.headers['retry-after']);
      const location = firstHeader(response.headers['location']);
      const contentType = mediaType(firstHeader(response.headers['content-type']));
      const { excerpt, bodyRead, bytes } = await readCapped(response.body, settings.maxResponseBytes, () => timedOut);
      return {
        kind: 'Response',
        status: response.statusCode,
        latencyMs: latencyMs(),
        excerpt,
        bodyRead,
        bodyBytes: bytes,
        ...(contentType === undefined ? {} : { contentType }),
        ...(retryAfter === undefined ? {} : { retryAfter }),
        ...(location === undefined ? {} : { location }),
      };
    } catch (error) {
      return {
        kind: 'NetworkError',
        error: timedOut ? 'Timeout' : classifyNetworkError(error),
        message: describeNetworkError(error),
        latencyMs: latencyMs(),
      };
    } finally {
      clearTimeout(timer);
    }
  };

  return { send, close: () => agent.close() };
};
