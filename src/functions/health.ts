import { app } from '@azure/functions';
import { ConfigError } from '../config';
import { healthHandler, misconfiguredHealthHandler } from './handlers/healthHandler';
import { getDependencies } from './lib/dependencies';

/** Health builds nothing at load either: while the settings are bad it answers 503 naming them. */
const health = () => {
  try {
    return healthHandler(getDependencies().healthProbes);
  } catch (e) {
    if (e instanceof ConfigError) return misconfiguredHealthHandler(e);
    throw e;
  }
};

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: (request, context) => health()(request, context) });
