import { app } from '@azure/functions';
import { resealSecretsHandler } from './handlers/secretsHandlers';
import { secretsRecord } from './lib/composition';
import { configuredHttp } from './lib/configured';
import { noStore } from './lib/responses';

/* Re-encryption after a SECRETS_KEY rotation (docs/secrets.md). */
app.http('resealSecrets', { route: 'secrets/reseal', methods: ['POST'], authLevel: 'anonymous', handler: noStore(configuredHttp(() => resealSecretsHandler(secretsRecord()))) });
