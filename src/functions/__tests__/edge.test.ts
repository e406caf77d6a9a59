import { HttpRequest, InvocationContext } from '@azure/functions';
import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import { decodeOrInvalid } from '../../usecases/decode';
import { ListEventsQuery, ListTenantsQuery, ListWebhooksQuery, PoisonListQuery } from '../lib/queries';
import { anyone, bearerKey, byMethod, route } from '../lib/route';

/* The HTTP edge without a host: the pipeline's order, the method dispatcher, and the query codecs. */

const KEY = 'edge-test-key-0123456789-abcdefghijkl';
const context = () => new InvocationContext();
const request = (options: { method?: string; query?: string; key?: string; body?: string }) =>
  new HttpRequest({
    method: options.method ?? 'POST',
    url: `http://localhost/api/things${options.query ?? ''}`,
    headers: options.key === undefined ? {} : { authorization: `Bearer ${options.key}` },
    ...(options.body === undefined ? {} : { body: { string: options.body } }),
    params: { id: 'thing-1' },
  });

describe('route', () => {
  const runs: unknown[] = [];
  const handler = route({
    auth: bearerKey(KEY),
    body: { limitBytes: 32 },
    query: ListWebhooksQuery,
    run: ({ id, body, query }) => {
      runs.push({ id, body, query });
      return TE.right({ status: 201, body: { id } });
    },
  });
  beforeEach(() => runs.splice(0));

  it('runs with the id, the body and the decoded query, and answers its status and JSON body', async () => {
    const res = await handler(request({ key: KEY, body: '{"a":1}', query: '?limit=7' }), context());
    expect({ status: res.status, body: res.jsonBody }).toEqual({ status: 201, body: { id: 'thing-1' } });
    expect(runs).toEqual([{ id: 'thing-1', body: { a: 1 }, query: { limit: 7 } }]);
  });

  it('checks the key first, then the body, then the query; a refusal runs nothing', async () => {
    expect((await handler(request({ body: 'not json', query: '?limit=0' }), context())).status).toBe(401);
    expect((await handler(request({ key: KEY, body: 'not json', query: '?limit=0' }), context())).status).toBe(400);
    expect((await handler(request({ key: KEY, body: JSON.stringify({ a: 'x'.repeat(40) }), query: '?limit=0' }), context())).status).toBe(413);
    const badQuery = await handler(request({ key: KEY, body: '{}', query: '?limit=0' }), context());
    expect({ status: badQuery.status, body: badQuery.jsonBody }).toEqual({
      status: 400,
      body: { error: 'Invalid', message: 'The query is invalid', details: ['limit: must be an integer from 1 to 100'] },
    });
    expect(runs).toEqual([]);
  });

  it('answers a status alone when the run gives no body (204, WebSub 202)', async () => {
    const empty = route({ auth: anyone, run: () => TE.right({ status: 204 }) });
    expect(await empty(request({}), context())).toEqual({ status: 204 });
  });

  it('an optional body is {} when absent, and still refused when malformed', async () => {
    const seen: unknown[] = [];
    const optional = route({ auth: anyone, body: { limitBytes: 100, optional: true }, run: ({ body }) => (seen.push(body), TE.right({ status: 200, body: {} })) });
    expect((await optional(request({}), context())).status).toBe(200);
    expect((await optional(request({ body: '{' }), context())).status).toBe(400);
    expect(seen).toEqual([{}]);
  });
});

describe('byMethod', () => {
  const ok = (status: number) => route({ auth: anyone, run: () => TE.right({ status, body: {} }) });
  const handler = byMethod({ GET: ok(200), POST: ok(201) });

  it('dispatches on the method, in any case', async () => {
    expect((await handler(request({ method: 'GET' }), context())).status).toBe(200);
    expect((await handler(request({ method: 'post' }), context())).status).toBe(201);
  });

  it('answers 405 naming the allowed methods in Allow', async () => {
    const res = await handler(request({ method: 'DELETE' }), context());
    expect({ status: res.status, allow: new Headers(res.headers).get('allow'), body: res.jsonBody }).toEqual({
      status: 405,
      allow: 'GET, POST',
      body: { error: 'MethodNotAllowed', message: 'DELETE is not allowed here' },
    });
  });
});

describe('the query codecs', () => {
  const decode = <A>(codec: Parameters<typeof decodeOrInvalid<A>>[0], query: Record<string, string>) => decodeOrInvalid(codec, query, { what: 'The query' });

  it('give the defaults for absent parameters', () => {
    expect(decode(ListEventsQuery, {})).toEqual(E.right({ limit: 20, sinceHours: 24 }));
    expect(decode(ListWebhooksQuery, {})).toEqual(E.right({ limit: 50 }));
    expect(decode(ListTenantsQuery, { continuationToken: 't' })).toEqual(E.right({ limit: 50, continuationToken: 't' }));
    expect(decode(PoisonListQuery, {})).toEqual(E.right({ limit: 32 }));
  });

  it.each([
    ['webhooks', ListWebhooksQuery, { limit: '0' }, 'limit: must be an integer from 1 to 100'],
    ['webhooks', ListWebhooksQuery, { limit: '101' }, 'limit: must be an integer from 1 to 100'],
    ['webhooks', ListWebhooksQuery, { limit: 'ten' }, 'limit: must be an integer from 1 to 100'],
    ['webhooks', ListWebhooksQuery, { limit: '-1' }, 'limit: must be an integer from 1 to 100'],
    ['webhooks', ListWebhooksQuery, { limit: ' 5' }, 'limit: must be an integer from 1 to 100'],
    ['webhooks', ListWebhooksQuery, { limit: '050' }, 'limit: must be an integer from 1 to 100'],
    ['events', ListEventsQuery, { limit: 'x' }, 'limit: must be an integer from 1 to 100'],
    ['events', ListEventsQuery, { sinceHours: '0' }, 'sinceHours: must be an integer from 1 to 168'],
    ['events', ListEventsQuery, { sinceHours: '169' }, 'sinceHours: must be an integer from 1 to 168'],
    ['tenants', ListTenantsQuery, { limit: '' }, 'limit: must be an integer from 1 to 100'],
    ['poison', PoisonListQuery, { limit: '33' }, 'limit: must be an integer from 1 to 32'],
  ])('the %s query refuses %j naming the parameter', (_route, codec, query, detail) => {
    expect(decode(codec as typeof ListWebhooksQuery, query)).toEqual(E.left({ kind: 'Invalid', message: 'The query is invalid', details: [detail] }));
  });
});
