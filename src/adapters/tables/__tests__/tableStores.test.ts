import { TableClient } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { withDeadStorage } from '../../../../local-host/testing/deadStorage';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import type { EventId } from '../../../domain/events';
import { PUBLIC_EVENT_NAMES, PUBLIC_EVENTS, type PublicEventName } from '../../../domain/catalogue';
import type { Subscription, Webhook, WebhookId } from '../../../domain/webhook';
import type { WebhookStore } from '../../../ports/webhookStore';
import { aWebhook, testKeyring, withoutSecrets } from '../../../domain/__tests__/fixtures';
import { PAYLOAD_CHUNK_CHARS, tableEventStore } from '../tableEventStore';
import { ensuredTable } from '../tables';
import { tableWebhookStore } from '../tableWebhookStore';
import { INDEX_META_KEY, indexedEvents, PARTITION_KEY } from '../webhookKeys';
import { expectRight as run } from '../../../__tests__/taskEither';

const suffix = `${process.pid}${Date.now() % 100000}`;

const allSubscribed = async (store: WebhookStore, eventName: PublicEventName, pageSize: number): Promise<{ ids: string[]; pages: number }> => {
  const ids: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await run(store.pageSubscribedTo({ eventName, continuationToken: token, pageSize }));
    ids.push(...page.items.map((w) => w.id));
    token = page.continuationToken;
    pages++;
  } while (token !== undefined);
  return { ids, pages };
};

describe('table webhook store (Azurite)', () => {
  const tableName = `whstore${suffix}`;
  const connectionString = storageConnectionString();
  const store = tableWebhookStore(ensuredTable({ connectionString, tableName }), { keyring: testKeyring });
  const raw = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
  const rowKeys = async (): Promise<string[]> => {
    const keys: string[] = [];
    for await (const e of raw.listEntities()) keys.push(e.rowKey ?? '');
    return keys.filter((k) => k !== INDEX_META_KEY).sort();
  };

  afterAll(async () => {
    await raw.deleteTable();
  });

  it('indexes a webhook under every public event its subscriptions cover, once each', () => {
    const events = ['ping', 'service:subscribed', 'service:cancelled'];
    expect(indexedEvents(aWebhook({ subscriptions: ['*', 'ping'] }), events)).toEqual(events);
    expect(indexedEvents(aWebhook({ subscriptions: ['service:*' as Subscription, 'service:subscribed'] }), events)).toEqual(['service:subscribed', 'service:cancelled']);
    expect(indexedEvents(aWebhook({ subscriptions: ['ping'] }), events)).toEqual(['ping']);
    expect(indexedEvents(aWebhook({ subscriptions: ['other:*' as Subscription] }), events)).toEqual([]);
  });

  it('moves every index row of a `*` subscriber in one update with the catalogue as it is (one entity-group transaction: at most 100 rows)', async () => {
    // Every routing value changes: the main row, every index row deleted and every one written again.
    const routing = [...new Set(PUBLIC_EVENT_NAMES.flatMap((e) => PUBLIC_EVENTS[e].requiredAttributes))];
    const w = aWebhook({ subscriptions: ['*'], attributes: Object.fromEntries(routing.map((a) => [a, `${a}-old`])) });
    await run(store.create(w));
    const mine = async (): Promise<string[]> => (await rowKeys()).filter((k) => k.startsWith('sub|') && k.endsWith(`|${w.id}`));
    const before = await mine();
    expect(before).toHaveLength(PUBLIC_EVENT_NAMES.length);
    await run(store.update(w.id, (c) => E.right({ ...c, attributes: Object.fromEntries(routing.map((a) => [a, `${a}-new`])) })));
    const after = await mine();
    expect(after).toHaveLength(PUBLIC_EVENT_NAMES.length);
    expect(after.filter((k) => before.includes(k))).toEqual([]);
    expect(1 + before.length + after.length).toBeLessThanOrEqual(100);
    await run(store.delete(w.id));
  });

  it('keeps one main row and one index row per covered event through create, replace and delete', async () => {
    const w = aWebhook({ subscriptions: ['ping', 'service:subscribed'], attributes: { name: 'n1', serviceId: 's1' } });
    await run(store.create(w));
    expect(await rowKeys()).toEqual([`sub|ping|n1|${w.id}`, `sub|service:subscribed|s1|${w.id}`, `webhook|${w.id}`]);
    expect(await run(store.get(w.id))).toEqual(w);

    await run(store.update(w.id, (c) => E.right({ ...c, subscriptions: ['*'] })));
    expect(await rowKeys()).toEqual([`sub|ping|n1|${w.id}`, `sub|service:subscribed|s1|${w.id}`, `webhook|${w.id}`]);

    // Another routing value moves the row; losing the attribute removes it (the event requires it).
    await run(store.update(w.id, (c) => E.right({ ...c, attributes: { name: 'n2' } })));
    expect(await rowKeys()).toEqual([`sub|ping|n2|${w.id}`, `webhook|${w.id}`]);

    const back = await run(store.update(w.id, (c) => E.right({ ...c, subscriptions: ['ping'] })));
    expect(await rowKeys()).toEqual([`sub|ping|n2|${w.id}`, `webhook|${w.id}`]);
    expect((await run(store.pageSubscribedTo({ eventName: 'ping', pageSize: 10 }))).items).toEqual([withoutSecrets(back)]);

    // Disabled, or waiting for endpoint verification: no index rows, so the fan-out does not read it.
    await run(store.update(w.id, (c) => E.right({ ...c, disabled: true })));
    expect(await rowKeys()).toEqual([`webhook|${w.id}`]);
    await run(store.update(w.id, (c) => E.right({ ...c, disabled: false, verified: false })));
    expect(await rowKeys()).toEqual([`webhook|${w.id}`]);
    expect((await run(store.pageSubscribedTo({ eventName: 'ping', pageSize: 10 }))).items).toEqual([]);
    const verified = await run(store.update(w.id, (c) => E.right({ ...c, verified: true })));
    expect(await rowKeys()).toEqual([`sub|ping|n2|${w.id}`, `webhook|${w.id}`]);
    expect((await run(store.pageSubscribedTo({ eventName: 'ping', pageSize: 10 }))).items).toEqual([withoutSecrets(verified)]);

    await run(store.delete(w.id));
    expect(await rowKeys()).toEqual([]);
    expect(await store.get(w.id)()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
    expect(await store.delete(w.id)()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
    expect(await store.update(w.id, (c) => E.right(c))()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
  });

  it('passes the errors of a change through and writes nothing', async () => {
    const w = aWebhook({ subscriptions: ['ping'] });
    await run(store.create(w));
    expect(await store.update(w.id, () => E.left({ kind: 'Invalid', message: 'no', details: [] }))()).toEqual(E.left({ kind: 'Invalid', message: 'no', details: [] }));
    expect(await run(store.get(w.id))).toEqual(w);
    await run(store.delete(w.id));
  });

  it('a second create of the same id is a Conflict', async () => {
    const w = aWebhook();
    await run(store.create(w));
    expect(await store.create(w)()).toEqual(E.left(expect.objectContaining({ kind: 'Conflict' })));
    await run(store.delete(w.id));
  });

  it('hides a tombstone left by a crash between the two steps of a delete, and a delete cleans it up', async () => {
    const w = aWebhook({ subscriptions: ['ping'], attributes: { name: 'tomb' } });
    await run(store.create(w));
    // What a crash after the transaction leaves: the main row marked deleted, no index rows.
    await raw.updateEntity({ partitionKey: PARTITION_KEY, rowKey: `webhook|${w.id}`, deleted: true }, 'Merge');
    await raw.deleteEntity(PARTITION_KEY, `sub|ping|tomb|${w.id}`);
    expect(await store.get(w.id)()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
    expect((await run(store.list({ limit: 10 }))).items.map((x) => x.id)).not.toContain(w.id);
    await raw.deleteEntity(PARTITION_KEY, `webhook|${w.id}`);
  });

  it('lists in pages and pages through the subscribers of one event (`*` included) without the others', async () => {
    const pingers = Array.from({ length: 5 }, (_, i) => aWebhook({ subscriptions: ['ping'], attributes: { name: `p${i}` } }));
    const wildcards = Array.from({ length: 3 }, (_, i) => aWebhook({ subscriptions: ['*', 'ping'], attributes: { name: `w${i}`, serviceId: `svc${i}` } }));
    const services = Array.from({ length: 4 }, (_, i) => aWebhook({ subscriptions: ['service:subscribed'], attributes: { serviceId: `svc${i}` } }));
    const all: Webhook[] = [...pingers, ...wildcards, ...services];
    for (const w of all) await run(store.create(w));

    const listed: string[] = [];
    let token: string | undefined;
    do {
      const page = await run(store.list({ limit: 5, continuationToken: token }));
      expect(page.items.length).toBeLessThanOrEqual(5);
      listed.push(...page.items.map((w) => w.id));
      token = page.continuationToken;
    } while (token !== undefined);
    expect(listed).toEqual(all.map((w) => w.id).sort());

    const ping = await allSubscribed(store, 'ping', 3);
    expect(ping.ids.sort()).toEqual([...pingers, ...wildcards].map((w) => w.id).sort());
    expect(ping.pages).toBe(3);
    const service = await allSubscribed(store, 'service:subscribed', 100);
    expect(service.ids.sort()).toEqual([...wildcards, ...services].map((w) => w.id).sort());
    expect(service.pages).toBe(1);

    expect(await store.list({ limit: 5, continuationToken: 'garbage' })()).toEqual(E.left(expect.objectContaining({ kind: 'Invalid' })));
    expect(await store.pageSubscribedTo({ eventName: 'ping', pageSize: 5, continuationToken: 'e30' })()).toEqual(E.left(expect.objectContaining({ kind: 'Invalid' })));
    for (const w of all) await run(store.delete(w.id));
  });

  it('reads only the rows of one routing value when the event names it, whatever the value holds', async () => {
    const odd = 'a|b/c\\d?e#f%g é\u0001 end';
    const long = 'x'.repeat(256);
    const surrogate = '\ud800 lone';
    const named = (name: string, extra: Partial<Webhook> = {}) => aWebhook({ subscriptions: ['ping'], attributes: { name }, ...extra });
    const webhooks = [named('alpha'), named('alpha', { subscriptions: ['*'] }), named('alphabet'), named(odd), named(long), aWebhook({ subscriptions: ['ping'], attributes: {} }), named(surrogate)];
    for (const w of webhooks) await run(store.create(w));
    const [alpha, alphaToo, alphabet, oddOne, longOne, unnamed, surrogateOne] = webhooks as [Webhook, Webhook, Webhook, Webhook, Webhook, Webhook, Webhook];
    const routed = async (routingValue: string, pageSize = 10): Promise<string[]> => {
      const ids: string[] = [];
      let token: string | undefined;
      do {
        const page = await run(store.pageSubscribedTo({ eventName: 'ping', routingValue, continuationToken: token, pageSize }));
        ids.push(...page.items.map((w) => w.id));
        token = page.continuationToken;
      } while (token !== undefined);
      return ids.sort();
    };
    // A prefix of another value is not that value; pages stay within the value.
    expect(await routed('alpha', 1)).toEqual([alpha.id, alphaToo.id].sort());
    expect(await routed('alphabet')).toEqual([alphabet.id]);
    expect(await routed(odd)).toEqual([oddOne.id]);
    expect(await routed(long)).toEqual([longOne.id]);
    // A lone surrogate (stored before text had to be well formed; the registry refuses it now): the
    // row stays readable, as stored, so its index keys still match (answers repair it: responses.ts).
    expect(await routed(surrogate)).toEqual([surrogateOne.id]);
    expect(await routed('nobody')).toEqual([]);
    // Without a value: every webhook that has a name, and only those.
    expect((await allSubscribed(store, 'ping', 2)).ids.sort()).toEqual([alpha, alphaToo, alphabet, oddOne, longOne, surrogateOne].map((w) => w.id).sort());
    expect((await rowKeys()).filter((k) => k.endsWith(unnamed.id))).toEqual([`webhook|${unnamed.id}`]);
    // A token of one value's pages is refused for another value.
    const first = await run(store.pageSubscribedTo({ eventName: 'ping', routingValue: 'alpha', pageSize: 1 }));
    expect(await store.pageSubscribedTo({ eventName: 'ping', routingValue: 'alphabet', pageSize: 1, continuationToken: first.continuationToken })()).toEqual(
      E.left(expect.objectContaining({ kind: 'Invalid' })),
    );
    for (const w of webhooks) await run(store.delete(w.id));
  });

  it('rebuilds the index when the public events change, on the first fan-out of a process', async () => {
    const reindexTable = `${tableName}re`;
    const open = (publicEvents: string[]): WebhookStore => tableWebhookStore(ensuredTable({ connectionString, tableName: reindexTable }), { publicEvents, keyring: testKeyring });
    const rawRe = TableClient.fromConnectionString(connectionString, reindexTable, { allowInsecureConnection: true });
    const keysOf = async (): Promise<string[]> => {
      const keys: string[] = [];
      for await (const e of rawRe.listEntities()) keys.push(e.rowKey ?? '');
      return keys.filter((k) => k.startsWith('sub|')).sort();
    };
    try {
      // Written by a deploy whose catalogue had only `ping`.
      const before = open(['ping']);
      const attributes = { name: 'n', serviceId: 's' };
      const everything = aWebhook({ subscriptions: ['*'], attributes });
      const services = aWebhook({ subscriptions: ['service:*' as Subscription], attributes });
      const pinger = aWebhook({ subscriptions: ['ping'], attributes });
      for (const w of [everything, services, pinger]) await run(before.create(w));
      expect((await run(before.pageSubscribedTo({ eventName: 'ping', pageSize: 10 }))).items.map((w) => w.id).sort()).toEqual([everything.id, pinger.id].sort());
      // Rows a crash or an older layout can leave: an index row of a webhook that is gone, a `*` row,
      // a row without the routing value (the layout before routing values).
      await rawRe.createEntity({ partitionKey: PARTITION_KEY, rowKey: 'sub|ping|n|01HGONEGONEGONEGONEGONEGONE' });
      await rawRe.createEntity({ partitionKey: PARTITION_KEY, rowKey: `sub|*|${everything.id}` });
      await rawRe.createEntity({ partitionKey: PARTITION_KEY, rowKey: `sub|ping|${pinger.id}` });

      // The next deploy adds `service:subscribed`: its first fan-out finds the wildcard and the pattern subscriber.
      const after = open(['ping', 'service:subscribed']);
      const service = await allSubscribed(after, 'service:subscribed', 10);
      expect(service.ids.sort()).toEqual([everything.id, services.id].sort());
      expect(await keysOf()).toEqual([`sub|ping|n|${everything.id}`, `sub|ping|n|${pinger.id}`, `sub|service:subscribed|s|${everything.id}`, `sub|service:subscribed|s|${services.id}`].sort());
      expect(await run(after.get(everything.id))).toEqual(everything);

      // Same catalogue in another process: one read of the meta row, no second rebuild.
      await rawRe.createEntity({ partitionKey: PARTITION_KEY, rowKey: 'sub|service:subscribed|s|01HLATELATELATELATELATELATE' });
      await run(open(['ping', 'service:subscribed']).pageSubscribedTo({ eventName: 'ping', pageSize: 10 }));
      expect(await keysOf()).toContain('sub|service:subscribed|s|01HLATELATELATELATELATELATE');

      // A deploy that drops `ping` drops its rows.
      await run(open(['service:subscribed']).pageSubscribedTo({ eventName: 'service:subscribed', pageSize: 10 }));
      expect(await keysOf()).toEqual([`sub|service:subscribed|s|${everything.id}`, `sub|service:subscribed|s|${services.id}`].sort());
    } finally {
      await rawRe.deleteTable();
    }
  });

  it('reports a corrupt row as Permanent instead of trusting it', async () => {
    const id = '01HZZZZZZZZZZZZZZZZZZZZZZZ' as WebhookId;
    await raw.createEntity({
      partitionKey: PARTITION_KEY,
      rowKey: `webhook|${id}`,
      webhookId: id,
      url: 'ftp://x',
      subscriptions: '[]',
      attributes: '{}',
      headers: '{}',
      disabled: false,
      secret: 'x',
      createdAt: 'x',
      updatedAt: 'x',
      deleted: false,
    });
    expect(await store.get(id)()).toEqual(E.left(expect.objectContaining({ kind: 'Permanent' })));
    await raw.deleteEntity(PARTITION_KEY, `webhook|${id}`);
  });
});

describe('table event store (Azurite)', () => {
  const tableName = `evstore${suffix}`;
  const connectionString = storageConnectionString();
  const store = tableEventStore(ensuredTable({ connectionString, tableName }));
  afterAll(async () => {
    await TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true }).deleteTable();
  });

  it('adds once, then answers AlreadyExists with the stored event; large payloads span several properties', async () => {
    const event = { id: 'evt-1' as EventId, name: 'ping' as const, payload: { name: 'é'.repeat(PAYLOAD_CHUNK_CHARS * 2 + 10) }, receivedAt: '2024-05-01T10:00:00.000Z', status: 'accepted' as const };
    expect(await run(store.add(event))).toEqual({ kind: 'Added' });
    expect(await run(store.add({ ...event, payload: { name: 'other' } }))).toEqual({ kind: 'AlreadyExists', existing: event });
    expect(await run(store.get(event.id))).toEqual(event);
    expect(await store.get('nope' as EventId)()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
  });

  it('keeps every non-ASCII character of a large payload, wherever the request body is cut in transit', async () => {
    // Azurite decodes each received chunk of a request body on its own, so a multi-byte character
    // cut by a chunk boundary came back as U+FFFD. Bodies of 100 KB and more arrive in several
    // chunks; the prefixes move every boundary by one byte, so some cut a character mid-way.
    const names = ['', 'a', 'ab', 'abc'].map((prefix) => `${prefix}${'é€😀'.repeat(12_000)}`);
    for (const [i, name] of names.entries()) {
      const event = { id: `evt-utf8-${i}` as EventId, name: 'ping' as const, payload: { name }, receivedAt: '2024-05-01T10:00:00.000Z', status: 'accepted' as const };
      expect(await run(store.add(event))).toEqual({ kind: 'Added' });
      const stored = (await run(store.get(event.id))).payload as { name: string };
      // Compared as a summary: a diff of 48 000 characters helps nobody.
      expect({ length: stored.name.length, replaced: stored.name.split('\ufffd').length - 1, same: stored.name === name }).toEqual({ length: name.length, replaced: 0, same: true });
    }
  });

  it('storage that does not answer is Transient', async () => {
    await withDeadStorage(async (deadConnection) => {
      const down = tableEventStore(ensuredTable({ connectionString: deadConnection, tableName }));
      const result = await down.add({ id: 'evt-2' as EventId, name: 'ping:all', payload: {}, receivedAt: '2024-05-01T10:00:00.000Z', status: 'accepted' })();
      expect(E.isLeft(result) && result.left.kind).toBe('Transient');
    });
  });
});
