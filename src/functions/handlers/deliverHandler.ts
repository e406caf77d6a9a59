import type { InvocationContext } from '@azure/functions';
import * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';
import type { PoisonEntry } from '../../domain/delivery';
import { readQueueBody } from '../../domain/deliveryEnvelope';
import type { AppError } from '../../domain/errors';
import { redactFiscalCodes } from '../../domain/privacy';
import type { Clock } from '../../ports/clock';
import type { DeliveryQueue } from '../../ports/deliveryQueue';
import { traceLine } from '../../telemetry/telemetry';
import { deliverEnvelope, unreadableEntry } from '../../usecases/deliverEnvelope';
import { type DeliverDeps, deliverMessage } from '../../usecases/deliverMessage';

export type DeliverHandlerDeps = {
  readonly poison: (entries: readonly PoisonEntry[]) => TE.TaskEither<AppError, void>;
  /** Where failed inner messages of an envelope go back, alone (usecases/deliverEnvelope.ts). */
  readonly requeue: DeliveryQueue['enqueue'];
  readonly clock: Clock;
  readonly deliver: (logs: { log: (line: string) => void; warn: (message: string) => void }) => DeliverDeps;
};

/**
 * The queue-triggered delivery worker: one queue message, either one message of deliveries of one
 * event (as enqueued before envelopes, and every retry, redrive and poison copy) or an envelope of
 * several (docs/delivery.md, "Envelopes").
 */
export const deliverHandler =
  (deps: DeliverHandlerDeps) =>
  async (message: unknown, context: InvocationContext): Promise<void> => {
    const body = readQueueBody(message);
    const logs = { log: (line: string) => context.log(line), warn: (m: string) => context.warn(redactFiscalCodes(m)) };
    // One set of ports per invocation, shared by an envelope's inner messages.
    const deliver = deliverMessage(deps.deliver(logs));
    switch (body.kind) {
      case 'Unreadable': {
        context.warn(traceLine('delivery.unreadable', { reason: body.reason }));
        const poisoned = await deps.poison([unreadableEntry({ value: message, reason: body.reason, now: deps.clock.now() })])();
        if (E.isLeft(poisoned)) throw new Error(poisoned.left.message);
        return;
      }
      case 'Single': {
        const result = await deliver(body.message)();
        if (E.isLeft(result)) {
          // Throwing hands the message back to the queue: the host retries it, then poisons it.
          throw new Error(redactFiscalCodes(`Delivery of event ${body.message.eventId} could not record its outcome: ${result.left.message}`));
        }
        context.log(traceLine('delivery.message', { eventId: body.message.eventId, ...result.right }));
        return;
      }
      case 'Envelope': {
        const result = await deliverEnvelope({ deliver, queue: { enqueue: deps.requeue, poison: deps.poison }, clock: deps.clock, warn: logs.warn })(body.messages)();
        // The failed inner messages could not be enqueued again: the host runs the whole envelope again.
        if (E.isLeft(result)) throw new Error(redactFiscalCodes(`An envelope of ${body.messages.length} delivery messages could not record its outcome: ${result.left.message}`));
        const { completed, ...counts } = result.right;
        // One line per inner message, as for a message alone (what log queries and tests count), then the envelope's.
        for (const c of completed) context.log(traceLine('delivery.message', { eventId: c.eventId, ...c.summary }));
        context.log(traceLine('delivery.envelope', counts));
        return;
      }
    }
  };
