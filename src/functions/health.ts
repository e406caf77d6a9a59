import { app } from '@azure/functions';
import { ConfigError } from '../config';
import { healthHandler, misconfiguredHealthHandler } from './handlers/healthHandler';
import { healthRecord } from './lib/composition';

/** Health builds nothing at load either: while the settings are bad it answers 503 naming them. */
const health = () => {
  try {
    return healthHandler(healthRecord().healthProbes);
  } catch (e) {
    if (e instanceof ConfigError) return misconfiguredHealthHandler(e);
    throw e;
  }
};

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: (request, context) => health()(request, context) });
