import * as TE from 'fp-ts/TaskEither';
import { HttpRequest, InvocationContext } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { memoryEventStore } from '../../adapters/__tests__/memory/memoryEventStore';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import type { EventId } from '../../domain/events';
import { TenantName } from '../../domain/tenant';
import { AttributeValue } from '../../domain/attributes';
import { HeaderValue } from '../../domain/webhook';
import { NonEmptyString, repairedText, WellFormedString } from '../../domain/strings';
import { formatValidationErrors } from '../../domain/decodeErrors';
import { ingestEventHandler } from '../handlers/ingestEventHandler';
import { webhookCollectionHandler, webhookItemHandler } from '../handlers/webhookHandlers';
import { readBodyBytes } from '../lib/body';
import { json } from '../lib/responses';
import { adminOnly } from './fakes';

const INGEST_KEY = 'ingest-key-0123456789';
const ADMIN_KEY = 'admin-key-0123456789ab';
const context = () => new InvocationContext({ invocationId: 'test', functionName: 'test', logHandler: () => undefined });
const post = (url: string, key: string, body: string): HttpRequest => new HttpRequest({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, body: { string: body } });

// JSON text with the escape `\ud800` in it: JSON.parse turns it into a lone surrogate.
const LONE = '\\ud800';
const LONE_MESSAGE = 'must be well-formed Unicode text (it holds a lone surrogate such as \\ud800)';

describe('ill-formed Unicode is refused in every decoded string', () => {
  const setup = () => {
    const webhooks = memoryWebhookStore();
    const deps = { webhooks, clock: { now: () => new Date(0) }, randomBytes: (n: number) => new Uint8Array(n).fill(7), adminApiKey: ADMIN_KEY, ...adminOnly() };
    return { webhooks, collection: webhookCollectionHandler(deps), item: webhookItemHandler(deps) };
  };

  it.each([
    ['an attribute value', `{"url":"https://a.example/","subscriptions":["ping"],"attributes":{"name":"${LONE}"}}`, 'attributes.name'],
    ['an attribute value with a low surrogate alone', `{"url":"https://a.example/","subscriptions":["ping"],"attributes":{"name":"a\\udc00b"}}`, 'attributes.name'],
    ['an attribute name (a key)', `{"url":"https://a.example/","subscriptions":["ping"],"attributes":{"${LONE}":"x"}}`, 'attributes (a key)'],
    ['a subscription', `{"url":"https://a.example/","subscriptions":["ping${LONE}"]}`, 'subscriptions.0'],
    ['a field no codec reads', `{"url":"https://a.example/","subscriptions":["ping"],"extra":"${LONE}"}`, 'extra'],
  ])('a webhook with a lone surrogate in %s: 400 naming it, nothing stored', async (_what, body, path) => {
    const { webhooks, collection } = setup();
    const res = await collection(post('http://localhost/api/webhooks', ADMIN_KEY, body), context());
    expect(res.status).toBe(400);
    expect((res.jsonBody as { details: string[] }).details).toEqual([`${path}: ${LONE_MESSAGE}`]);
    expect(webhooks.rows.size).toBe(0);
  });

  it('stores astral characters (emoji) and reads them back exactly', async () => {
    const { collection, item } = setup();
    const name = 'caf\u00e9 \u{1F600}\u{1F469}\u200D\u{1F4BB} \u{10FFFF}';
    const created = await collection(post('http://localhost/api/webhooks', ADMIN_KEY, JSON.stringify({ url: 'https://a.example/', subscriptions: ['ping'], attributes: { name } })), context());
    expect(created.status).toBe(201);
    const { id } = created.jsonBody as { id: string };
    const got = await item(new HttpRequest({ method: 'GET', url: `http://localhost/api/webhooks/${id}`, headers: { authorization: `Bearer ${ADMIN_KEY}` }, params: { id } }), context());
    expect((got.jsonBody as { attributes: Record<string, string> }).attributes.name).toBe(name);
  });

  it('an event whose payload holds a lone surrogate: 400, nothing stored', async () => {
    const events = memoryEventStore();
    const handler = ingestEventHandler({
      events,
      clock: { now: () => new Date(0) },
      newEventId: () => 'generated' as EventId,
      ingestApiKey: INGEST_KEY,
      maxEventBodyBytes: 1000,
      startDispatch: () => () => TE.right(undefined),
    });
    const res = await handler(post('http://localhost/api/events', INGEST_KEY, `{"name":"ping","payload":{"name":"x${LONE}"}}`), context());
    expect(res.status).toBe(400);
    expect((res.jsonBody as { details: string[] }).details).toEqual([`payload.name: ${LONE_MESSAGE}`]);
    expect(events.rows.size).toBe(0);
  });

  it.each([
    ['WellFormedString', WellFormedString],
    ['NonEmptyString (refinedString)', NonEmptyString],
    ['AttributeValue (checkedString)', AttributeValue],
    ['TenantName', TenantName],
    ['HeaderValue', HeaderValue],
  ])('the codec %s refuses a lone surrogate with a message that says so, and takes emoji', (_name, codec) => {
    const refused = codec.decode('ab\ud800');
    expect(E.isLeft(refused) && formatValidationErrors(refused.left)).toEqual([`(body): ${LONE_MESSAGE}`]);
    expect(codec.is('ab\udc00')).toBe(false);
    if (codec !== HeaderValue) expect(codec.decode('ok \u{1F600}')).toEqual(E.right('ok \u{1F600}'));
  });
});

describe('rows stored before the rule', () => {
  it('are answered well formed: every JSON answer replaces a lone surrogate with U+FFFD', () => {
    expect(json(200, { items: [{ attributes: { name: 'planted \ud800' } }] }).jsonBody).toEqual({ items: [{ attributes: { name: 'planted \uFFFD' } }] });
  });

  it('read with U+FFFD for each lone surrogate, keys too; well-formed text and other values unchanged', () => {
    const when = new Date(0);
    expect(repairedText({ a: 'x\ud800y', ['k\udc00']: ['\u{1F600}', 'z\ud83d', 3, null], when })).toEqual({ a: 'x\uFFFDy', ['k\uFFFD']: ['\u{1F600}', 'z\uFFFD', 3, null], when });
  });

  it('finds a lone surrogate however deep, in a key too, and repairs a copy, never the row read', () => {
    const row = { outer: [{ inner: { ['deep\udc00']: 'ok' } }] };
    expect(repairedText(row)).toEqual({ outer: [{ inner: { ['deep\uFFFD']: 'ok' } }] });
    expect(Object.keys(row.outer[0]?.inner ?? {})).toEqual(['deep\udc00']);
  });

  it('gives back a value that needs no repair as it is, without copying it (every row read on the delivery path)', () => {
    const row = { url: 'https://receiver.example/hook', attributes: { name: 'caf\u00e9 \u{1F600}' }, list: ['a', 1, null] };
    expect(repairedText(row)).toBe(row);
  });
});

describe('the app body reader', () => {
  /** A request whose body is made on demand (never whole in memory); counts the bytes pulled. */
  const lazyRequest = (bytes: number, headers: Record<string, string> = {}) => {
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024);
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (pulled >= bytes) return controller.close();
          pulled += chunk.length;
          controller.enqueue(chunk);
        },
      },
      { highWaterMark: 0 },
    );
    const request = { headers: new Headers(headers), body } as unknown as HttpRequest;
    return { request, pulled: () => pulled };
  };

  it('stops reading a body as soon as it passes the limit (413), without pulling the rest', async () => {
    const { request, pulled } = lazyRequest(60 * 1024 * 1024);
    const read = await readBodyBytes(request, 64 * 1024);
    expect(E.isLeft(read) && read.left.kind).toBe('TooLarge');
    expect(pulled()).toBeLessThanOrEqual(3 * 64 * 1024);
  });

  it('refuses a declared Content-Length over the limit before reading a byte', async () => {
    const { request, pulled } = lazyRequest(60 * 1024 * 1024, { 'content-length': String(60 * 1024 * 1024) });
    const read = await readBodyBytes(request, 64 * 1024);
    expect(E.isLeft(read) && read.left.kind).toBe('TooLarge');
    expect(pulled()).toBe(0);
  });

  it('reads a body within the limit whole', async () => {
    const { request } = lazyRequest(128 * 1024);
    const read = await readBodyBytes(request, 1024 * 1024);
    expect(E.isRight(read) && read.right.length).toBe(128 * 1024);
  });
});
