import * as A from 'fp-ts/Array';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as T from 'fp-ts/Task';
import * as TE from 'fp-ts/TaskEither';
import { type DeliveryMessage, MESSAGE_VERSION, type PoisonEntry } from '../domain/delivery';
import type { InnerMessage } from '../domain/deliveryEnvelope';
import type { AppError } from '../domain/errors';
import type { Clock } from '../ports/clock';
import type { DeliveryQueue } from '../ports/deliveryQueue';
import type { DeliverySummary } from './deliverMessage';

/**
 * An inner message that failed goes back alone, after as long as the host waits before retrying a
 * message that failed (host.json `visibilityTimeout`): from there it is an ordinary message, retried
 * by the host and poisoned after `maxDequeueCount`, so a message that always fails cannot loop.
 */
export const FAILED_INNER_MESSAGE_DELAY_SECONDS = 30;

export type DeliverEnvelopeDeps = {
  /** deliverMessage, bound to its ports. */
  readonly deliver: (message: DeliveryMessage) => TE.TaskEither<AppError, DeliverySummary>;
  readonly queue: Pick<DeliveryQueue, 'enqueue' | 'poison'>;
  readonly clock: Clock;
  /** Why an inner message failed (it is enqueued again). */
  readonly warn: (message: string) => void;
};

export type EnvelopeSummary = {
  readonly messages: number;
  /** Inner messages that failed and were enqueued again on their own. */
  readonly requeued: number;
  /** Inner messages that were not delivery messages, set aside in the poison queue. */
  readonly unreadable: number;
  readonly delivered: number;
  readonly retried: number;
  readonly poisoned: number;
  readonly skipped: number;
  /** Each inner message that completed, with its own summary (logged as a message alone would be). */
  readonly completed: readonly { readonly eventId: string; readonly summary: DeliverySummary }[];
};

/** A message that is not a delivery message of ours is set aside with its reason, never retried. */
export const unreadableEntry = (input: { value: unknown; reason: string; now: Date }): PoisonEntry => ({
  kind: 'undeliverable',
  v: MESSAGE_VERSION,
  eventId: '',
  deliveryId: '',
  webhookId: '',
  body: input.value,
  attempts: [],
  reason: { kind: 'UnreadableMessage', message: input.reason },
  poisonedAt: input.now.toISOString(),
});

/**
 * Runs every inner message of an envelope concurrently, each exactly as if it had come alone (its
 * attempt rows, retries, erasure check, claim check). Inner messages that fail (a consequence not
 * stored) are enqueued again alone; only when that enqueue fails does this fail, and the host then
 * runs the whole envelope again: deliveries that went out are repeated, with their same webhook-id.
 */
export const deliverEnvelope =
  (deps: DeliverEnvelopeDeps) =>
  (inner: readonly InnerMessage[]): TE.TaskEither<AppError, EnvelopeSummary> => {
    const readable = inner.flatMap((m) => (E.isRight(m) ? [m.right] : []));
    const unreadable = inner.flatMap((m) => (E.isLeft(m) ? [unreadableEntry({ ...m.left, now: deps.clock.now() })] : []));
    return pipe(
      readable.map((message) =>
        pipe(
          deps.deliver(message),
          T.map((result) => ({ message, result })),
        ),
      ),
      A.sequence(T.ApplicativePar),
      TE.fromTask,
      TE.chainFirst((outcomes) => {
        const failed = outcomes.flatMap((o) => {
          if (E.isRight(o.result)) return [];
          deps.warn(`Delivery of event ${o.message.eventId} (in an envelope) could not record its outcome, enqueued again alone: ${o.result.left.message}`);
          return [o.message];
        });
        return pipe(
          failed.length === 0 ? TE.right(undefined) : deps.queue.enqueue(failed, { delaySeconds: FAILED_INNER_MESSAGE_DELAY_SECONDS }),
          TE.chain(() => (unreadable.length === 0 ? TE.right(undefined) : deps.queue.poison(unreadable))),
        );
      }),
      TE.map((outcomes) => {
        const completed = outcomes.flatMap((o) => (E.isRight(o.result) ? [{ eventId: o.message.eventId, summary: o.result.right }] : []));
        const summaries = completed.map((c) => c.summary);
        const sum = (k: keyof DeliverySummary): number => summaries.reduce((n, s) => n + s[k], 0);
        return {
          messages: inner.length,
          requeued: outcomes.length - summaries.length,
          unreadable: unreadable.length,
          delivered: sum('delivered'),
          retried: sum('retried'),
          poisoned: sum('poisoned'),
          skipped: sum('skipped'),
          completed,
        };
      }),
    );
  };
