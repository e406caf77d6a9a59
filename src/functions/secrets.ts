import { app } from '@azure/functions';
import { ensuredTable } from '../adapters/tables/tables';
import { tableStaleSecrets } from '../adapters/tables/tableStaleSecrets';
import { resealSecretsHandler } from './handlers/secretsHandlers';
import { configuredHttp } from './lib/configured';
import { getDependencies } from './lib/dependencies';
import { noStore } from './lib/responses';

/* Re-encryption after a SECRETS_KEY rotation (docs/secrets.md). */

app.http('resealSecrets', {
  route: 'secrets/reseal',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: noStore(
    configuredHttp(() => {
      const deps = getDependencies();
      const staleSecrets = tableStaleSecrets(
        ensuredTable({ connectionString: deps.config.AzureWebJobsStorage, tableName: deps.config.WEBHOOKS_TABLE, timeoutMs: deps.config.STORAGE_TIMEOUT_MS }),
        deps.keyring.current.id,
      );
      return resealSecretsHandler({ adminApiKey: deps.config.ADMIN_API_KEY, webhooks: deps.webhooks, staleSecrets });
    }),
  ),
});
