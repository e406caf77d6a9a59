import { randomBytes } from 'node:crypto';
import * as E from 'fp-ts/Either';
import { ensuredTable } from '../src/adapters/tables/tables';
import { tableWebhookStore } from '../src/adapters/tables/tableWebhookStore';
import { keyring, SecretsKey } from '../src/domain/secretBox';
import { systemClock } from '../src/ports/clock';
import { createWebhook } from '../src/usecases/createWebhook';
import { SECRETS_KEY } from './app';
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
    const key = SecretsKey.decode(SECRETS_KEY);
    if (E.isLeft(key)) throw new Error('bench SECRETS_KEY does not decode');
    const create = createWebhook({
      webhooks: tableWebhookStore(ensuredTable({ connectionString: options.connectionString, tableName: options.tableName }), { keyring: keyring(key.right) }),
      clock: systemClock,
      randomBytes: (n) => randomBytes(n),
      allowPrivateDestinations: true,
    });
    await runConcurrently(input.count, SEED_CONCURRENCY, async (i) => {
      const result = await create({ url: input.urlFor(input.firstIndex + i), subscriptions: ['ping'], attributes: { name: options.name } })();
      if (E.isLeft(result)) throw new Error(`seeding webhook ${input.firstIndex + i}: ${result.left.kind}: ${result.left.message}`);
    });
  };
