import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/Either';
import { ensuredTable } from '../src/adapters/tables/tables';
import { tableWebhookStore } from '../src/adapters/tables/tableWebhookStore';
import { systemClock } from '../src/ports/clock';
import { createWebhook } from '../src/usecases/createWebhook';
import { runConcurrently } from './baselines';

const SEED_CONCURRENCY = 32;

/**
 * Registers many webhooks through the product's own use case and table store, from the bench process
 * and straight to Azurite: through the HTTP API the host registers about 40 a second on two shared
 * cores, which would spend the whole time budget on 10 000 registrations. Same rows, same keys.
 */
export const seedWebhooks =
  (options: { connectionString: string; tableName: string; name: string }) =>
  async (input: { count: number; firstIndex: number; urlFor: (i: number) => string }): Promise<void> => {
    const create = createWebhook({ webhooks: tableWebhookStore(ensuredTable({ connectionString: options.connectionString, tableName: options.tableName })), clock: systemClock, randomBytes: (n) => randomBytes(n), allowPrivateDestinations: true });
    await runConcurrently(input.count, SEED_CONCURRENCY, async (i) => {
      const result = await create({ url: input.urlFor(input.firstIndex + i), subscriptions: ['ping'], attributes: { name: options.name } })();
      if (E.isLeft(result)) throw new Error(`seeding webhook ${input.firstIndex + i}: ${result.left.kind}: ${result.left.message}`);
    });
  };
