import { app } from '@azure/functions';
import { openApiDocument } from '../openapi/document';

// No key: the contract is public, and tools fetch it before they hold one.
app.http('openApi', { route: 'openapi.json', methods: ['GET'], authLevel: 'anonymous', handler: async () => ({ status: 200, jsonBody: openApiDocument() }) });
