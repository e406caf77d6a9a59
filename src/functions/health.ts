import { app, type HttpResponseInit } from '@azure/functions';

// Placeholder until settings and storage adapters land: the app answers, storage is checked later.
export const healthHandler = async (): Promise<HttpResponseInit> => ({ status: 200, jsonBody: { status: 'ok' } });

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: healthHandler });
