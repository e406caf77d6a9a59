import { app } from '@azure/functions';
import { CONSOLE_HEADERS, CONSOLE_HTML } from '../console/page';

// The page holds no data: it is served without a key, and sends the keys it is given on its own calls.
app.http('console', { route: 'console', methods: ['GET'], authLevel: 'anonymous', handler: async () => ({ status: 200, headers: { ...CONSOLE_HEADERS }, body: CONSOLE_HTML }) });
