import { app } from '@azure/functions';
import { healthHandler } from './handlers/healthHandler';
import { getDependencies } from './lib/dependencies';

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: healthHandler(getDependencies().healthProbes) });
