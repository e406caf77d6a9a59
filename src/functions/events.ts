import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { eventStatusHandler } from './handlers/eventStatusHandler';
import { ingestEventHandler } from './handlers/ingestEventHandler';
import { eventStatusRecord, ingestRecord } from './lib/composition';
import { configuredHttp } from './lib/configured';

const durableClient = df.input.durableClient();

// The bearer key is checked by the handler: one key scheme in Azure and locally.
app.http('ingestEvent', { route: 'events', methods: ['POST'], authLevel: 'anonymous', extraInputs: [durableClient], handler: configuredHttp(() => ingestEventHandler(ingestRecord())) });
app.http('eventStatus', { route: 'events/{id}', methods: ['GET'], authLevel: 'anonymous', extraInputs: [durableClient], handler: configuredHttp(() => eventStatusHandler(eventStatusRecord())) });
