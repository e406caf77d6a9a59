#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { redactFiscalCodes } from '../src/domain/privacy';
import { type CliError, CliFailure, createClient, fail } from './client';
import { statsCommand } from './statsCommand';
import {
  type CommandContext,
  eventCommand,
  type Output,
  pingAllCommand,
  poisonListCommand,
  poisonRedriveCommand,
  requireId,
  secretsResealCommand,
  tenantRoutingCommand,
  webhooksCommand,
} from './commands';
import { replayCommand, resendCommand, testCommand } from './replayCommands';
import { controlsCommand } from './controlsCommand';
import { plainIntegerIn } from '../src/domain/stringValues';

/* dispatcher-ops: the ops command line of the webhook dispatcher (see README, "Operating"). */

export const USAGE = `Usage: dispatcher-ops <command> [options]

Commands:
  ping-all [--wait] [--timeout <s>]   send ping:all (ingest key); --wait follows its deliveries (admin key)
  event <id>                          an event: fan-out, summary and each webhook's delivery state
  webhooks [--since-hours <h>]        webhooks with their state, delivered/failed counts, latency and last problem
  stats <webhookId> [--since-hours <h>]
                                      one webhook's delivery counters (default: the last 24 h)
  poison                              the oldest poison messages
  poison redrive <messageId>          move one poison message back to the deliveries queue
  poison redrive --all                move every poison message back
  tenant routing <id> [--grant <attribute>=<v1>,<v2> ...]
                                      replace a tenant's routing grants (no --grant: it holds nothing)
  secrets reseal                      after a SECRETS_KEY rotation, re-encrypt every webhook still under an older key
  replay <webhookId> --since <ISO> [--until <ISO>] [--all] [--wait] [--timeout <s>]
                                      re-send the webhook's failed deliveries (--all: every one) of a window
  resend <webhookId> <eventId>        send that event's delivery to the webhook again (same webhook-id)
  test <webhookId>                    send one signed webhook.test and show the receiver's answer
  controls <webhookId> [--rate-limit <n|none>] [--timeout-ms <n|none>] [--max-attempts <n|none>] [--format <f|none>]
                                      show a webhook's per-endpoint controls, or change those given
                                      (format: pagopa, standard, cloudevents; none = back to the default)

Options:
  --url <url>          base URL (env DISPATCHER_URL, default http://localhost:7071)
  --admin-key <key>    admin key (env DISPATCHER_ADMIN_KEY; prefer the variable: flags end up in shell history)
  --ingest-key <key>   ingest key (env DISPATCHER_INGEST_KEY)
  --json               print JSON instead of tables
  --request-timeout <ms>  per request (default 10000)
  -h, --help

Exit codes: 0 done, 1 the dispatcher refused or answered unexpectedly, 2 the dispatcher cannot be reached,
3 a key was refused (401), 64 bad usage or missing settings.`;

const EXIT: Record<CliError['kind'], number> = { Refused: 1, BadAnswer: 1, Unreachable: 2, Unauthorized: 3, Usage: 64 };

const positiveInt = (value: string | undefined, name: string, fallback: number): number => {
  if (value === undefined) return fallback;
  return plainIntegerIn(value, { min: 1, max: 999_999 }) ?? fail({ kind: 'Usage', message: `${name} must be a positive integer` });
};

export type Io = { readonly stdout: { write(s: string): unknown }; readonly stderr: CommandContext['stderr']; readonly env: NodeJS.ProcessEnv };

export const run = async (argv: readonly string[], io: Io): Promise<number> => {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        allowPositionals: true,
        options: {
          url: { type: 'string' },
          'admin-key': { type: 'string' },
          'ingest-key': { type: 'string' },
          json: { type: 'boolean', default: false },
          wait: { type: 'boolean', default: false },
          all: { type: 'boolean', default: false },
          timeout: { type: 'string' },
          'since-hours': { type: 'string' },
          'request-timeout': { type: 'string' },
          grant: { type: 'string', multiple: true },
          since: { type: 'string' },
          until: { type: 'string' },
          'rate-limit': { type: 'string' },
          'timeout-ms': { type: 'string' },
          'max-attempts': { type: 'string' },
          format: { type: 'string' },
          help: { type: 'boolean', short: 'h', default: false },
        },
      });
    } catch (e) {
      return fail({ kind: 'Usage', message: (e as Error).message });
    }
    const { values, positionals } = parsed;
    if (values.help || positionals.length === 0) {
      io.stdout.write(`${USAGE}\n`);
      return values.help ? 0 : EXIT.Usage;
    }
    const baseUrl = values.url ?? io.env.DISPATCHER_URL ?? 'http://localhost:7071';
    if (!URL.canParse(baseUrl)) return fail({ kind: 'Usage', message: `Not a URL: ${baseUrl}` });
    const client = createClient({
      baseUrl,
      adminKey: values['admin-key'] ?? io.env.DISPATCHER_ADMIN_KEY,
      ingestKey: values['ingest-key'] ?? io.env.DISPATCHER_INGEST_KEY,
      timeoutMs: positiveInt(values['request-timeout'], '--request-timeout', 10_000),
    });
    const ctx: CommandContext = { client, stderr: io.stderr, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: Date.now };
    const [command, ...rest] = positionals;
    let output: Output;
    switch (command) {
      case 'ping-all':
        output = await pingAllCommand(ctx, { wait: values.wait, timeoutSeconds: positiveInt(values.timeout, '--timeout', 30) });
        break;
      case 'event':
        output = await eventCommand(ctx, requireId(rest[0], 'event id: dispatcher-ops event <id>'));
        break;
      case 'webhooks':
        output = await webhooksCommand(ctx, { sinceHours: positiveInt(values['since-hours'], '--since-hours', 24) });
        break;
      case 'stats':
        output = await statsCommand(ctx, requireId(rest[0], 'webhook id: dispatcher-ops stats <webhookId>'), { sinceHours: positiveInt(values['since-hours'], '--since-hours', 24) });
        break;
      case 'poison':
        if (rest[0] === undefined) output = await poisonListCommand(ctx);
        else if (rest[0] === 'redrive') {
          if (values.all === (rest[1] !== undefined)) return fail({ kind: 'Usage', message: 'Give either a message id or --all: dispatcher-ops poison redrive <messageId> | --all' });
          output = await poisonRedriveCommand(ctx, values.all ? { all: true } : { messageId: rest[1] as string });
        } else return fail({ kind: 'Usage', message: `Unknown poison command "${rest[0]}": try "poison" or "poison redrive"` });
        break;
      case 'tenant':
        if (rest[0] !== 'routing') return fail({ kind: 'Usage', message: `Unknown tenant command "${rest[0] ?? ''}": try "tenant routing <id> --grant serviceId=a,b"` });
        output = await tenantRoutingCommand(ctx, requireId(rest[1], 'tenant id: dispatcher-ops tenant routing <id> --grant serviceId=a,b'), values.grant ?? []);
        break;
      case 'secrets':
        if (rest[0] !== 'reseal') return fail({ kind: 'Usage', message: 'Try "dispatcher-ops secrets reseal"' });
        output = await secretsResealCommand(ctx);
        break;
      case 'replay':
        output = await replayCommand(ctx, {
          webhookId: requireId(rest[0], 'webhook id: dispatcher-ops replay <webhookId> --since <ISO time>'),
          ...(values.since === undefined ? {} : { since: values.since }),
          ...(values.until === undefined ? {} : { until: values.until }),
          all: values.all,
          wait: values.wait,
          timeoutSeconds: positiveInt(values.timeout, '--timeout', 600),
        });
        break;
      case 'resend':
        output = await resendCommand(ctx, requireId(rest[0], 'webhook id: dispatcher-ops resend <webhookId> <eventId>'), requireId(rest[1], 'event id: dispatcher-ops resend <webhookId> <eventId>'));
        break;
      case 'test':
        output = await testCommand(ctx, requireId(rest[0], 'webhook id: dispatcher-ops test <webhookId>'));
        break;
      case 'controls':
        output = await controlsCommand(ctx, requireId(rest[0], 'webhook id: dispatcher-ops controls <webhookId> [--rate-limit n]'), {
          rateLimit: values['rate-limit'],
          timeoutMs: values['timeout-ms'],
          maxAttempts: values['max-attempts'],
          format: values.format,
        });
        break;
      default:
        return fail({ kind: 'Usage', message: `Unknown command "${command}"; see dispatcher-ops --help` });
    }
    // Event payloads and poison bodies hold fiscal codes: none reaches a terminal or a captured log.
    io.stdout.write(redactFiscalCodes(values.json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.text}\n`));
    return 0;
  } catch (e) {
    if (!(e instanceof CliFailure)) throw e;
    io.stderr.write(redactFiscalCodes(`dispatcher-ops: ${e.error.message}\n`));
    return EXIT[e.error.kind];
  }
};

if (require.main === module) {
  run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`dispatcher-ops: unexpected failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
