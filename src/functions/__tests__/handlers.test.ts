import * as TE from 'fp-ts/TaskEither';
import { HttpRequest, type HttpResponseInit, InvocationContext } from '@azure/functions';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import type { EventId } from '../../domain/events';
import { healthHandler } from '../handlers/healthHandler';
import { ingestEventHandler } from '../handlers/ingestEventHandler';
import { MAX_WEBHOOK_BODY_BYTES, webhookCollectionHandler, webhookItemHandler } from '../handlers/webhookHandlers';
import { sameSecret } from '../lib/auth';
import { adminOnly } from './fakes';

const INGEST_KEY = 'ingest-key-0123456789';
const ADMIN_KEY = 'admin-key-0123456789ab';
const context = () => new InvocationContext({ invocationId: 'test', functionName: 'test', logHandler: () => undefined });

const request = (options: { method?: string; url?: string; key?: string; body?: string; headers?: Record<string, string>; params?: Record<string, string> }): HttpRequest =>
  new HttpRequest({
    method: options.method ?? 'POST',
    url: options.url ?? 'http://localhost/api/events',
    headers: { ...(options.key === undefined ? {} : { authorization: `Bearer ${options.key}` }), ...options.headers },
    body: options.body === undefined ? undefined : { string: options.body },
    params: options.params,
  });

const ingestSetup = () => {
  const events = memoryEventStore();
  const handler = ingestEventHandler({
    events,
    clock: { now: () => new Date(0) },
    newEventId: () => 'generated' as EventId,
    ingestApiKey: INGEST_KEY,
    maxEventBodyBytes: 100,
    startDispatch: () => () => TE.right(undefined),
  });
  return { events, handler };
};

const statusOf = (r: HttpResponseInit) => ({ status: r.status, body: r.jsonBody as unknown });

describe('ingest handler', () => {
  it('202 with the id once stored', async () => {
    const { events, handler } = ingestSetup();
    expect(statusOf(await handler(request({ key: INGEST_KEY, body: '{"name":"ping:all"}' }), context()))).toEqual({ status: 202, body: { id: 'generated' } });
    expect(events.rows.has('generated')).toBe(true);
  });

  it.each([
    ['no header', {}],
    ['a wrong key', { authorization: 'Bearer wrong-key-0123456789' }],
    ['the admin key', { authorization: `Bearer ${ADMIN_KEY}` }],
    ['another scheme', { authorization: `Basic ${INGEST_KEY}` }],
  ])('401 with %s', async (_, headers) => {
    const { events, handler } = ingestSetup();
    const res = await handler(request({ headers, body: '{"name":"ping:all"}' }), context());
    expect(res.status).toBe(401);
    expect(events.rows.size).toBe(0);
  });

  it('413 from Content-Length alone, and from the bytes when the header is absent', async () => {
    const { handler } = ingestSetup();
    const big = JSON.stringify({ name: 'ping', payload: { name: 'x'.repeat(200) } });
    expect((await handler(request({ key: INGEST_KEY, body: '{}', headers: { 'content-length': '101' } }), context())).status).toBe(413);
    expect((await handler(request({ key: INGEST_KEY, body: big }), context())).status).toBe(413);
  });

  it('400 for empty, non-JSON and non-UTF-8 bodies', async () => {
    const { handler } = ingestSetup();
    expect(statusOf(await handler(request({ key: INGEST_KEY }), context()))).toEqual({
      status: 400,
      body: { error: 'Invalid', message: 'The body is invalid', details: ['(body): is required (a JSON object)'] },
    });
    const notJson = await handler(request({ key: INGEST_KEY, body: '{"name":' }), context());
    expect(notJson.status).toBe(400);
    expect((notJson.jsonBody as { details: string[] }).details[0]).toMatch(/^\(body\): is not valid JSON/);
    const latin1 = new HttpRequest({ method: 'POST', url: 'http://localhost/api/events', headers: { authorization: `Bearer ${INGEST_KEY}` }, body: { bytes: Uint8Array.from([0x7b, 0xe9, 0x7d]) } });
    expect(statusOf(await ingestSetup().handler(latin1, context()))).toEqual({ status: 400, body: { error: 'Invalid', message: 'The body is invalid', details: ['(body): must be UTF-8 text'] } });
  });

  it('503 when storage is down, never 202', async () => {
    const { events, handler } = ingestSetup();
    events.failWith = { kind: 'Transient', message: 'Storage is unavailable: ECONNREFUSED' };
    const res = await handler(request({ key: INGEST_KEY, body: '{"name":"ping:all"}' }), context());
    expect(statusOf(res)).toEqual({ status: 503, body: { error: 'Transient', message: 'Storage is unavailable; try again later' } });
  });

  it('500 without details for a Permanent failure', async () => {
    const { events, handler } = ingestSetup();
    events.failWith = { kind: 'Permanent', message: 'row corrupt' };
    expect(statusOf(await handler(request({ key: INGEST_KEY, body: '{"name":"ping:all"}' }), context()))).toEqual({
      status: 500,
      body: { error: 'Permanent', message: 'The request failed; see the function log' },
    });
  });
});

describe('webhook handlers', () => {
  const setup = () => {
    const webhooks = memoryWebhookStore();
    const deps = { webhooks, clock: { now: () => new Date(0) }, randomBytes: (n: number) => new Uint8Array(n).fill(7), adminApiKey: ADMIN_KEY, ...adminOnly() };
    return { webhooks, collection: webhookCollectionHandler(deps), item: webhookItemHandler(deps) };
  };

  it('401 for the ingest key on every route', async () => {
    const { collection, item } = setup();
    expect((await collection(request({ url: 'http://localhost/api/webhooks', key: INGEST_KEY, body: '{}' }), context())).status).toBe(401);
    expect((await item(request({ method: 'GET', url: 'http://localhost/api/webhooks/x', key: INGEST_KEY, params: { id: 'x' } }), context())).status).toBe(401);
  });

  it('413 over the registry body limit', async () => {
    const { collection } = setup();
    const res = await collection(request({ url: 'http://localhost/api/webhooks', key: ADMIN_KEY, body: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES + 1) }), context());
    expect(res.status).toBe(413);
  });

  it('GET shows no secret; DELETE answers 204 without a body', async () => {
    const { collection, item } = setup();
    const created = await collection(request({ url: 'http://localhost/api/webhooks', key: ADMIN_KEY, body: '{"url":"https://a.example/","subscriptions":["*"]}' }), context());
    const { id, secret } = created.jsonBody as { id: string; secret: string };
    expect(secret).toMatch(/^whsec_/);
    const got = await item(request({ method: 'GET', url: `http://localhost/api/webhooks/${id}`, key: ADMIN_KEY, params: { id } }), context());
    expect(got.status).toBe(200);
    expect(got.jsonBody).not.toHaveProperty('secret');
    const deleted = await item(request({ method: 'DELETE', url: `http://localhost/api/webhooks/${id}`, key: ADMIN_KEY, params: { id } }), context());
    expect(deleted).toEqual({ status: 204 });
  });
});

describe('health handler', () => {
  it('200 when every probe answers, 503 naming the ones that do not', async () => {
    const ok = { name: 'tables', check: async () => undefined };
    const down = { name: 'queues', check: async () => Promise.reject(new Error('ECONNREFUSED')) };
    const req = request({ method: 'GET', url: 'http://localhost/api/health' });
    expect(statusOf(await healthHandler([ok])(req, context()))).toEqual({ status: 200, body: { status: 'ok', checks: { tables: 'ok' } } });
    expect(statusOf(await healthHandler([ok, down])(req, context()))).toEqual({
      status: 503,
      body: { status: 'unavailable', message: 'Not answering: queues', checks: { tables: 'ok', queues: 'down' } },
    });
  });
});

describe('sameSecret', () => {
  it('compares whole strings, whatever their lengths', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
    expect(sameSecret('', 'abc')).toBe(false);
  });
});
