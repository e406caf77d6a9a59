import { HttpRequest, InvocationContext } from '@azure/functions';
import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import { erasureHandler, purgeCutoffOf, purgeEventsHandler } from '../handlers/privacyHandlers';

/* The privacy routes' edge without a host: the cutoff's rules, the key, and that nothing runs on a refusal. */

const ADMIN = 'privacy-admin-key-0123456789';
const NOW = new Date('2026-12-05T12:00:00.000Z');
const request = (query: string, key = ADMIN): HttpRequest => new HttpRequest({ method: 'DELETE', url: `http://localhost/api/events${query}`, headers: { authorization: `Bearer ${key}` } });

describe('purgeCutoffOf', () => {
  it.each([
    ['?before=2026-12-05T12:00:00Z', '2026-12-05T12:00:00.000Z'],
    ['?before=2026-12-05T13:30:00%2B02:00', '2026-12-05T11:30:00.000Z'],
    ['?before=2026-11-01T00:00:00.123Z', '2026-11-01T00:00:00.123Z'],
  ])('accepts %s as %s', (query, expected) => {
    expect(E.map((d: Date) => d.toISOString())(purgeCutoffOf(request(query), NOW))).toEqual(E.right(expected));
  });

  it.each([
    ['', 'before: is required (an ISO 8601 time with its zone (e.g. 2026-11-05T00:00:00Z))'],
    ['?before=2026-12-05', 'before: must be an ISO 8601 time with its zone (e.g. 2026-11-05T00:00:00Z)'],
    ['?before=2026-12-05T10:00:00', 'before: must be an ISO 8601 time with its zone (e.g. 2026-11-05T00:00:00Z)'],
    ['?before=1700000000', 'before: must be an ISO 8601 time with its zone (e.g. 2026-11-05T00:00:00Z)'],
    ['?before=2026-12-05T12:00:01Z', 'before: must not be in the future (now is 2026-12-05T12:00:00.000Z)'],
  ])('refuses %j naming the problem', (query, detail) => {
    expect(purgeCutoffOf(request(query), NOW)).toEqual(E.left({ kind: 'Invalid', message: 'The query is invalid', details: [detail] }));
  });
});

describe('the privacy handlers', () => {
  it('run nothing without the admin key or with a bad cutoff', async () => {
    let runs = 0;
    const purge = purgeEventsHandler({
      adminApiKey: ADMIN,
      clock: { now: () => NOW },
      purge: () => (runs++, TE.right({ deleted: { events: 0, attempts: 0, poison: 0 }, instances: 0, truncated: false })),
    });
    const erase = erasureHandler({ adminApiKey: ADMIN, erase: () => (runs++, TE.right({ deleted: { events: 0, attempts: 0, poison: 0 }, truncated: false })) });
    const context = new InvocationContext();
    expect((await purge(request('?before=2026-12-01T00:00:00Z', 'wrong-key-0123456789'), context)).status).toBe(401);
    expect((await purge(request('?before=tomorrow'), context)).status).toBe(400);
    expect((await erase(new HttpRequest({ method: 'POST', url: 'http://localhost/api/erasure', body: { string: '{}' } }), context)).status).toBe(401);
    expect((await erase(new HttpRequest({ method: 'POST', url: 'http://localhost/api/erasure', headers: { authorization: `Bearer ${ADMIN}` }, body: { string: 'not json' } }), context)).status).toBe(
      400,
    );
    expect(runs).toBe(0);
    expect((await purge(request('?before=2026-12-01T00:00:00Z'), context)).status).toBe(200);
    expect(runs).toBe(1);
  });
});
