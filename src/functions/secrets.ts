import { app } from '@azure/functions';
import { ensuredTable } from '../adapters/tables/tables';
import { tableStaleSecrets } from '../adapters/tables/tableStaleSecrets';
import { resealSecretsHandler } from './handlers/secretsHandlers';
import { getDependencies } from './lib/dependencies';

/* Re-encryption after a SECRETS_KEY rotation (docs/secrets.md). */

const deps = getDependencies();
const staleSecrets = tableStaleSecrets(ensuredTable({ connectionString: deps.config.AzureWebJobsStorage, tableName: deps.config.WEBHOOKS_TABLE }), deps.keyring.current.id);

app.http('resealSecrets', {
  route: 'secrets/reseal',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: resealSecretsHandler({ adminApiKey: deps.config.ADMIN_API_KEY, webhooks: deps.webhooks, staleSecrets }),
});
