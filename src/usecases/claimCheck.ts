import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { claimCheckOf, withClaimedFields, withoutClaimedFields } from '../domain/claimCheck';
import type { DeliveryBody, DeliveryItem, DeliveryMessage } from '../domain/delivery';
import { type AppError, permanent } from '../domain/errors';
import type { PayloadStore } from '../ports/payloadStore';

/*
 * Both ends of the claim check (docs/delivery.md, "Large payloads"). The event store wrote the blob
 * with the event; the fan-out leaves its long fields out of the queue messages, and the worker reads
 * the blob once per message and puts them back before it signs.
 */

/** The fan-out's items without the fields the blob holds; unchanged for an inline payload. */
export const claimedItems = (eventPayload: Readonly<Record<string, unknown>>, items: readonly DeliveryItem[]): { readonly items: DeliveryItem[]; readonly ref?: DeliveryMessage['payloadRef'] } => {
  const claim = claimCheckOf(eventPayload);
  if (claim === undefined) return { items: [...items] };
  return {
    ref: claim.ref,
    items: items.map((item) => {
      const { payload, claimed } = withoutClaimedFields(item.body.payload, eventPayload);
      return claimed.length === 0 ? item : { ...item, body: { ...item.body, payload }, claimed };
    }),
  };
};

/** Messages holding a claimed delivery name the blob. */
export const withPayloadRef = (messages: readonly DeliveryMessage[], ref: DeliveryMessage['payloadRef']): DeliveryMessage[] =>
  ref === undefined ? [...messages] : messages.map((m) => (m.items.some((i) => i.claimed !== undefined) ? { ...m, payloadRef: ref } : m));

/** Each delivery's body as sent, by delivery id; `gone` when the blob was deleted (the event was purged or erased). */
export type RestoredBodies = { readonly kind: 'Bodies'; readonly bodies: ReadonlyMap<string, DeliveryBody> } | { readonly kind: 'Gone' };

/**
 * One blob read per message, however many deliveries it holds (and none for an inline one). A
 * storage failure fails the message (the host runs it again); a blob that is not this event's
 * payload is Permanent.
 */
export const restoreBodies = (payloads: PayloadStore | undefined, message: DeliveryMessage): TE.TaskEither<AppError, RestoredBodies> => {
  const claimedItems = message.items.filter((i) => i.claimed !== undefined && i.claimed.length > 0);
  const inlineBodies = (): Map<string, DeliveryBody> => new Map(message.items.map((i) => [i.deliveryId as string, i.body]));
  if (claimedItems.length === 0) return TE.right({ kind: 'Bodies', bodies: inlineBodies() });
  const ref = message.payloadRef;
  if (ref === undefined || payloads === undefined)
    return TE.left(permanent(`Message of event ${message.eventId} has claimed fields but ${ref === undefined ? 'no payload reference' : 'no payload store is configured'}`));
  return pipe(
    payloads.get({ eventId: message.eventId, ref }),
    TE.map((text): E.Either<AppError, RestoredBodies> => {
      let blob: unknown;
      try {
        blob = JSON.parse(text);
      } catch {
        return E.left(permanent(`The payload blob of event ${message.eventId} is not JSON`));
      }
      if (typeof blob !== 'object' || blob === null) return E.left(permanent(`The payload blob of event ${message.eventId} is not an object`));
      const bodies = inlineBodies();
      for (const item of claimedItems) {
        const payload = withClaimedFields(item.body.payload, item.claimed ?? [], blob as Record<string, unknown>);
        if (payload === undefined) return E.left(permanent(`The payload blob of event ${message.eventId} lacks a claimed field`));
        bodies.set(item.deliveryId, { ...item.body, payload });
      }
      return E.right({ kind: 'Bodies', bodies });
    }),
    TE.chainEitherK((x) => x),
    // Deleted with its event (retention, erasure): the deliveries are skipped like an erased event's.
    TE.orElse((e): TE.TaskEither<AppError, RestoredBodies> => (e.kind === 'NotFound' ? TE.right({ kind: 'Gone' }) : TE.left(e))),
  );
};
