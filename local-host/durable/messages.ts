import * as t from 'io-ts';

/** Control queue: "this instance has new inbox rows", or a timer that fires when the message becomes visible. */
export const ControlMessage = t.union([
  t.type({ kind: t.literal('wake'), instanceId: t.string }),
  t.type({ kind: t.literal('timer'), instanceId: t.string, executionId: t.string, timerId: t.number, fireAt: t.string }),
]);
export type ControlMessage = t.TypeOf<typeof ControlMessage>;

/** Work-item queue: one activity to run. Inputs too big for a message live in a payload row. */
export const WorkItem = t.intersection([t.type({ instanceId: t.string, executionId: t.string, taskId: t.number, name: t.string }), t.partial({ input: t.string, inputRow: t.string })]);
export type WorkItem = t.TypeOf<typeof WorkItem>;

/**
 * A queue message holds 64 KiB; leave room for the envelope. Counted on the message text as sent
 * (JSON in ASCII), where a quote takes two characters and a non-ASCII code unit six.
 */
export const MAX_INLINE_MESSAGE_CHARS = 40_000;

/** Queue visibility delays are limited to 7 days: longer timers are re-sent until due. */
export const MAX_TIMER_DELAY_SECONDS = 6 * 24 * 3600;

export const decodeJson = <A>(codec: t.Decoder<unknown, A>, text: string): A | undefined => {
  try {
    const result = codec.decode(JSON.parse(text));
    return result._tag === 'Right' ? result.right : undefined;
  } catch {
    return undefined;
  }
};
