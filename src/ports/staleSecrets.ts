import type * as TE from 'fp-ts/TaskEither';
import type { AppError } from '../domain/errors';
import type { WebhookId } from '../domain/webhook';

/**
 * Webhooks whose secrets are not sealed under the current SECRETS_KEY (an older key, or stored
 * before encryption), at most `limit`, in id order; `more` when others follow (docs/secrets.md).
 */
export type StaleSecrets = (query: { limit: number }) => TE.TaskEither<AppError, { readonly ids: readonly WebhookId[]; readonly more: boolean }>;
