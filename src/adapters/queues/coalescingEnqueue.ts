import type { DeliveryMessage } from '../../domain/delivery';
import { packParcels, type QueueBody } from '../../domain/deliveryEnvelope';

type Waiter = { readonly messages: readonly DeliveryMessage[]; readonly resolve: () => void; readonly reject: (e: unknown) => void };

/**
 * Group commit of immediate enqueues (docs/delivery.md, "Envelopes"). A caller finding no send in
 * flight is sent at once (no timer, no added latency); callers arriving while one is in flight wait
 * for it and then go together, packed into as few queue messages as fit. Each caller's promise
 * settles with the sends that carried its messages: it resolves only once every one of them is
 * stored, and rejects if any failed, so "202 only once enqueued" holds as with a send per caller.
 */
export const coalescingEnqueue = (input: { readonly send: (body: QueueBody) => Promise<void>; readonly maxItems: number }): ((messages: readonly DeliveryMessage[]) => Promise<void>) => {
  const waiting: Waiter[] = [];
  let sending = false;
  // A send that throws instead of rejecting must still settle its callers (and let the next batch go).
  const sendSafely = (body: QueueBody): Promise<void> => {
    try {
      return input.send(body);
    } catch (e) {
      return Promise.reject(e);
    }
  };

  const flush = async (): Promise<void> => {
    sending = true;
    while (waiting.length > 0) {
      const batch = waiting.splice(0);
      const parcels = packParcels(
        batch.flatMap((waiter) => waiter.messages.map((message) => ({ message, tag: waiter }))),
        input.maxItems,
      );
      const sent = await Promise.allSettled(parcels.map((p) => sendSafely(p.body)));
      const failed = new Map<Waiter, unknown>();
      sent.forEach((s, i) => {
        if (s.status === 'rejected') for (const w of (parcels[i] as { tags: readonly Waiter[] }).tags) if (!failed.has(w)) failed.set(w, s.reason);
      });
      for (const w of batch) {
        if (failed.has(w)) w.reject(failed.get(w));
        else w.resolve();
      }
    }
    sending = false;
  };

  return (messages) =>
    messages.length === 0
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          waiting.push({ messages, resolve, reject });
          if (!sending) void flush();
        });
};
