import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { type AppError, transient } from '../../domain/errors';
import { opsEventId } from '../../domain/opsEvents';
import { signatureHeaders } from '../../domain/signature';
import type { WebhookSecret } from '../../domain/webhook';
import type { Clock } from '../../ports/clock';
import type { PublishOpsEvent } from '../../ports/opsEvents';
import type { HttpSender } from '../../ports/httpSender';

const USER_AGENT = 'webhook-dispatcher/0.1';

/** OPS_WEBHOOK_URL and OPS_WEBHOOK_SECRET: one signed POST per event, not retried (the caller logs a failure). */
export const httpOpsEvents =
  (deps: { url: string; secret: WebhookSecret; sender: HttpSender; clock: Clock }): PublishOpsEvent =>
  (event) => {
    const body = JSON.stringify(event);
    const timestampSeconds = Math.floor(deps.clock.now().getTime() / 1000);
    const headers = { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...signatureHeaders({ secrets: deps.secret, id: opsEventId(event), timestampSeconds, body }) };
    return pipe(
      TE.fromTask(deps.sender.send({ url: deps.url, headers, body })),
      TE.chain((result): TE.TaskEither<AppError, void> => {
        if (result.kind === 'Response' && result.status >= 200 && result.status <= 299) return TE.right(undefined);
        const why = result.kind === 'Response' ? `status ${result.status}` : result.error;
        return TE.left(transient(`the operational event ${event.name} was not accepted by OPS_WEBHOOK_URL (${why})`));
      }),
    );
  };

/** Without OPS_WEBHOOK_URL: nothing is sent. */
export const noOpsEvents: PublishOpsEvent = () => TE.right(undefined);
