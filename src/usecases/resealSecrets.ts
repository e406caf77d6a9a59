import * as A from 'fp-ts/Array';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import * as t from 'io-ts';
import type { AppError } from '../domain/errors';
import type { WebhookId } from '../domain/webhook';
import type { StaleSecrets } from '../ports/staleSecrets';
import type { WebhookStore } from '../ports/webhookStore';

/** One call re-encrypts at most this many webhooks; call again while `more` says so. */
export const MAX_RESEAL_PER_CALL = 500;
/** Webhooks rewritten at once: each is a read and a transaction. */
const RESEAL_CONCURRENCY = 8;

export type ResealDeps = { readonly webhooks: Pick<WebhookStore, 'update'>; readonly staleSecrets: StaleSecrets };
export const ResealReport = t.type({ resealed: t.number, more: t.boolean }, 'ResealReport');
export type ResealReport = t.TypeOf<typeof ResealReport>;

/**
 * After a SECRETS_KEY rotation (docs/secrets.md): rewrites the webhooks whose secrets are still under
 * an older key, which the store seals under the current one on every write. Nothing else changes. A
 * webhook deleted meanwhile is skipped; any other failure stops the call (call again: it is idempotent).
 */
export const resealSecrets = (deps: ResealDeps) => (): TE.TaskEither<AppError, ResealReport> =>
  pipe(
    deps.staleSecrets({ limit: MAX_RESEAL_PER_CALL }),
    TE.chain(({ ids, more }) => {
      const rewrite = (id: WebhookId): TE.TaskEither<AppError, number> =>
        pipe(
          deps.webhooks.update(id, (current) => E.right(current)),
          TE.map(() => 1),
          TE.orElse((e) => (e.kind === 'NotFound' ? TE.right(0) : TE.left(e))),
        );
      const chunks = A.chunksOf(RESEAL_CONCURRENCY)([...ids]);
      return pipe(
        chunks.map((chunk) =>
          pipe(
            chunk.map(rewrite),
            TE.sequenceArray,
            TE.map((n) => n.reduce((a, b) => a + b, 0)),
          ),
        ),
        TE.sequenceSeqArray,
        TE.map((counts): ResealReport => ({ resealed: counts.reduce((a, b) => a + b, 0), more })),
      );
    }),
  );
