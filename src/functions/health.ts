import { app } from '@azure/functions';
import { healthRoute } from './handlers/healthHandler';
import { healthRecord } from './lib/composition';

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: healthRoute(() => healthRecord().healthProbes) });
