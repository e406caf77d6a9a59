import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import { spawnHost, storageConnectionString } from '../testing/spawnHost';

/*
 * The local Durable runner keeps its state under names of its own (`lh` prefix), and refuses to start
 * on storage where a real Functions host keeps a task hub of the same name (the Azure Storage provider's
 * <hub>History table), whose work items it must never consume or delete.
 */

const appDir = path.join(__dirname, 'fixtures', 'durable-app');

describe('local Durable runner beside a real task hub', () => {
  it('uses lh-prefixed tables and queues, never the real provider names', async () => {
    const hub = `lhnames${randomUUID().slice(0, 8)}`;
    const host = await spawnHost({ appDir, env: { DURABLE_TEST_HUB: hub } });
    await host.stop();
    const tables: string[] = [];
    for await (const t of TableServiceClient.fromConnectionString(storageConnectionString(), { allowInsecureConnection: true }).listTables())
      if (t.name?.toLowerCase().includes(hub)) tables.push(t.name);
    const queues: string[] = [];
    for await (const q of QueueServiceClient.fromConnectionString(storageConnectionString()).listQueues({ prefix: '' })) if (q.name.includes(hub)) queues.push(q.name);
    expect({ tables: tables.sort(), queues: queues.sort() }).toEqual({ tables: [`lh${hub}Instances`], queues: [`lh${hub}-control`, `lh${hub}-workitems`] });
  });

  it("refuses to start where a real host's hub of that name lives, naming it", async () => {
    const hub = `realhub${randomUUID().slice(0, 8)}`;
    const history = TableClient.fromConnectionString(storageConnectionString(), `${hub}History`, { allowInsecureConnection: true });
    await history.createTable();
    try {
      await expect(spawnHost({ appDir, env: { DURABLE_TEST_HUB: hub } })).rejects.toThrow(new RegExp(`task hub '${hub}' of a real Functions host \\(table ${hub}History\\)`));
    } finally {
      await history.deleteTable();
    }
  });
});
