import { odata } from '@azure/data-tables';
import * as E from 'fp-ts/Either';
import { storageConnectionString } from '../../../../local-host/testing/spawnHost';
import { expectRight as run } from '../../../__tests__/taskEither';
import { aWebhook, testKeyring } from '../../../domain/__tests__/fixtures';
import { ensuredTable } from '../tables';
import { tableWebhookStore } from '../tableWebhookStore';
import { fromIndexRow } from '../webhookRows';
import { PARTITION_KEY } from '../webhookKeys';

/*
 * The per-endpoint controls on the webhook rows (Azurite): written on the main row and on the index
 * rows the worker reads, and absent on rows written before them (read as the defaults).
 */

const table = ensuredTable({ connectionString: storageConnectionString(), tableName: `controls${process.pid}${Date.now() % 100000}` });
const store = tableWebhookStore(table, { keyring: testKeyring });
const controls = { rateLimitPerSecond: 20, maxAttempts: 3, format: 'standard', timeoutMs: 4000 } as const;

afterAll(async () => {
  await table.client.deleteTable().catch(() => undefined);
});

describe('webhook rows with per-endpoint controls', () => {
  it('main and index rows keep the controls; a webhook without them reads without them', async () => {
    const limited = await run(store.create(aWebhook({ subscriptions: ['ping'], attributes: { name: 'wh-controls' }, ...controls })));
    expect(await run(store.get(limited.id))).toMatchObject(controls);
    const index = table.client.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${PARTITION_KEY} and webhookId eq ${limited.id} and RowKey ge 'sub|' and RowKey lt 'sub}'` } });
    let rows = 0;
    for await (const row of index) {
      rows++;
      const read = fromIndexRow(row);
      expect(E.isRight(read) && read.right.webhook).toMatchObject(controls);
    }
    expect(rows).toBe(1);
    const plain = await run(store.create(aWebhook({ subscriptions: ['ping'], attributes: { name: 'wh-plain' } })));
    const back = await run(store.get(plain.id));
    for (const field of Object.keys(controls)) expect(back).not.toHaveProperty(field);
  });

  it('a row written before the controls existed (no such columns) reads as the defaults', async () => {
    const webhook = aWebhook({ subscriptions: ['ping'], attributes: { name: 'wh-old' } });
    await run(store.create(webhook));
    const client = await table.ready();
    const stored = await client.getEntity<Record<string, unknown>>(PARTITION_KEY, `webhook|${webhook.id}`);
    const { rateLimitPerSecond: _r, maxAttempts: _m, format: _f, etag: _e, timestamp: _t, ...old } = stored;
    await client.upsertEntity({ ...old, partitionKey: PARTITION_KEY, rowKey: `webhook|${webhook.id}` }, 'Replace');
    const read = await run(store.get(webhook.id));
    expect(read.id).toBe(webhook.id);
    for (const field of ['rateLimitPerSecond', 'maxAttempts', 'format']) expect(read).not.toHaveProperty(field);
  });
});
