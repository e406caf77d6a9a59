import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { HttpSender } from '../ports/httpSender';
import { type DeliveryId } from '../domain/delivery';
import { type AppError, conflict } from '../domain/errors';
import type { AttemptResult } from '../domain/outcome';
import { redactFiscalCodes } from '../domain/privacy';
import { TEST_EVENT_NAME } from '../domain/replay';
import type { Principal } from '../domain/tenant';
import type { Webhook } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { RandomBytes } from '../ports/random';
import type { WebhookStore } from '../ports/webhookStore';
import { signedRequest } from './deliverMessage';
import { getWebhook } from './getWebhook';

/** The first bytes of the receiver's answer the caller sees: enough to recognise an error page. */
export const TEST_SEND_BODY_CHARS = 256;

/** What POST /api/webhooks/{id}/test answers: the one attempt's result, never retried. */
export type TestSendResult = {
  readonly deliveryId: string;
  /** True for a 2xx answer. */
  readonly ok: boolean;
  /** The receiver's status, or null when no answer came (then `error` says why). */
  readonly status: number | null;
  readonly durationMs: number;
  readonly body: string;
  readonly error?: string;
};

/**
 * One signed `webhook.test` delivery to this webhook only, whatever its subscriptions and attributes,
 * through the same sender and destination guard as deliveries (not the timeout breaker: a person is
 * waiting for this answer). A webhook waiting for endpoint verification gets nothing: its receiver
 * has not agreed to receive.
 */
export const testSend =
  (deps: { readonly webhooks: WebhookStore; readonly sender: HttpSender; readonly clock: Clock; readonly randomBytes: RandomBytes }) =>
  (input: { webhookId: string; principal: Principal }): TE.TaskEither<AppError, TestSendResult> =>
    pipe(
      getWebhook(deps.webhooks)(input.webhookId, input.principal),
      TE.chain((webhook): TE.TaskEither<AppError, Webhook> =>
        webhook.verified === false ? TE.left(conflict(`Webhook ${webhook.id} has not passed endpoint verification; POST /api/webhooks/{id}/verify first`)) : TE.right(webhook),
      ),
      TE.chain((webhook): TE.TaskEither<AppError, TestSendResult> => {
        const deliveryId = `msg_${Buffer.from(deps.randomBytes(16)).toString('hex')}` as DeliveryId;
        const request = signedRequest({ webhook, deliveryId, body: { name: TEST_EVENT_NAME, payload: {} }, at: deps.clock.now() });
        return pipe(
          TE.fromTask<AttemptResult, AppError>(deps.sender.send(request)),
          TE.map((result): TestSendResult =>
            result.kind === 'Response'
              ? {
                  deliveryId,
                  ok: result.status >= 200 && result.status < 300,
                  status: result.status,
                  durationMs: result.latencyMs,
                  body: redactFiscalCodes(result.excerpt).slice(0, TEST_SEND_BODY_CHARS),
                }
              : { deliveryId, ok: false, status: null, durationMs: result.latencyMs, body: '', error: `${result.error}: ${result.message}` },
          ),
        );
      }),
    );
