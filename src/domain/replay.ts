import { createHash } from 'node:crypto';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { DeliveryId } from './delivery';
import { type AppError, invalid } from './errors';
import { EventId } from './events';
import { IsoTimestamp, withoutExtraFields } from './codecs';

/*
 * Replay by time range and resend of one delivery (docs/delivery.md, "Replay and resend"). A replayed
 * delivery keeps its `webhook-id`: deliveryIdFor(event, public event, webhook) is recomputed, never
 * stored, and its body is recomputed from the stored event and the webhook as the fan-out does.
 */

/** `failed`: deliveries that ended poisoned or gone (never acknowledged); `all`: every matching event. */
export const ReplayScope = t.keyof({ failed: null, all: null }, '"failed" or "all"');
export type ReplayScope = t.TypeOf<typeof ReplayScope>;

// Unknown fields are refused: a misspelt `untill` must not silently replay up to now.
export const ReplayRequest = withoutExtraFields(t.intersection([t.type({ since: IsoTimestamp }), t.partial({ until: IsoTimestamp, only: ReplayScope })]), ['since', 'until', 'only'], 'ReplayRequest');
export type ReplayRequest = t.TypeOf<typeof ReplayRequest>;

export const ResendRequest = withoutExtraFields(t.type({ eventId: EventId }), ['eventId'], 'ResendRequest');
export type ResendRequest = t.TypeOf<typeof ResendRequest>;

/** A replay id is also its orchestration's instance id: URL-safe, no dots. */
export const ReplayId = t.refinement(t.string, (s) => /^rpl_[0-9a-f]{32}$/.test(s), 'a replay id');
export type ReplayId = t.TypeOf<typeof ReplayId>;

/** A window checked against the clock and the retention: absolute times, since < until <= now. */
export type ReplayWindow = { readonly since: string; readonly until: string; readonly only: ReplayScope };

/**
 * Derived from the request as written (an absent `until` is "until now"), so the same request sent
 * again while its replay runs names the same orchestration instance and starts nothing new.
 */
export const replayIdFor = (input: { webhookId: string; since: string; until?: string; only: ReplayScope }): ReplayId =>
  `rpl_${createHash('sha256')
    .update(`${input.webhookId}\n${new Date(input.since).toISOString()}\n${input.until === undefined ? 'now' : new Date(input.until).toISOString()}\n${input.only}`)
    .digest('hex')
    .slice(0, 32)}` as ReplayId;

/** The window of a request, or a 400 naming what is wrong with it. */
export const replayWindow = (request: ReplayRequest, options: { now: Date; retentionDays: number }): E.Either<AppError, ReplayWindow> => {
  const since = Date.parse(request.since);
  const until = request.until === undefined ? options.now.getTime() : Date.parse(request.until);
  const oldest = options.now.getTime() - options.retentionDays * 86_400_000;
  const bad = (detail: string): E.Either<AppError, ReplayWindow> => E.left(invalid('The replay window is invalid', [detail]));
  if (since > options.now.getTime()) return bad('since: is in the future');
  if (until > options.now.getTime()) return bad('until: is in the future');
  if (until <= since) return bad('until: must be after since');
  if (since < oldest) return bad(`since: is more than RETENTION_DAYS (${options.retentionDays}) days ago; older events are no longer kept`);
  return E.right({ since: new Date(since).toISOString(), until: new Date(until).toISOString(), only: request.only ?? 'failed' });
};

/** What GET /api/webhooks/{id}/replays/{replayId} answers. */
export type ReplayStatus = {
  readonly id: string;
  readonly status: 'Running' | 'Completed' | 'Failed';
  readonly deliveries: number;
  readonly since: string;
  readonly until: string;
  readonly only: ReplayScope;
};

/* Wire codecs of the answers (OpenAPI; the HTTP test decodes real answers with them). */
export const ReplayAccepted = t.type({ id: ReplayId }, 'ReplayAccepted');
export const ReplayStatusView = t.type(
  { id: ReplayId, status: t.keyof({ Running: null, Completed: null, Failed: null }), deliveries: t.number, since: IsoTimestamp, until: IsoTimestamp, only: ReplayScope },
  'ReplayStatusView',
);
export const ResendAccepted = t.type({ deliveryIds: t.array(DeliveryId) }, 'ResendAccepted');
export const TestSendAnswer = t.intersection(
  [t.type({ deliveryId: DeliveryId, ok: t.boolean, status: t.union([t.number, t.null]), durationMs: t.number, body: t.string }), t.partial({ error: t.string })],
  'TestSendAnswer',
);

/** The name and body of a test delivery (POST /api/webhooks/{id}/test): not a catalogue event, never fanned out. */
export const TEST_EVENT_NAME = 'webhook.test';
