import type { DeliveryMessage } from '../../domain/delivery';
import { packParcels, type QueueBody } from '../../domain/deliveryEnvelope';
import { groupCommit, type Pending } from '../groupCommit';

/**
 * Group commit of immediate enqueues (docs/delivery.md, "Envelopes"; ../groupCommit.ts). A caller finding no send in
 * flight is sent at once (no timer, no added latency); callers arriving while one is in flight wait
 * for it and then go together, packed into as few queue messages as fit. Each caller's promise
 * settles with the sends that carried its messages: it resolves only once every one of them is
 * stored, and rejects if any failed, so "202 only once enqueued" holds as with a send per caller.
 */
export const coalescingEnqueue = (input: { readonly send: (body: QueueBody) => Promise<void>; readonly maxItems: number }): ((messages: readonly DeliveryMessage[]) => Promise<void>) => {
  // A send that throws instead of rejecting must still settle its callers.
  const sendSafely = (body: QueueBody): Promise<void> => {
    try {
      return input.send(body);
    } catch (e) {
      return Promise.reject(e);
    }
  };

  const enqueue = groupCommit<readonly DeliveryMessage[]>(async (batch) => {
    const parcels = packParcels(
      batch.flatMap((caller) => caller.item.map((message) => ({ message, tag: caller }))),
      input.maxItems,
    );
    const sent = await Promise.allSettled(parcels.map((p) => sendSafely(p.body)));
    const failed = new Map<Pending<readonly DeliveryMessage[]>, unknown>();
    sent.forEach((s, i) => {
      if (s.status === 'rejected') for (const caller of (parcels[i] as { tags: readonly Pending<readonly DeliveryMessage[]>[] }).tags) if (!failed.has(caller)) failed.set(caller, s.reason);
    });
    for (const caller of batch) {
      if (failed.has(caller)) caller.reject(failed.get(caller));
      else caller.resolve();
    }
  });

  return (messages) => (messages.length === 0 ? Promise.resolve() : enqueue('', messages));
};
