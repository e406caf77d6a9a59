import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import type * as t from 'io-ts';
import { formatValidationErrors } from '../domain/decodeErrors';
import { type AppError, invalid } from '../domain/errors';

/** Decodes an input with a codec; failures become one Invalid error listing every problem. */
export const decodeOrInvalid = <A>(codec: t.Decoder<unknown, A>, input: unknown, options: { what: string; prefix?: string }): E.Either<AppError, A> =>
  pipe(
    codec.decode(input),
    E.mapLeft((errors) => invalid(`${options.what} is invalid`, formatValidationErrors(errors, options.prefix))),
  );
