import * as E from 'fp-ts/Either';
import { type PortRanges, urlDestinationProblem } from '../domain/destination';
import { type AppError, invalid } from '../domain/errors';

/**
 * Refuses a webhook URL whose host is visibly not public (an IP literal or localhost) unless private
 * destinations are allowed, whose host is a platform address (always), or whose port is not
 * allowed: the registry answers 400 now instead of every delivery failing later. Absent means not
 * allowed (private) and any port.
 */
export const checkDestination =
  (options: { allowPrivateDestinations?: boolean; allowedDestinationPorts?: PortRanges; what: string }) =>
  <A extends { readonly url: string }>(input: A): E.Either<AppError, A> => {
    const problem = urlDestinationProblem({ url: input.url, allowPrivate: options.allowPrivateDestinations === true, allowedPorts: options.allowedDestinationPorts ?? [] });
    return problem === undefined ? E.right(input) : E.left(invalid(`${options.what} is invalid`, [`url: ${problem}`]));
  };
