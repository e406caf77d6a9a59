import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as TE from 'fp-ts/TaskEither';
import type { HttpSender } from '../ports/httpSender';
import { type AppError, notFound } from '../domain/errors';
import { SECRET_BYTES, SECRET_PREFIX, signingSecret, ULID_RANDOM_BYTES, ulid } from '../domain/ids';
import type { Principal } from '../domain/tenant';
import { type Webhook, type WebhookId, type WebhookInput, type WebhookSecret } from '../domain/webhook';
import { DEFAULT_WEBSUB_LEASE_SECONDS, parseTopic, type Topic, WebSubRequest, type WebSubVerification } from '../domain/websub';
import type { Clock } from '../ports/clock';
import type { RandomBytes } from '../ports/random';
import type { WebhookStore } from '../ports/webhookStore';
import { checkDestination } from './checkDestination';
import type { PortRanges } from '../domain/destination';
import { decodeOrInvalid } from './decode';
import { checkTenantInput, grantsForWrite, type TenantRulesDeps } from './tenantRules';

export type WebSubDeps = Pick<TenantRulesDeps, 'grantsOf'> & {
  readonly webhooks: WebhookStore;
  readonly clock: Clock;
  readonly randomBytes: RandomBytes;
  /** Queues the intent verification that follows the 202. */
  readonly enqueueVerification: (job: WebSubVerification) => TE.TaskEither<AppError, void>;
  readonly allowPrivateDestinations?: boolean;
  readonly allowedDestinationPorts?: PortRanges;
};

/** The subscriber's hub.secret is the signing key itself, so it can verify with what it chose. */
const secretFrom = (hubSecret: string): WebhookSecret => (SECRET_PREFIX + Buffer.from(hubSecret, 'utf8').toString('base64')) as WebhookSecret;

const MAX_SCANNED_PAGES = 100;

/** The caller's subscription for this callback and topic, if any (a page walk over the caller's own webhooks). */
const findSubscription = (deps: Pick<WebSubDeps, 'webhooks'>, query: { principal: Principal; callback: string; topic: string }): TE.TaskEither<AppError, Webhook | undefined> => {
  const tenantId = query.principal.kind === 'Tenant' ? query.principal.tenantId : undefined;
  const step = (token: string | undefined, pages: number): TE.TaskEither<AppError, Webhook | undefined> =>
    pipe(
      deps.webhooks.list({ limit: 100, ...(token === undefined ? {} : { continuationToken: token }), ...(tenantId === undefined ? {} : { tenantId }) }),
      TE.chain((page) => {
        const found = page.items.find((w) => w.tenantId === tenantId && w.websubTopic === query.topic && w.url === query.callback);
        if (found !== undefined || page.continuationToken === undefined || pages >= MAX_SCANNED_PAGES) return TE.right(found);
        return step(page.continuationToken, pages + 1);
      }),
    );
  return step(undefined, 1);
};

/**
 * POST /api/websub: records the request and queues its verification; the caller answers 202.
 * subscribe: a new subscription is stored as an unverified webhook (it receives nothing until the
 * callback confirms); a repeat for the same callback and topic is a renewal (a new hub.secret takes
 * effect at once). unsubscribe: NotFound when there is no such subscription.
 */
export const requestWebSub =
  (deps: WebSubDeps) =>
  (request: { form: Readonly<Record<string, string>>; principal: Principal }): TE.TaskEither<AppError, { webhookId: WebhookId }> =>
    pipe(
      TE.fromEither(
        pipe(
          decodeOrInvalid(WebSubRequest, request.form, { what: 'The subscription request' }),
          E.chain((r) =>
            pipe(
              checkDestination({ allowPrivateDestinations: deps.allowPrivateDestinations, allowedDestinationPorts: deps.allowedDestinationPorts, what: 'The subscription request' })({
                url: r['hub.callback'],
              }),
              E.map(() => r),
            ),
          ),
        ),
      ),
      TE.chain((form) => {
        const topic = form['hub.topic'];
        const callback = form['hub.callback'];
        const leaseSeconds = form['hub.lease_seconds'] === undefined ? DEFAULT_WEBSUB_LEASE_SECONDS : Number(form['hub.lease_seconds']);
        const hubSecret = form['hub.secret'];
        const parsed = parseTopic(topic) as Topic; // the codec checked it
        // A topic's routing values (`?serviceId=`) obey the tenant's grants; leaving needs none.
        const granted: TE.TaskEither<AppError, unknown> =
          form['hub.mode'] === 'unsubscribe'
            ? TE.right(undefined)
            : pipe(
                grantsForWrite(deps, request.principal),
                TE.chainEitherK((grants) =>
                  checkTenantInput({ deps: {}, principal: request.principal, grants })({ url: callback, subscriptions: [parsed.subscription], attributes: parsed.attributes } as WebhookInput),
                ),
              );
        return pipe(
          granted,
          TE.chain(() => findSubscription(deps, { principal: request.principal, callback, topic })),
          TE.chain((existing): TE.TaskEither<AppError, Webhook> => {
            if (form['hub.mode'] === 'unsubscribe') return existing === undefined ? TE.left(notFound('No subscription for this callback and topic')) : TE.right(existing);
            if (existing !== undefined)
              return hubSecret === undefined
                ? TE.right(existing)
                : deps.webhooks.update(existing.id, (current) => E.right({ ...current, secret: secretFrom(hubSecret), updatedAt: deps.clock.now().toISOString() }));
            const now = deps.clock.now();
            return deps.webhooks.create({
              id: ulid(now.getTime(), deps.randomBytes(ULID_RANDOM_BYTES)) as WebhookId,
              url: callback,
              subscriptions: [parsed.subscription],
              attributes: parsed.attributes,
              headers: {},
              disabled: false,
              secret: hubSecret === undefined ? (signingSecret(deps.randomBytes(SECRET_BYTES)) as WebhookSecret) : secretFrom(hubSecret),
              createdAt: now.toISOString(),
              updatedAt: now.toISOString(),
              verified: false,
              websubTopic: topic,
              ...(request.principal.kind === 'Tenant' ? { tenantId: request.principal.tenantId } : {}),
            } as Webhook);
          }),
          TE.chainFirst((webhook) => deps.enqueueVerification({ v: 1, mode: form['hub.mode'], webhookId: webhook.id, topic, ...(form['hub.mode'] === 'subscribe' ? { leaseSeconds } : {}) })),
          TE.map((webhook) => ({ webhookId: webhook.id })),
        );
      }),
    );

export type IntentDeps = { readonly webhooks: Pick<WebhookStore, 'get' | 'update' | 'delete'>; readonly sender: HttpSender; readonly clock: Clock; readonly randomBytes: RandomBytes };
export type IntentOutcome = 'Activated' | 'Unsubscribed' | 'Refused' | 'Gone';

/**
 * Intent verification: GET callback?hub.mode=..&hub.topic=..&hub.challenge=..[&hub.lease_seconds=..];
 * confirmed only by a 2xx whose body is the challenge. A confirmed subscribe activates (verified,
 * lease from now); a refused new subscription is removed, a refused renewal leaves the old one.
 */
export const verifyIntent =
  (deps: IntentDeps) =>
  (job: WebSubVerification): TE.TaskEither<AppError, IntentOutcome> =>
    pipe(
      deps.webhooks.get(job.webhookId),
      TE.map((w): Webhook | undefined => w),
      TE.orElse((e) => (e.kind === 'NotFound' ? TE.right(undefined) : TE.left(e))),
      TE.chain((webhook) => {
        if (webhook === undefined) return TE.right<AppError, IntentOutcome>('Gone');
        const challenge = Buffer.from(deps.randomBytes(16)).toString('hex');
        const url = new URL(webhook.url);
        url.searchParams.set('hub.mode', job.mode);
        url.searchParams.set('hub.topic', job.topic);
        url.searchParams.set('hub.challenge', challenge);
        if (job.leaseSeconds !== undefined) url.searchParams.set('hub.lease_seconds', String(job.leaseSeconds));
        return pipe(
          TE.fromTask(deps.sender.send({ url: url.toString(), method: 'GET', headers: {}, body: '' })),
          TE.chain((result): TE.TaskEither<AppError, IntentOutcome> => {
            const confirmed = result.kind === 'Response' && result.status >= 200 && result.status < 300 && result.excerpt.trim() === challenge;
            if (job.mode === 'unsubscribe')
              return confirmed
                ? pipe(
                    deps.webhooks.delete(webhook.id),
                    TE.map((): IntentOutcome => 'Unsubscribed'),
                  )
                : TE.right('Refused');
            if (!confirmed)
              return webhook.verified === false
                ? pipe(
                    deps.webhooks.delete(webhook.id),
                    TE.map((): IntentOutcome => 'Refused'),
                  )
                : TE.right('Refused');
            const now = deps.clock.now();
            return pipe(
              deps.webhooks.update(webhook.id, (current) =>
                E.right({
                  ...current,
                  verified: true,
                  expiresAt: new Date(now.getTime() + (job.leaseSeconds ?? DEFAULT_WEBSUB_LEASE_SECONDS) * 1000).toISOString(),
                  updatedAt: now.toISOString(),
                } as Webhook),
              ),
              TE.map((): IntentOutcome => 'Activated'),
            );
          }),
        );
      }),
    );
