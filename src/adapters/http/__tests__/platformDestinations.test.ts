import { TEST_SECRETS_KEY } from '../../../domain/__tests__/fixtures';
import { randomBytes } from 'node:crypto';
import { HttpRequest, InvocationContext } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { memoryWebhookStore } from '../../__tests__/memory/memoryWebhookStore';
import { decodeConfig } from '../../../config';
import { classifyAddress, type PortRanges } from '../../../domain/destination';
import { webhookCollectionHandler } from '../../../functions/handlers/webhookHandlers';
import { DESTINATION_NOT_ALLOWED, guardedLookup, type ResolveAll } from '../destinationGuard';
import { createUndiciHttpSender, type ClosableHttpSender } from '../undiciHttpSender';
import { startServer, type TestServer } from './testServer';
import { adminOnly } from '../../../functions/__tests__/fakes';

const ADMIN_KEY = 'admin-key-0123456789ab';
const PLATFORM_ALWAYS = 'refused always, even with ALLOW_PRIVATE_DESTINATIONS=true';

describe('platform addresses are refused even with ALLOW_PRIVATE_DESTINATIONS=true', () => {
  it.each([
    ['168.63.129.16', 'the Azure platform wire server (168.63.129.16)'],
    ['169.254.169.254', 'link-local, cloud metadata (169.254.0.0/16, e.g. 169.254.169.254)'],
    ['169.254.1.1', 'link-local, cloud metadata (169.254.0.0/16, e.g. 169.254.169.254)'],
    ['::ffff:169.254.169.254', 'IPv4-mapped link-local, cloud metadata (169.254.0.0/16, e.g. 169.254.169.254)'],
    ['64:ff9b::a83f:8110', 'NAT64 the Azure platform wire server (168.63.129.16)'],
    ['fd00:ec2::254', 'cloud instance metadata over IPv6 (fd00:ec2::254)'],
    ['fe80::1', 'link-local (fe80::/10)'],
  ])('%s is a platform address: %s', (address, range) => {
    expect(classifyAddress(address)).toEqual({ kind: 'NotPublic', range, platform: true });
  });

  it.each(['10.0.0.1', '127.0.0.1', '172.16.0.1', 'fd00::1'])('%s is private, not a platform address', (address) => {
    expect(classifyAddress(address)).toMatchObject({ kind: 'NotPublic' });
    expect(classifyAddress(address)).not.toHaveProperty('platform');
  });

  const resolvesTo =
    (address: string, family: number): ResolveAll =>
    (_host, _options, callback) =>
      callback(null, [{ address, family }]);
  const lookupError = (lookup: ReturnType<typeof guardedLookup>, host: string): Promise<NodeJS.ErrnoException | null> => new Promise((resolve) => lookup(host, {}, (error) => resolve(error)));

  it('a name resolving to the metadata or wire server is refused at connect time, saying why', async () => {
    for (const [address, family] of [
      ['169.254.169.254', 4],
      ['168.63.129.16', 4],
      ['fd00:ec2::254', 6],
    ] as const) {
      const error = await lookupError(guardedLookup({ allowPrivate: true, resolve: resolvesTo(address, family) }), 'metadata.example');
      expect(error).toMatchObject({ code: DESTINATION_NOT_ALLOWED, address });
      expect(error?.message).toContain(PLATFORM_ALWAYS);
    }
    expect(await lookupError(guardedLookup({ allowPrivate: true, resolve: resolvesTo('127.0.0.1', 4) }), 'loop.example')).toBeNull();
  });

  const setup = (options: { allowPrivate: boolean; ports?: PortRanges }) => {
    const webhooks = memoryWebhookStore();
    const collection = webhookCollectionHandler({
      webhooks,
      clock: { now: () => new Date(0) },
      randomBytes: (n: number) => new Uint8Array(randomBytes(n)),
      adminApiKey: ADMIN_KEY,
      ...adminOnly(),
      allowPrivateDestinations: options.allowPrivate,
      ...(options.ports === undefined ? {} : { allowedDestinationPorts: options.ports }),
    });
    const create = async (url: string) =>
      collection(
        new HttpRequest({
          method: 'POST',
          url: 'http://localhost/api/webhooks',
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
          body: { string: JSON.stringify({ url, subscriptions: ['ping'] }) },
        }),
        new InvocationContext({ invocationId: 't', functionName: 't', logHandler: () => undefined }),
      );
    return { webhooks, create };
  };

  it.each([
    ['http://169.254.169.254/metadata/instance', '169.254.0.0/16'],
    ['http://[::ffff:169.254.169.254]/', '169.254.0.0/16'],
    ['http://168.63.129.16/machine', '168.63.129.16'],
    ['http://[fd00:ec2::254]/latest', 'fd00:ec2::254'],
  ])('registering %s is a 400 naming the range, nothing stored', async (url, range) => {
    const { webhooks, create } = setup({ allowPrivate: true });
    const res = await create(url);
    expect(res.status).toBe(400);
    const [detail] = (res.jsonBody as { details: string[] }).details;
    expect(detail).toContain(range);
    expect(detail).toContain('platform addresses are refused even with ALLOW_PRIVATE_DESTINATIONS=true');
    expect(webhooks.rows.size).toBe(0);
  });

  it('private destinations stay allowed when the setting says so', async () => {
    const { create } = setup({ allowPrivate: true });
    expect((await create('http://127.0.0.1:7071/x')).status).toBe(201);
  });
});

describe('ALLOWED_DESTINATION_PORTS', () => {
  it('decodes ports and ranges; empty means any; a bad list names the setting', () => {
    const base = {
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      INGEST_API_KEY: 'ingest-key-0123456789-abcdefghijklmnop',
      ADMIN_API_KEY: 'admin-key-0123456789-abcdefghijklmnopq',
      SECRETS_KEY: TEST_SECRETS_KEY,
      SUBJECT_HASH_KEY: 'subject-hash-key-0123456789abcdefghij',
    };
    const decoded = decodeConfig({ ...base, ALLOWED_DESTINATION_PORTS: '443, 8000-8100' });
    expect(E.isRight(decoded) && decoded.right.ALLOWED_DESTINATION_PORTS).toEqual([
      { from: 443, to: 443 },
      { from: 8000, to: 8100 },
    ]);
    const empty = decodeConfig(base);
    expect(E.isRight(empty) && empty.right.ALLOWED_DESTINATION_PORTS).toEqual([]);
    for (const bad of ['0', '70000', '5-3', 'https', '443;80']) {
      const refused = decodeConfig({ ...base, ALLOWED_DESTINATION_PORTS: bad });
      expect(E.isLeft(refused) && refused.left.message).toContain('ALLOWED_DESTINATION_PORTS: must be a comma-separated list of ports');
    }
  });

  const setup = (ports: PortRanges) => {
    const webhooks = memoryWebhookStore();
    const collection = webhookCollectionHandler({
      webhooks,
      clock: { now: () => new Date(0) },
      randomBytes: (n: number) => new Uint8Array(randomBytes(n)),
      adminApiKey: ADMIN_KEY,
      ...adminOnly(),
      allowedDestinationPorts: ports,
    });
    const create = async (url: string) =>
      collection(
        new HttpRequest({
          method: 'POST',
          url: 'http://localhost/api/webhooks',
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
          body: { string: JSON.stringify({ url, subscriptions: ['ping'] }) },
        }),
        new InvocationContext({ invocationId: 't', functionName: 't', logHandler: () => undefined }),
      );
    return { webhooks, create };
  };

  it('registration: a port outside the list is a 400 naming it and the allowed ones; the default port counts', async () => {
    const { webhooks, create } = setup([
      { from: 443, to: 443 },
      { from: 9000, to: 9100 },
    ]);
    const res = await create('https://a.example:8443/hook');
    expect(res.status).toBe(400);
    expect((res.jsonBody as { details: string[] }).details).toEqual(['url: must use an allowed port (443, 9000-9100; ALLOWED_DESTINATION_PORTS), not 8443']);
    expect((await create('http://a.example/hook')).status).toBe(400);
    expect(webhooks.rows.size).toBe(0);
    expect((await create('https://a.example/hook')).status).toBe(201);
    expect((await create('https://a.example:9050/hook')).status).toBe(201);
  });

  describe('delivery', () => {
    let server: TestServer;
    const senders: ClosableHttpSender[] = [];
    beforeAll(async () => {
      server = await startServer((_req, res) => res.end('ok'));
    });
    afterAll(async () => {
      await Promise.all(senders.map((s) => s.close()));
      await server.close();
    });
    const send = (ports: PortRanges) => {
      const sender = createUndiciHttpSender({ timeoutMs: 5000, maxResponseBytes: 64, maxConnectionsPerOrigin: 2, allowPrivateDestinations: true, allowedDestinationPorts: ports });
      senders.push(sender);
      return sender.send({ url: server.url('/hook'), headers: {}, body: '{}' })();
    };

    it('refuses to connect to a port outside the list, saying which, and the receiver sees nothing', async () => {
      const refused = await send([{ from: 443, to: 443 }]);
      expect(refused).toMatchObject({ kind: 'NetworkError', error: 'DestinationNotAllowed' });
      expect(JSON.stringify(refused)).toContain(`port ${server.port} is not one of ALLOWED_DESTINATION_PORTS (443)`);
      expect(server.requests).toHaveLength(0);
      expect(await send([{ from: server.port, to: server.port }])).toMatchObject({ kind: 'Response', status: 200 });
      expect(server.requests).toHaveLength(1);
    });
  });
});
