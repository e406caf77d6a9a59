import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { HttpSender } from '../ports/httpSender';
import type { AppError } from '../domain/errors';
import { signatureHeaders } from '../domain/signature';
import { ADMIN, type Principal } from '../domain/tenant';
import { signingSecrets, type Webhook } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { RandomBytes } from '../ports/random';
import type { WebhookStore } from '../ports/webhookStore';
import { decodeWebhookId, ownedBy } from './getWebhook';

/*
 * Endpoint verification (docs/tenants.md): before a webhook that asks for it receives anything, the
 * dispatcher POSTs a signed request `{"name":"webhook:verification","payload":{"challenge":"..."}}`
 * and the endpoint must answer 2xx echoing the challenge, as the body text or as
 * `{"challenge":"..."}`. It proves the URL's owner runs a receiver that wants these deliveries.
 */

export const VERIFICATION_EVENT = 'webhook:verification';
export const CHALLENGE_BYTES = 16;

export type VerifyDeps = {
  readonly webhooks: Pick<WebhookStore, 'get' | 'update'>;
  readonly sender: HttpSender;
  readonly clock: Clock;
  readonly randomBytes: RandomBytes;
};

export type VerificationOutcome = { readonly webhook: Webhook; readonly verified: boolean; readonly detail: string };

const echoed = (excerpt: string, challenge: string): boolean => {
  if (excerpt.trim() === challenge) return true;
  try {
    const parsed: unknown = JSON.parse(excerpt);
    return typeof parsed === 'object' && parsed !== null && (parsed as Record<string, unknown>).challenge === challenge;
  } catch {
    return false;
  }
};

/** Sends the challenge and records the answer: verified only on an echo, and only for the URL challenged. */
export const verifyWebhookEndpoint =
  (deps: VerifyDeps) =>
  (webhook: Webhook): TE.TaskEither<AppError, VerificationOutcome> => {
    const challenge = Buffer.from(deps.randomBytes(CHALLENGE_BYTES)).toString('hex');
    const id = `msg_${Buffer.from(deps.randomBytes(16)).toString('hex')}`;
    const body = JSON.stringify({ name: VERIFICATION_EVENT, payload: { challenge } });
    const now = deps.clock.now();
    const headers = {
      'content-type': 'application/json',
      ...signatureHeaders({ secrets: signingSecrets(webhook, now), id, timestampSeconds: Math.floor(now.getTime() / 1000), body }),
    };
    return pipe(
      TE.fromTask(deps.sender.send({ url: webhook.url, headers, body })),
      TE.chain((result) => {
        const ok = result.kind === 'Response' && result.status >= 200 && result.status < 300 && echoed(result.excerpt, challenge);
        const detail = ok
          ? 'the endpoint echoed the challenge'
          : result.kind === 'NetworkError'
            ? `the endpoint could not be reached (${result.error})`
            : result.status >= 200 && result.status < 300
              ? 'the endpoint answered without echoing the challenge'
              : `the endpoint answered ${result.status}`;
        if (!ok) return TE.right({ webhook, verified: false, detail });
        return pipe(
          deps.webhooks.update(webhook.id, (current) => E.right(current.url === webhook.url ? ({ ...current, verified: true, updatedAt: deps.clock.now().toISOString() } as Webhook) : current)),
          TE.map((stored) => ({ webhook: stored, verified: stored.verified !== false, detail })),
        );
      }),
    );
  };

/** POST /api/webhooks/{id}/verify: runs the verification again (after a failure, or a URL change). */
export const verifyWebhook =
  (deps: VerifyDeps) =>
  (request: { id: string; principal?: Principal }): TE.TaskEither<AppError, VerificationOutcome> =>
    pipe(TE.fromEither(decodeWebhookId(request.id)), TE.chain(deps.webhooks.get), TE.chainEitherK(ownedBy(request.principal ?? ADMIN)), TE.chain(verifyWebhookEndpoint(deps)));
