import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { DESTINATION_NOT_ALLOWED, guardedLookup, type ResolveAll } from '../destinationGuard';

type Answer = { error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

const lookupWith = (lookup: LookupFunction, hostname: string, options: Parameters<LookupFunction>[1]): Promise<Answer> =>
  new Promise((resolve) => lookup(hostname, options, (error, address, family) => resolve({ error, address, family })));

const resolvesTo =
  (addresses: LookupAddress[], seen: Array<{ family?: number; hints?: number }> = []): ResolveAll =>
  (_hostname, options, callback) => {
    seen.push({ ...options });
    callback(null, addresses);
  };

describe('guardedLookup', () => {
  const publicV4 = { address: '93.184.216.34', family: 4 };
  const publicV6 = { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 };

  it('answers in the shape asked for: one address, or all of them', async () => {
    const lookup = guardedLookup({ allowPrivate: false, resolve: resolvesTo([publicV4, publicV6]) });
    expect(await lookupWith(lookup, 'example.com', {})).toEqual({ error: null, address: publicV4.address, family: 4 });
    expect(await lookupWith(lookup, 'example.com', { all: true })).toEqual({ error: null, address: [publicV4, publicV6], family: undefined });
  });

  it('passes the family and hints on to the resolver', async () => {
    const seen: Array<{ family?: number; hints?: number }> = [];
    const lookup = guardedLookup({ allowPrivate: false, resolve: resolvesTo([publicV6], seen) });
    await lookupWith(lookup, 'example.com', { family: 6, hints: 32 });
    await lookupWith(lookup, 'example.com', { family: 'IPv4' });
    expect(seen).toEqual([{ family: 6, hints: 32 }, { family: 4 }]);
  });

  it.each([
    ['loopback', [{ address: '127.0.0.1', family: 4 }]],
    ['cloud metadata', [{ address: '169.254.169.254', family: 4 }]],
    ['IPv6 unique local', [{ address: 'fd00::1', family: 6 }]],
    ['one private among public', [publicV4, { address: '192.168.0.10', family: 4 }]],
  ])('refuses a name resolving to %s', async (_label, addresses) => {
    const lookup = guardedLookup({ allowPrivate: false, resolve: resolvesTo(addresses) });
    const answer = await lookupWith(lookup, 'internal.example', { all: true });
    expect(answer.error).toMatchObject({ code: DESTINATION_NOT_ALLOWED, host: 'internal.example' });
  });

  it('lets private answers through when allowed', async () => {
    const lookup = guardedLookup({ allowPrivate: true, resolve: resolvesTo([{ address: '127.0.0.1', family: 4 }]) });
    expect(await lookupWith(lookup, 'localhost', {})).toEqual({ error: null, address: '127.0.0.1', family: 4 });
  });

  it('passes resolver errors on, and treats an empty answer as not found', async () => {
    const failing: ResolveAll = (_h, _o, callback) => callback(Object.assign(new Error('nope'), { code: 'EAI_AGAIN' }), []);
    expect((await lookupWith(guardedLookup({ allowPrivate: false, resolve: failing }), 'x.example', {})).error).toMatchObject({
      code: 'EAI_AGAIN',
    });
    expect((await lookupWith(guardedLookup({ allowPrivate: false, resolve: resolvesTo([]) }), 'x.example', {})).error).toMatchObject({
      code: 'ENOTFOUND',
    });
  });
});
