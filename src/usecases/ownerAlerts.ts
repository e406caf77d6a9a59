import * as A from 'fp-ts/Array';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as T from 'fp-ts/Task';
import * as TE from 'fp-ts/TaskEither';
import type { HttpSender } from '../ports/httpSender';
import type { AppError } from '../domain/errors';
import { type OpsEvent, opsEventId } from '../domain/opsEvents';
import { signatureHeaders } from '../domain/signature';
import { canReceive, isOwnerAlertName, signingSecrets, type Webhook } from '../domain/webhook';
import type { Clock } from '../ports/clock';
import type { PublishOpsEvent } from '../ports/opsEvents';
import type { WebhookStore } from '../ports/webhookStore';

/** A tenant's webhooks read for one alert, at most (a tenant with more is told through the first ones). */
export const MAX_ALERT_WEBHOOKS_READ = 500;
const PAGE = 100;

export type OwnerAlertsDeps = {
  readonly webhooks: Pick<WebhookStore, 'list'>;
  readonly sender: HttpSender;
  readonly clock: Clock;
  readonly userAgent: string;
};

const tenantWebhooks = (deps: OwnerAlertsDeps, tenantId: string): TE.TaskEither<AppError, Webhook[]> => {
  const loop = (acc: Webhook[], token: string | undefined): TE.TaskEither<AppError, Webhook[]> =>
    pipe(
      deps.webhooks.list({ limit: PAGE, tenantId, ...(token === undefined ? {} : { continuationToken: token }) }),
      TE.chain((page) => {
        const all = [...acc, ...page.items];
        return page.continuationToken === undefined || all.length >= MAX_ALERT_WEBHOOKS_READ ? TE.right(all) : loop(all, page.continuationToken);
      }),
    );
  return loop([], undefined);
};

/**
 * Per-tenant alerts (docs/delivery.md): `webhook.disabled` and `delivery.exhausted` about a tenant's
 * webhook go to that tenant's other webhooks subscribed to them by name, signed with each one's own
 * secret, with the occurrence's stable `webhook-id`. One list query per alert (alerts are rare: a
 * disable, a poisoned delivery); one POST each, not retried. Admin-owned webhooks use OPS_WEBHOOK_URL.
 */
export const ownerAlerts =
  (deps: OwnerAlertsDeps): PublishOpsEvent =>
  (event: OpsEvent) => {
    const tenantId = event.payload.tenantId;
    const name = event.name;
    if (!isOwnerAlertName(name) || tenantId === undefined) return TE.right(undefined);
    const body = JSON.stringify(event);
    return pipe(
      tenantWebhooks(deps, tenantId),
      TE.map((webhooks) => webhooks.filter((w) => w.id !== event.payload.webhookId && canReceive(w) && w.tenantId === tenantId && w.subscriptions.includes(name))),
      TE.chain((subscribers) =>
        TE.fromTask(
          pipe(
            subscribers.map((w) => {
              const now = deps.clock.now();
              const headers = {
                'content-type': 'application/json',
                'user-agent': deps.userAgent,
                ...signatureHeaders({ secrets: signingSecrets(w, now), id: opsEventId(event), timestampSeconds: Math.floor(now.getTime() / 1000), body }),
              };
              return deps.sender.send({ url: w.url, headers, body });
            }),
            A.sequence(T.ApplicativePar),
          ),
        ),
      ),
      TE.map(() => undefined),
    );
  };

/** Every audience of an operational event, each tried whatever the others did; the first failure is reported. */
export const publishToAll =
  (publishers: readonly PublishOpsEvent[]): PublishOpsEvent =>
  (event) =>
    pipe(
      publishers.map((p) => p(event)),
      A.sequence(T.ApplicativePar),
      T.map((results) => results.find(E.isLeft) ?? E.right(undefined)),
    );
