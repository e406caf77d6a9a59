import { app } from '@azure/functions';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { encodeMessage, ensuredQueue } from '../adapters/queues/storageDeliveryQueue';
import { storageError } from '../adapters/tables/storageErrors';
import { websubQueueName } from '../domain/websub';
import { websubHandler, websubVerificationHandler } from './handlers/websubHandlers';
import { configuredHttp, configuredTrigger } from './lib/configured';
import { getDeliveryDependencies } from './lib/deliveryDependencies';
import { noStore } from './lib/responses';

/* WebSub subscribe/unsubscribe (docs/tenants.md), and the queue-triggered intent verification. */


app.http('websub', {
  route: 'websub',
  methods: ['POST'],
  authLevel: 'anonymous',
  // hub.secret travels in the request; the answer carries none, but a rule with exceptions gets forgotten.
  handler: noStore(configuredHttp(() => {
    const deps = getDeliveryDependencies();
    const queue = ensuredQueue({ connectionString: deps.config.AzureWebJobsStorage, queueName: websubQueueName(deps.config.DELIVERIES_QUEUE), timeoutMs: deps.config.STORAGE_TIMEOUT_MS });
    return websubHandler({
      ...deps,
      adminApiKey: deps.config.ADMIN_API_KEY,
      allowPrivateDestinations: deps.config.ALLOW_PRIVATE_DESTINATIONS,
      allowedDestinationPorts: deps.config.ALLOWED_DESTINATION_PORTS,
      enqueueVerification: (job) =>
        pipe(
          TE.tryCatch(async () => {
            await (await queue.ready()).sendMessage(encodeMessage(job), { abortSignal: queue.signal() });
          }, storageError('queue a WebSub verification')),
        ),
    });
  })),
});

app.storageQueue('websubVerify', { queueName: '%DELIVERIES_QUEUE%-websub', connection: 'AzureWebJobsStorage', handler: configuredTrigger(() => websubVerificationHandler(getDeliveryDependencies())) });
