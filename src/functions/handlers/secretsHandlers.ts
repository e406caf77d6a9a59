import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { type ResealDeps, resealSecrets } from '../../usecases/resealSecrets';
import { requireBearer } from '../lib/auth';
import { errorResponse, type Handler, json } from '../lib/responses';

/** POST /api/secrets/reseal (admin): re-encrypts up to 500 webhooks still under an older SECRETS_KEY. */
export const resealSecretsHandler =
  (deps: ResealDeps & { readonly adminApiKey: string }): Handler =>
  async (request, context) =>
    pipe(
      TE.fromEither(requireBearer(request, deps.adminApiKey)),
      TE.chain(() => resealSecrets(deps)()),
      TE.match(
        (error) => errorResponse(error, context),
        (report) => json(200, report),
      ),
    )();
