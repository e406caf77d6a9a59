import type { InvocationContext } from '@azure/functions';
import * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';
import { DeliveryMessage, MESSAGE_VERSION, type PoisonEntry } from '../../domain/delivery';
import { formatValidationErrors } from '../../domain/decodeErrors';
import type { AppError } from '../../domain/errors';
import { redactFiscalCodes } from '../../domain/privacy';
import type { Clock } from '../../ports/clock';
import { traceLine } from '../../telemetry/telemetry';
import { type DeliverDeps, deliverMessage } from '../../usecases/deliverMessage';

export type DeliverHandlerDeps = {
  readonly poison: (entries: readonly PoisonEntry[]) => TE.TaskEither<AppError, void>;
  readonly clock: Clock;
  readonly deliver: (logs: { log: (line: string) => void; warn: (message: string) => void }) => DeliverDeps;
};

/** A message that is not a delivery message of ours is set aside with its reason, never retried. */
const unreadable = (message: unknown, reason: string, now: Date): PoisonEntry => ({
  kind: 'undeliverable',
  v: MESSAGE_VERSION,
  eventId: '',
  deliveryId: '',
  webhookId: '',
  body: message,
  attempts: [],
  reason: { kind: 'UnreadableMessage', message: reason },
  poisonedAt: now.toISOString(),
});

/** The queue-triggered delivery worker: one message of deliveries of one event. */
export const deliverHandler =
  (deps: DeliverHandlerDeps) =>
  async (message: unknown, context: InvocationContext): Promise<void> => {
    const decoded = DeliveryMessage.decode(message);
    if (E.isLeft(decoded)) {
      const reason = formatValidationErrors(decoded.left).slice(0, 5).join('; ');
      context.warn(traceLine('delivery.unreadable', { reason }));
      const poisoned = await deps.poison([unreadable(message, reason, deps.clock.now())])();
      if (E.isLeft(poisoned)) throw new Error(poisoned.left.message);
      return;
    }
    const result = await deliverMessage(deps.deliver({ log: (line) => context.log(line), warn: (m) => context.warn(redactFiscalCodes(m)) }))(decoded.right)();
    if (E.isLeft(result)) {
      // Throwing hands the message back to the queue: the host retries it, then poisons it.
      throw new Error(redactFiscalCodes(`Delivery of event ${decoded.right.eventId} could not record its outcome: ${result.left.message}`));
    }
    context.log(traceLine('delivery.message', { eventId: decoded.right.eventId, ...result.right }));
  };
