import { ReplayAccepted, ReplayStatusView, ResendAccepted, TestSendAnswer } from '../src/domain/replay';
import { fail } from './client';
import type { CommandContext, Output } from './commands';
import { progress, when } from './format';

/* replay, resend and test (issue 15): admin key; the routes also take the owning tenant's key. */

const webhookPath = (id: string, rest: string): string => `/api/webhooks/${encodeURIComponent(id)}/${rest}`;

/** A time the dispatcher will accept: the CLI checks the shape, the dispatcher the window. */
const isoTime = (value: string, flag: string): string => (Number.isNaN(Date.parse(value)) ? fail({ kind: 'Usage', message: `${flag} must be an ISO 8601 time, e.g. 2026-12-04T08:00:00Z` }) : value);

type ReplayStatus = ReturnType<typeof ReplayStatusView.encode>;

const statusText = (webhookId: string, s: ReplayStatus): string =>
  [`replay    ${s.id}  (webhook ${webhookId})`, `window    ${when(s.since)} .. ${when(s.until)}  (${s.only})`, `status    ${s.status}, ${s.deliveries} deliveries enqueued`].join('\n');

/**
 * Starts a replay; with `wait`, follows it (a counter of deliveries enqueued on a terminal) until it
 * completes, fails or the time is up.
 */
export const replayCommand = async (ctx: CommandContext, options: { webhookId: string; since?: string; until?: string; all: boolean; wait: boolean; timeoutSeconds: number }): Promise<Output> => {
  if (options.since === undefined) return fail({ kind: 'Usage', message: 'dispatcher-ops replay <webhookId> --since <ISO time> [--until <ISO time>] [--all] [--wait]' });
  const body = { since: isoTime(options.since, '--since'), ...(options.until === undefined ? {} : { until: isoTime(options.until, '--until') }), ...(options.all ? { only: 'all' } : {}) };
  const accepted = await ctx.client.call({ method: 'POST', path: webhookPath(options.webhookId, 'replay'), key: 'admin', body, codec: ReplayAccepted, expect: [202] });
  const read = (): Promise<ReplayStatus> => ctx.client.call({ method: 'GET', path: webhookPath(options.webhookId, `replays/${accepted.id}`), key: 'admin', codec: ReplayStatusView, expect: [200] });
  if (!options.wait) return { json: accepted, text: `replay ${accepted.id} started\nFollow it with: dispatcher-ops replay ${options.webhookId} --since ${options.since} --wait` };
  const deadline = ctx.now() + options.timeoutSeconds * 1000;
  const bar = progress(ctx.stderr, 'replayed');
  let status = await read();
  while (status.status === 'Running' && ctx.now() < deadline) {
    bar.update(status.deliveries);
    await ctx.sleep(500);
    status = await read();
  }
  bar.done();
  const note = status.status === 'Running' ? `\n\nStill running after ${options.timeoutSeconds} s.` : '';
  return { json: status, text: `${statusText(options.webhookId, status)}${note}` };
};

export const resendCommand = async (ctx: CommandContext, webhookId: string, eventId: string): Promise<Output> => {
  const answer = await ctx.client.call({ method: 'POST', path: webhookPath(webhookId, 'resend'), key: 'admin', body: { eventId }, codec: ResendAccepted, expect: [202] });
  return { json: answer, text: `resent event ${eventId} to webhook ${webhookId}: ${answer.deliveryIds.join(', ')}` };
};

export const testCommand = async (ctx: CommandContext, webhookId: string): Promise<Output> => {
  const r = await ctx.client.call({ method: 'POST', path: webhookPath(webhookId, 'test'), key: 'admin', codec: TestSendAnswer, expect: [200] });
  const outcome = r.status === null ? `no answer (${r.error ?? 'unknown error'})` : `HTTP ${r.status}`;
  return {
    json: r,
    text: [`test      ${r.ok ? 'delivered' : 'failed'}: ${outcome} in ${r.durationMs} ms  (webhook-id ${r.deliveryId})`, ...(r.body === '' ? [] : [`answer    ${r.body}`])].join('\n'),
  };
};
