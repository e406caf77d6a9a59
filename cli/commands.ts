import * as t from 'io-ts';
import { TenantView } from '../src/domain/tenant';
import { AttemptList, EventAccepted, WebhookPage } from '../src/domain/views';
import type { WebhookView } from '../src/domain/webhook';
import { EventStatusView } from '../src/usecases/getEventStatus';
import { PoisonList, RedriveReport } from '../src/usecases/redrivePoison';
import { ResealReport } from '../src/usecases/resealSecrets';
import type { WebhookStats } from '../src/domain/deliveryStats';
import { type Client, fail } from './client';
import { percent, type ProgressStream, progress, table, when } from './format';
import { fetchStats, latency } from './statsCommand';

/** What a command produced: the data (for --json) and its readable form. */
export type Output = { readonly json: unknown; readonly text: string };

export type CommandContext = { readonly client: Client; readonly stderr: ProgressStream; readonly sleep: (ms: number) => Promise<void>; readonly now: () => number };

type EventStatus = t.TypeOf<typeof EventStatusView>;

const eventText = (s: EventStatus): string => {
  const d = s.dispatch;
  const head = [
    `event     ${s.id}  ${s.name}`,
    `received  ${when(s.receivedAt)}`,
    `fan-out   ${d.status}${d.deliveries === undefined ? '' : `, ${d.deliveries} deliveries enqueued`}${d.error === undefined ? '' : ` (${d.error})`}`,
    `summary   ${Object.entries(s.summary)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}`,
  ];
  if (s.deliveries.length === 0) return [...head, '', 'No delivery has been attempted yet.'].join('\n');
  const rows = s.deliveries.map((x) => [
    x.webhookId,
    x.state,
    String(x.attempts),
    x.lastResult === undefined ? '-' : 'status' in x.lastResult ? `HTTP ${x.lastResult.status}` : x.lastResult.error,
    when(x.lastAttemptAt),
    when(x.nextAttemptAt),
  ]);
  return [...head, '', table(['WEBHOOK', 'STATE', 'ATTEMPTS', 'LAST RESULT', 'LAST ATTEMPT', 'NEXT ATTEMPT'], rows)].join('\n');
};

const getEvent = (client: Client, id: string): Promise<EventStatus> =>
  client.call({ method: 'GET', path: `/api/events/${encodeURIComponent(id)}`, key: 'admin', codec: EventStatusView, expect: [200] });

export const eventCommand = async (ctx: CommandContext, id: string): Promise<Output> => {
  const status = await getEvent(ctx.client, id);
  return { json: status, text: eventText(status) };
};

const settled = (s: EventStatus): boolean => ['Completed', 'Failed', 'Terminated'].includes(s.dispatch.status) && s.summary.pending === 0 && s.summary.retrying === 0;

/** Sends ping:all; with `wait`, follows its deliveries until none is pending or the time is up. */
export const pingAllCommand = async (ctx: CommandContext, options: { wait: boolean; timeoutSeconds: number }): Promise<Output> => {
  const accepted = await ctx.client.call({ method: 'POST', path: '/api/events', key: 'ingest', body: { name: 'ping:all' }, codec: EventAccepted, expect: [202] });
  if (!options.wait) return { json: accepted, text: `ping:all accepted as event ${accepted.id}\nFollow it with: dispatcher-ops event ${accepted.id}` };
  const deadline = ctx.now() + options.timeoutSeconds * 1000;
  const bar = progress(ctx.stderr, 'deliveries');
  let status = await getEvent(ctx.client, accepted.id);
  while (!settled(status) && ctx.now() < deadline) {
    const s = status.summary;
    bar.update(s.delivered + s.poisoned + s.gone + s.skipped);
    await ctx.sleep(500);
    status = await getEvent(ctx.client, accepted.id);
  }
  bar.done();
  const note = settled(status) ? '' : `\n\nStill in progress after ${options.timeoutSeconds} s.`;
  return { json: status, text: `ping:all accepted as event ${accepted.id}\n\n${eventText(status)}${note}` };
};

const allWebhooks = async (ctx: CommandContext): Promise<WebhookView[]> => {
  const items: WebhookView[] = [];
  let token: string | undefined;
  do {
    const query = `limit=100${token === undefined ? '' : `&continuationToken=${encodeURIComponent(token)}`}`;
    const page = await ctx.client.call({ method: 'GET', path: `/api/webhooks?${query}`, key: 'admin', codec: WebhookPage, expect: [200] });
    items.push(...page.items);
    token = page.continuationToken;
  } while (token !== undefined);
  return items;
};

/** One webhook's counters over the window, and its newest attempt that was not a first-try success. */
export type WebhookHealth = {
  readonly webhook: WebhookView;
  readonly stats: WebhookStats;
  readonly lastProblem?: { readonly at: string; readonly decision: string; readonly result?: string };
};

const stateOf = (w: WebhookView): string =>
  !w.disabled
    ? w.failing === undefined
      ? 'enabled'
      : `failing since ${when(w.failing.since)}`
    : w.disabledReason === undefined
      ? 'disabled'
      : w.disabledReason.kind === 'Gone'
        ? 'disabled (410 Gone)'
        : `disabled (failing since ${when(w.disabledReason.since)})`;

/**
 * Webhooks with their health: counters from GET /api/webhooks/{id}/stats (kept as deliveries
 * finish: one call per webhook, no scan of events), and the last problem from
 * GET /api/webhooks/{id}/attempts, which records only attempts that were not first-try successes.
 */
export const webhooksCommand = async (ctx: CommandContext, options: { sinceHours: number }): Promise<Output> => {
  const webhooks = await allWebhooks(ctx);
  const bar = progress(ctx.stderr, 'reading', webhooks.length);
  const health: WebhookHealth[] = [];
  for (const webhook of webhooks) {
    const [stats, problems] = await Promise.all([
      fetchStats(ctx, webhook.id, options.sinceHours),
      ctx.client.call({ method: 'GET', path: `/api/webhooks/${webhook.id}/attempts?limit=1`, key: 'admin', codec: AttemptList, expect: [200] }),
    ]);
    bar.update(health.length + 1);
    const last = problems.items[0];
    health.push({
      webhook,
      stats,
      ...(last === undefined
        ? {}
        : {
            lastProblem: {
              at: last.at,
              decision: last.decision,
              ...(last.result === undefined ? {} : { result: last.result.kind === 'Response' ? `HTTP ${last.result.status}` : last.result.error }),
            },
          }),
    });
  }
  bar.done();
  const rows = health.map((h) => [
    h.webhook.id,
    stateOf(h.webhook),
    h.webhook.url,
    h.webhook.subscriptions.join(','),
    String(h.stats.delivered),
    percent(h.stats.failed, h.stats.delivered + h.stats.failed),
    latency(h.stats),
    when(h.stats.lastSuccessAt ?? undefined),
    h.lastProblem === undefined ? '-' : `${when(h.lastProblem.at)} ${h.lastProblem.decision}${h.lastProblem.result === undefined ? '' : ` (${h.lastProblem.result})`}`,
  ]);
  const text =
    webhooks.length === 0
      ? 'No webhook is registered.'
      : [
          table(['ID', 'STATE', 'URL', 'EVENTS', 'DELIVERED', 'FAILED', 'P50/P99', 'LAST SUCCESS', 'LAST PROBLEM'], rows),
          '',
          `DELIVERED, FAILED (share of attempts), P50/P99 and LAST SUCCESS count attempts since ${options.sinceHours} h ago (GET /api/webhooks/{id}/stats);`,
          'LAST PROBLEM is the newest attempt that was not a first-try success.',
        ].join('\n');
  return { json: { sinceHours: options.sinceHours, webhooks: health }, text };
};

export const poisonListCommand = async (ctx: CommandContext): Promise<Output> => {
  const list = await ctx.client.call({ method: 'GET', path: '/api/poison', key: 'admin', codec: PoisonList, expect: [200] });
  if (list.items.length === 0) return { json: list, text: 'The poison queue is empty.' };
  const rows = list.items.map((m) => {
    const item = m.item;
    switch (item.kind) {
      case 'Undeliverable': {
        const r = item.entry.reason;
        return [
          m.messageId,
          when(m.insertedOn),
          'undeliverable',
          item.entry.eventId,
          item.entry.webhookId,
          'status' in r ? `${r.kind} ${r.status}` : 'attempts' in r ? `${r.kind} (${r.attempts})` : r.kind,
        ];
      }
      case 'FailedMessage':
        return [m.messageId, when(m.insertedOn), 'failed message', item.message.eventId, `${item.message.items.length} deliveries`, `dequeued ${m.dequeueCount} times`];
      case 'FailedEnvelope':
        return [
          m.messageId,
          when(m.insertedOn),
          'failed envelope',
          item.messages.map((x) => x.eventId).join(' '),
          `${item.messages.reduce((n, x) => n + x.items.length, 0)} deliveries of ${item.messages.length} events`,
          `dequeued ${m.dequeueCount} times`,
        ];
      case 'Unreadable':
        return [m.messageId, when(m.insertedOn), 'unreadable', '-', '-', item.excerpt.slice(0, 40)];
    }
  });
  const more = list.items.length === 32 ? '\n\nShowing the oldest 32 (the queue service shows no more at once).' : '';
  return { json: list, text: `${table(['MESSAGE', 'POISONED', 'KIND', 'EVENT', 'WEBHOOK', 'REASON'], rows)}${more}` };
};

/** One message by id, or all: the API moves at most 5000 per call, so `all` calls until nothing is left. */
export const poisonRedriveCommand = async (ctx: CommandContext, target: { all: true } | { messageId: string }): Promise<Output> => {
  if ('messageId' in target) {
    const report = await ctx.client.call({ method: 'POST', path: '/api/poison/redrive', key: 'admin', body: target, codec: RedriveReport, expect: [200] });
    const text = report.redriven === 1 ? `Redriven: ${target.messageId}` : `Message ${target.messageId} is unreadable and stays in the poison queue.`;
    return { json: report, text };
  }
  const bar = progress(ctx.stderr, 'redriven');
  let redriven = 0;
  let leftUnreadable = 0;
  let calls = 0;
  let truncated = true;
  while (truncated) {
    const report = await ctx.client.call({ method: 'POST', path: '/api/poison/redrive', key: 'admin', body: { all: true }, codec: RedriveReport, expect: [200] });
    redriven += report.redriven;
    leftUnreadable = report.leftUnreadable;
    truncated = report.truncated && report.redriven > 0;
    calls++;
    bar.update(redriven);
  }
  bar.done();
  const unreadable = leftUnreadable === 0 ? '' : `; ${leftUnreadable} unreadable left in the poison queue`;
  return { json: { redriven, leftUnreadable, calls }, text: `Redriven: ${redriven} message${redriven === 1 ? '' : 's'}${unreadable}` };
};

/** `--grant serviceId=svc-1,svc-2` (repeatable) as the routing object; an attribute given with nothing after `=` holds nothing. */
export const parseGrants = (grants: readonly string[]): Record<string, string[]> => {
  const routing: Record<string, string[]> = {};
  for (const grant of grants) {
    const at = grant.indexOf('=');
    if (at <= 0) return fail({ kind: 'Usage', message: `--grant takes attribute=value,value (got "${grant.slice(0, 64)}")` });
    const attribute = grant.slice(0, at);
    routing[attribute] = [
      ...(routing[attribute] ?? []),
      ...grant
        .slice(at + 1)
        .split(',')
        .filter((v) => v !== ''),
    ];
  }
  return routing;
};

/** Replaces a tenant's routing grants (PUT /api/tenants/{id}/routing): what its webhooks may route on. */
export const tenantRoutingCommand = async (ctx: CommandContext, id: string, grants: readonly string[]): Promise<Output> => {
  const tenant = await ctx.client.call({ method: 'PUT', path: `/api/tenants/${encodeURIComponent(id)}/routing`, key: 'admin', body: parseGrants(grants), codec: TenantView, expect: [200] });
  const rows = Object.entries(tenant.routing ?? {}).map(([attribute, values]) => [attribute, String(values.length), values.join(', ') || '-']);
  return { json: tenant, text: `Routing grants of tenant ${tenant.id} (${tenant.name}) replaced:\n${rows.length === 0 ? 'none' : table(['ATTRIBUTE', 'VALUES', 'GRANTED'], rows)}` };
};

/** After a SECRETS_KEY rotation (docs/secrets.md): calls the reseal route until no webhook is left under an older key. */
export const secretsResealCommand = async (ctx: CommandContext): Promise<Output> => {
  const bar = progress(ctx.stderr, 're-encrypted');
  let resealed = 0;
  let calls = 0;
  let more = true;
  while (more) {
    const report = await ctx.client.call({ method: 'POST', path: '/api/secrets/reseal', key: 'admin', codec: ResealReport, expect: [200] });
    resealed += report.resealed;
    // A call that moved nothing and still says more would loop for ever: stop and say so.
    more = report.more && report.resealed > 0;
    calls++;
    bar.update(resealed);
  }
  bar.done();
  return { json: { resealed, calls }, text: `Re-encrypted under the current SECRETS_KEY: ${resealed} webhook${resealed === 1 ? '' : 's'}` };
};

export const requireId = (id: string | undefined, what: string): string => id ?? fail({ kind: 'Usage', message: `Missing the ${what}` });
