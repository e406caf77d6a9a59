import { BODY_FORMATS } from '../src/domain/endpointControls';
import { WebhookView } from '../src/domain/webhook';
import { fail } from './client';
import type { CommandContext, Output } from './commands';

/*
 * dispatcher-ops controls <webhookId> [--rate-limit <n|none>] [--timeout-ms <n|none>]
 * [--max-attempts <n|none>] [--format <pagopa|standard|cloudevents|none>]: shows a webhook's
 * per-endpoint controls, or changes the ones given (PATCH; `none` goes back to the default). The
 * dispatcher checks the ranges and answers with the rule broken; the CLI only checks the shape.
 */

export type ControlOptions = { readonly rateLimit?: string; readonly timeoutMs?: string; readonly maxAttempts?: string; readonly format?: string };

const numberOrNone = (value: string | undefined, flag: string): number | null | undefined => {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  return /^[0-9]{1,9}$/.test(value) ? Number(value) : fail({ kind: 'Usage', message: `${flag} takes a whole number or "none" (got "${value.slice(0, 32)}")` });
};

const formatOrNone = (value: string | undefined): string | null | undefined => {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  return (BODY_FORMATS as readonly string[]).includes(value) ? value : fail({ kind: 'Usage', message: `--format takes ${BODY_FORMATS.join(', ')} or none (got "${value.slice(0, 32)}")` });
};

/** The merge patch the options ask for; empty when none is given (then the command only shows). */
export const controlsPatch = (options: ControlOptions): Record<string, number | string | null> => {
  const entries: [string, number | string | null | undefined][] = [
    ['rateLimitPerSecond', numberOrNone(options.rateLimit, '--rate-limit')],
    ['timeoutMs', numberOrNone(options.timeoutMs, '--timeout-ms')],
    ['maxAttempts', numberOrNone(options.maxAttempts, '--max-attempts')],
    ['format', formatOrNone(options.format)],
  ];
  return Object.fromEntries(entries.filter((e): e is [string, number | string | null] => e[1] !== undefined));
};

export const controlsCommand = async (ctx: CommandContext, webhookId: string, options: ControlOptions): Promise<Output> => {
  const patch = controlsPatch(options);
  const path = `/api/webhooks/${encodeURIComponent(webhookId)}`;
  const webhook =
    Object.keys(patch).length === 0
      ? await ctx.client.call({ method: 'GET', path, key: 'admin', codec: WebhookView, expect: [200] })
      : await ctx.client.call({ method: 'PATCH', path, key: 'admin', body: patch, codec: WebhookView, expect: [200] });
  const controls = { rateLimitPerSecond: webhook.rateLimitPerSecond, timeoutMs: webhook.timeoutMs, maxAttempts: webhook.maxAttempts, format: webhook.format };
  const text = [
    `webhook        ${webhook.id}${Object.keys(patch).length === 0 ? '' : ' (updated)'}`,
    `rate limit     ${controls.rateLimitPerSecond === undefined ? 'none' : `${controls.rateLimitPerSecond} deliveries/s`}`,
    `timeout        ${controls.timeoutMs === undefined ? 'default (DELIVERY_TIMEOUT_MS)' : `${controls.timeoutMs} ms`}`,
    `max attempts   ${controls.maxAttempts === undefined ? 'the retry schedule' : String(controls.maxAttempts)}`,
    `body format    ${controls.format ?? 'pagopa (default)'}`,
  ].join('\n');
  return { json: { id: webhook.id, ...controls }, text };
};
