import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../../domain/errors';
import type { LockedPoisonMessage, PoisonMessage, PoisonQueue } from '../../ports/poisonQueue';
import { storageError } from '../tables/storageErrors';
import { encodeText, type EnsuredQueue } from './storageDeliveryQueue';

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The host writes base64 text; a message someone put there raw is shown as it is. */
export const decodeText = (messageText: string): string => (STRICT_BASE64.test(messageText) ? Buffer.from(messageText, 'base64').toString('utf8') : messageText);

type Raw = { messageId: string; insertedOn: Date; dequeueCount: number; messageText: string };
const toMessage = (m: Raw): PoisonMessage => ({ messageId: m.messageId, insertedOn: m.insertedOn.toISOString(), dequeueCount: m.dequeueCount, text: decodeText(m.messageText) });

const attempt = <A>(what: string, run: () => Promise<A>): TE.TaskEither<AppError, A> => pipe(TE.tryCatch(run, storageError(what)));

export const storagePoisonQueue = (queue: EnsuredQueue): PoisonQueue => ({
  peek: (limit) =>
    attempt('read the poison queue', async () => {
      const { peekedMessageItems } = await (await queue.ready()).peekMessages({ numberOfMessages: limit, abortSignal: queue.signal() });
      return peekedMessageItems.map(toMessage);
    }),
  receive: (limit, lockSeconds) =>
    attempt('read the poison queue', async () => {
      if (limit <= 0) return [];
      const { receivedMessageItems } = await (await queue.ready()).receiveMessages({ numberOfMessages: limit, visibilityTimeout: lockSeconds, abortSignal: queue.signal() });
      return receivedMessageItems.map((m): LockedPoisonMessage => ({ ...toMessage(m), popReceipt: m.popReceipt }));
    }),
  remove: (m) =>
    attempt('remove a poison message', async () => {
      await (await queue.ready()).deleteMessage(m.messageId, m.popReceipt, { abortSignal: queue.signal() });
    }),
  release: (m) =>
    attempt('release a poison message', async () => {
      await (await queue.ready()).updateMessage(m.messageId, m.popReceipt, undefined, 0, { abortSignal: queue.signal() });
    }),
  rewrite: (m, text, lockSeconds) =>
    attempt('rewrite a poison message', async () => {
      // Base64, as the host writes: every reader of the poison queue decodes it the same way.
      const updated = await (await queue.ready()).updateMessage(m.messageId, m.popReceipt, encodeText(text), lockSeconds, { abortSignal: queue.signal() });
      return { ...m, text, popReceipt: updated.popReceipt ?? m.popReceipt };
    }),
});
