import { WebhookStats } from '../src/domain/deliveryStats';
import type { CommandContext, Output } from './commands';
import { percent, when } from './format';

/** GET /api/webhooks/{id}/stats since `sinceHours` ago; `since` in the answer is the start of that hour. */
export const fetchStats = (ctx: CommandContext, webhookId: string, sinceHours: number): Promise<WebhookStats> => {
  const since = new Date(ctx.now() - sinceHours * 3_600_000).toISOString();
  return ctx.client.call({ method: 'GET', path: `/api/webhooks/${encodeURIComponent(webhookId)}/stats?since=${encodeURIComponent(since)}`, key: 'admin', codec: WebhookStats, expect: [200] });
};

export const latency = (s: WebhookStats): string => (s.p50Ms === null ? '-' : `${s.p50Ms}/${s.p99Ms ?? '-'} ms`);

/** dispatcher-ops stats <webhookId> [--since-hours h]: one webhook's counters. */
export const statsCommand = async (ctx: CommandContext, webhookId: string, options: { sinceHours: number }): Promise<Output> => {
  const s = await fetchStats(ctx, webhookId, options.sinceHours);
  const text = [
    `webhook        ${webhookId}`,
    `since          ${when(s.since)} (UTC)`,
    `delivered      ${s.delivered}`,
    `failed         ${s.failed} (${s.retrying} retried, ${s.poisoned} poisoned or gone)`,
    `success rate   ${percent(s.delivered, s.delivered + s.failed)}`,
    `latency        p50 ${s.p50Ms === null ? '-' : `<= ${s.p50Ms} ms`}, p99 ${s.p99Ms === null ? '-' : `<= ${s.p99Ms} ms`}`,
    `last success   ${when(s.lastSuccessAt ?? undefined)}`,
    `last failure   ${when(s.lastFailureAt ?? undefined)}`,
    '',
    'Counted in attempts, from counters kept as deliveries finish (docs/delivery.md, "Endpoint stats").',
  ].join('\n');
  return { json: { webhookId, ...s }, text };
};
