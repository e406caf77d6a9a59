import { app } from '@azure/functions';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { encodeMessage, ensuredQueue } from '../adapters/queues/storageDeliveryQueue';
import { storageError } from '../adapters/tables/storageErrors';
import { websubQueueName } from '../domain/websub';
import { websubHandler, websubVerificationHandler } from './handlers/websubHandlers';
import { getDeliveryDependencies } from './lib/deliveryDependencies';

/* WebSub subscribe/unsubscribe (docs/tenants.md), and the queue-triggered intent verification. */

const deps = getDeliveryDependencies();
const queue = ensuredQueue({ connectionString: deps.config.AzureWebJobsStorage, queueName: websubQueueName(deps.config.DELIVERIES_QUEUE) });

app.http('websub', {
  route: 'websub',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: websubHandler({
    ...deps,
    adminApiKey: deps.config.ADMIN_API_KEY,
    allowPrivateDestinations: deps.config.ALLOW_PRIVATE_DESTINATIONS,
    allowedDestinationPorts: deps.config.ALLOWED_DESTINATION_PORTS,
    enqueueVerification: (job) =>
      pipe(
        TE.tryCatch(async () => {
          await (await queue.ready()).sendMessage(encodeMessage(job));
        }, storageError('queue a WebSub verification')),
      ),
  }),
});

app.storageQueue('websubVerify', { queueName: '%DELIVERIES_QUEUE%-websub', connection: 'AzureWebJobsStorage', handler: websubVerificationHandler(deps) });
