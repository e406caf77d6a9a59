import * as E from 'fp-ts/Either';
import type * as t from 'io-ts';
import { formatValidationErrors } from '../../domain/decodeErrors';

/** For trigger inputs (activity cursors): a bad one is a bug of ours, so the invocation fails loudly. */
export const decodeOrThrow = <A>(codec: t.Decoder<unknown, A>, value: unknown, what: string): A => {
  const decoded = codec.decode(value);
  if (E.isLeft(decoded)) throw new Error(`${what} is invalid: ${formatValidationErrors(decoded.left).join('; ')}`);
  return decoded.right;
};
