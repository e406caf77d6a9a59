import * as TE from 'fp-ts/TaskEither';
import { notFound } from '../../../domain/errors';
import type { LockedPoisonMessage, PoisonMessage, PoisonQueue } from '../../../ports/poisonQueue';

/** The PoisonQueue contract in memory, for unit tests; a received message is out of sight until removed or released. */
export type MemoryPoisonQueue = PoisonQueue & { readonly messages: PoisonMessage[]; put(text: string, insertedOn: string): void };

export const memoryPoisonQueue = (): MemoryPoisonQueue => {
  const messages: PoisonMessage[] = [];
  const locked = new Set<string>();
  let next = 0;
  return {
    messages,
    put: (text, insertedOn) => void messages.push({ messageId: `m${next++}`, insertedOn, dequeueCount: 0, text }),
    peek: (limit) => TE.right(messages.filter((m) => !locked.has(m.messageId)).slice(0, limit)),
    receive: (limit) => {
      const taken = messages.filter((m) => !locked.has(m.messageId)).slice(0, limit);
      taken.forEach((m) => locked.add(m.messageId));
      return TE.right(taken.map((m): LockedPoisonMessage => ({ ...m, popReceipt: `r-${m.messageId}` })));
    },
    remove: (m) => {
      const at = messages.findIndex((x) => x.messageId === m.messageId);
      if (at < 0) return TE.left(notFound(`No poison message ${m.messageId}`));
      messages.splice(at, 1);
      locked.delete(m.messageId);
      return TE.right(undefined);
    },
    release: (m) => TE.right(void locked.delete(m.messageId)),
    rewrite: (m, text) => {
      const at = messages.findIndex((x) => x.messageId === m.messageId);
      if (at < 0) return TE.left(notFound(`No poison message ${m.messageId}`));
      messages[at] = { ...(messages[at] as PoisonMessage), text };
      return TE.right({ ...m, text });
    },
  };
};
