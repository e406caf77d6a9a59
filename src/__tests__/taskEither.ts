import * as E from 'fp-ts/Either';
import type * as TE from 'fp-ts/TaskEither';

/** Runs a task that must succeed, and gives its value; a failure fails the test with what came back. */
export const expectRight = async <A>(task: TE.TaskEither<unknown, A>): Promise<A> => {
  const result = await task();
  if (E.isLeft(result)) throw new Error(`expected success, got ${JSON.stringify(result.left)}`);
  return result.right;
};

/** Runs a task that must fail, and gives its error. */
export const expectLeft = async <A>(task: TE.TaskEither<unknown, A>): Promise<unknown> => {
  const result = await task();
  if (E.isRight(result)) throw new Error(`expected a failure, got ${JSON.stringify(result.right)}`);
  return result.left;
};
