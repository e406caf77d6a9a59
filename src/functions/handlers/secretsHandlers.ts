import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { type ResealDeps, resealSecrets } from '../../usecases/resealSecrets';
import type { Handler } from '../lib/responses';
import { bearerKey, route } from '../lib/route';

/** POST /api/secrets/reseal (admin): re-encrypts up to 500 webhooks still under an older SECRETS_KEY. */
export const resealSecretsHandler = (deps: ResealDeps & { readonly adminApiKey: string }): Handler =>
  route({
    auth: bearerKey(deps.adminApiKey),
    run: () =>
      pipe(
        resealSecrets(deps)(),
        TE.map((report) => ({ status: 200, body: report })),
      ),
  });
