import type { InvocationContext } from '@azure/functions';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import { formatValidationErrors } from '../../domain/decodeErrors';
import { type AppError, invalid } from '../../domain/errors';
import { WebSubVerification } from '../../domain/websub';
import { type IntentDeps, requestWebSub, verifyIntent, type WebSubDeps } from '../../usecases/websub';
import { readBodyBytes } from '../lib/body';
import type { TenantStore } from '../../ports/tenantStore';
import type { Handler } from '../lib/responses';
import { adminOrTenant, route } from '../lib/route';

const MAX_FORM_BYTES = 8 * 1024;

/** The form body as a map: the first value of each field (WebSub sends each once). */
const readForm = async (request: Parameters<Handler>[0]): Promise<E.Either<AppError, Record<string, string>>> => {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) return E.left(invalid('The subscription request is invalid', ['(body): must be application/x-www-form-urlencoded']));
  const read = await readBodyBytes(request, MAX_FORM_BYTES);
  if (E.isLeft(read)) return read;
  const bytes = read.right;
  const form: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(bytes.toString('utf8'))) if (!(k in form)) form[k] = v;
  return E.right(form);
};

/**
 * POST /api/websub (a tenant key, or the admin key, as bearer): 202 Accepted with an empty body, as
 * WebSub asks; intent verification follows from the queue. Errors are the registry's JSON errors.
 */
export const websubHandler = (deps: WebSubDeps & { readonly adminApiKey: string; readonly tenants: Pick<TenantStore, 'findByKeyHash' | 'get'> }): Handler =>
  route({
    auth: adminOrTenant(deps),
    run: ({ request, caller }) =>
      pipe(
        () => readForm(request),
        TE.chain((form) => requestWebSub(deps)({ form, principal: caller })),
        TE.map(() => ({ status: 202 })),
      ),
  });

/** The queue side: one intent verification per message; a bad message is logged and dropped (nothing to retry). */
export const websubVerificationHandler =
  (deps: IntentDeps) =>
  async (message: unknown, context: InvocationContext): Promise<void> => {
    const job = WebSubVerification.decode(message);
    if (E.isLeft(job)) {
      context.warn(`websub: unreadable verification job: ${formatValidationErrors(job.left).slice(0, 3).join('; ')}`);
      return;
    }
    const outcome = await verifyIntent(deps)(job.right)();
    // Storage failures throw, so the host retries the job; the callback's answer never does.
    if (E.isLeft(outcome)) throw new Error(`websub verification of ${job.right.webhookId} failed: ${outcome.left.message}`);
    context.log(`websub: ${job.right.mode} of webhook ${job.right.webhookId} for ${job.right.topic}: ${outcome.right}`);
  };
