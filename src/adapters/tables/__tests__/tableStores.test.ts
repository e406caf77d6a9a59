import { TableClient } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';
import { connectionStringFor, freePorts } from '../../../../local-host/azurite';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import type { EventId } from '../../../domain/events';
import type { PublicEventName } from '../../../domain/catalogue';
import type { Webhook, WebhookId } from '../../../domain/webhook';
import type { WebhookStore } from '../../../ports/webhookStore';
import { aWebhook } from '../../../domain/__tests__/fixtures';
import { PAYLOAD_CHUNK_CHARS, tableEventStore } from '../tableEventStore';
import { ensuredTable } from '../tables';
import { PARTITION_KEY, tableWebhookStore } from '../tableWebhookStore';

const suffix = `${process.pid}${Date.now() % 100000}`;

const run = async <A>(task: TE.TaskEither<unknown, A>): Promise<A> => {
  const result = await task();
  if (E.isLeft(result)) throw new Error(`expected success, got ${JSON.stringify(result.left)}`);
  return result.right;
};

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
  const store = tableWebhookStore(ensuredTable({ connectionString, tableName }));
  const raw = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
  const rowKeys = async (): Promise<string[]> => {
    const keys: string[] = [];
    for await (const e of raw.listEntities()) keys.push(e.rowKey ?? '');
    return keys.sort();
  };

  afterAll(async () => {
    await raw.deleteTable();
  });

  it('keeps one main row and one index row per subscription through create, replace and delete', async () => {
    const w = aWebhook({ subscriptions: ['ping', 'service:subscribed'] });
    await run(store.create(w));
    expect(await rowKeys()).toEqual([`sub|ping|${w.id}`, `sub|service:subscribed|${w.id}`, `webhook|${w.id}`]);
    expect(await run(store.get(w.id))).toEqual(w);

    await run(store.update(w.id, (c) => E.right({ ...c, subscriptions: ['*'] })));
    expect(await rowKeys()).toEqual([`sub|*|${w.id}`, `webhook|${w.id}`]);

    const back = await run(store.update(w.id, (c) => E.right({ ...c, subscriptions: ['ping'], disabled: true })));
    expect(await rowKeys()).toEqual([`sub|ping|${w.id}`, `webhook|${w.id}`]);
    expect((await run(store.pageSubscribedTo({ eventName: 'ping', pageSize: 10 }))).items).toEqual([back]);

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
    const w = aWebhook({ subscriptions: ['ping'] });
    await run(store.create(w));
    // What a crash after the transaction leaves: the main row marked deleted, no index rows.
    await raw.updateEntity({ partitionKey: PARTITION_KEY, rowKey: `webhook|${w.id}`, deleted: true }, 'Merge');
    await raw.deleteEntity(PARTITION_KEY, `sub|ping|${w.id}`);
    expect(await store.get(w.id)()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
    expect((await run(store.list({ limit: 10 }))).items.map((x) => x.id)).not.toContain(w.id);
    await raw.deleteEntity(PARTITION_KEY, `webhook|${w.id}`);
  });

  it('lists in pages and pages through the subscribers of one event (`*` included) without the others', async () => {
    const pingers = Array.from({ length: 5 }, () => aWebhook({ subscriptions: ['ping'] }));
    const wildcards = Array.from({ length: 3 }, () => aWebhook({ subscriptions: ['*', 'ping'] }));
    const services = Array.from({ length: 4 }, () => aWebhook({ subscriptions: ['service:subscribed'] }));
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

  it('reports a corrupt row as Permanent instead of trusting it', async () => {
    const id = '01HZZZZZZZZZZZZZZZZZZZZZZZ' as WebhookId;
    await raw.createEntity({ partitionKey: PARTITION_KEY, rowKey: `webhook|${id}`, webhookId: id, url: 'ftp://x', subscriptions: '[]', attributes: '{}', headers: '{}', disabled: false, secret: 'x', createdAt: 'x', updatedAt: 'x', deleted: false });
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

  it('storage that does not answer is Transient', async () => {
    const down = tableEventStore(ensuredTable({ connectionString: connectionStringFor(await freePorts()), tableName }));
    const result = await down.add({ id: 'evt-2' as EventId, name: 'ping:all', payload: {}, receivedAt: '2024-05-01T10:00:00.000Z', status: 'accepted' })();
    expect(E.isLeft(result) && result.left.kind).toBe('Transient');
  });
});
