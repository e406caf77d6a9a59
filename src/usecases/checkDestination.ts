import * as E from 'fp-ts/Either';
import { notPublicUrlHost } from '../domain/destination';
import { type AppError, invalid } from '../domain/errors';

/**
 * Refuses a webhook URL whose host is visibly not public (an IP literal or localhost) unless private
 * destinations are allowed: the registry answers 400 now instead of every delivery failing later.
 * Absent means not allowed, the safe side.
 */
export const checkDestination =
  (options: { allowPrivateDestinations?: boolean; what: string }) =>
  <A extends { readonly url: string }>(input: A): E.Either<AppError, A> => {
    if (options.allowPrivateDestinations === true) return E.right(input);
    const problem = notPublicUrlHost(input.url);
    return problem === undefined
      ? E.right(input)
      : E.left(invalid(`${options.what} is invalid`, [`url: must name a public destination, not ${problem} (ALLOW_PRIVATE_DESTINATIONS is false)`]));
  };
