import * as df from 'durable-functions';
import * as t from 'io-ts';
import { EventId } from '../../domain/events';
import { ReplayId, ReplayScope } from '../../domain/replay';
import type { FanOutCursor as FanOutCursorPort } from '../../ports/dispatch';
import type { ReplayCursor as ReplayCursorPort } from '../../ports/replay';

/*
 * The orchestration contract, one module for both sides: the client that starts an instance
 * (ingest, replay) and the orchestrator and activity that run it. Importing it registers nothing.
 */

export const FAN_OUT_ORCHESTRATOR = 'fanOutEvent';
export const ENQUEUE_PAGE_ACTIVITY = 'enqueueFanOutPage';
export const REPLAY_ORCHESTRATOR = 'replayWebhook';
export const REPLAY_PAGE_ACTIVITY = 'replayPage';

/** Activities per orchestration run before continueAsNew, so a long history stays bounded (both orchestrations). */
export const STEPS_PER_RUN = 50;
/** A page that fails (storage down) is retried by the orchestration: 2 s, then doubling, 6 tries. */
export const PAGE_RETRY = Object.assign(new df.RetryOptions(2_000, 6), { backoffCoefficient: 2 });

/** The fan-out activity's input: which plan of the event, and where in its webhooks. */
export const FanOutCursor: t.Type<FanOutCursorPort, unknown, unknown> = t.intersection([
  t.type({ eventId: EventId, planIndex: t.number }),
  t.partial({ continuationToken: t.string }),
]) as unknown as t.Type<FanOutCursorPort, unknown, unknown>;
export type FanOutCursor = FanOutCursorPort;
/** The fan-out orchestration's input (ingest's start and continueAsNew): the cursor plus what earlier pages enqueued. */
export const FanOutInput = t.intersection([FanOutCursor, t.partial({ deliveries: t.number, pages: t.number })]);
export type FanOutInput = t.TypeOf<typeof FanOutInput>;
/** The fan-out activity's result (`pages`: how many it enqueued; absent from results recorded before it could do several). */
export const FanOutPageResult = t.intersection([t.type({ deliveries: t.number, messages: t.number }), t.partial({ next: FanOutCursor, pages: t.number })]);
export type FanOutPageResult = t.TypeOf<typeof FanOutPageResult>;

/** The replay orchestration's input and its activity's cursor. */
export const ReplayCursor: t.Type<ReplayCursorPort, unknown, unknown> = t.intersection([
  t.type({ replayId: ReplayId, webhookId: t.string, since: t.string, until: t.string, only: ReplayScope, scanUntil: t.string, deliveries: t.number }),
  t.partial({ continuationToken: t.string }),
]) as unknown as t.Type<ReplayCursorPort, unknown, unknown>;
export type ReplayCursor = ReplayCursorPort;
/** The replay activity's result. */
export const ReplayPageResult = t.intersection([t.type({ deliveries: t.number }), t.partial({ next: ReplayCursor })]);
export type ReplayPageResult = t.TypeOf<typeof ReplayPageResult>;
