import { spawn } from 'node:child_process';
import path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { freePort } from '../../local-host/azurite';
import { storageConnectionString } from '../../local-host/testing/spawnHost';
import { ADMIN_KEY, eventually, INGEST_KEY, type Json, type OpsEnvironment, startOpsEnvironment } from './opsEnvironment';

/*
 * The compiled CLI (package.json "bin") against the embedded host: output, --json and exit codes,
 * for each command and each failure (wrong key, unreachable host, bad usage).
 */

const BIN = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');

type Run = { code: number | null; stdout: string; stderr: string };

const runCli = (args: string[], env: Record<string, string | undefined>): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      // Only what the test gives: a developer's own DISPATCHER_* variables must not leak in.
      env: { PATH: process.env.PATH, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

describe('dispatcher-ops against the embedded host', () => {
  let env: OpsEnvironment;
  let keys: Record<string, string>;
  let goodId: string;
  let badId: string;
  beforeAll(async () => {
    env = await startOpsEnvironment('cli');
    keys = { DISPATCHER_URL: env.host.baseUrl, DISPATCHER_ADMIN_KEY: ADMIN_KEY, DISPATCHER_INGEST_KEY: INGEST_KEY };
    const ok = await env.receiver(200);
    const refusing = await env.receiver(422);
    goodId = (await env.createWebhook({ url: ok.url('/hook'), subscriptions: ['ping'], attributes: { name: 'good' } })).id as string;
    badId = (await env.createWebhook({ url: refusing.url('/hook'), subscriptions: ['ping'], attributes: { name: 'bad' } })).id as string;
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('--help prints the usage and exits 0; no command prints it and exits 64', async () => {
    const help = await runCli(['--help'], {});
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('Usage: dispatcher-ops <command>');
    expect(await runCli([], {})).toMatchObject({ code: 64 });
  });

  let pingId: string;

  it('ping-all --wait sends ping:all and shows each webhook delivery as it settles', async () => {
    const run = await runCli(['ping-all', '--wait', '--timeout', '40'], keys);
    expect(run.stderr).toBe(''); // no progress bar: stderr is not a terminal
    expect(run.code).toBe(0);
    pingId = /accepted as event (\S+)/.exec(run.stdout)?.[1] as string;
    expect(pingId).toMatch(/^[0-9A-Z]{26}$/);
    expect(run.stdout).toMatch(/fan-out\s+Completed, 2 deliveries enqueued/);
    expect(run.stdout).toMatch(new RegExp(`${goodId}\\s+delivered\\s+1\\s+HTTP 200`));
    expect(run.stdout).toMatch(new RegExp(`${badId}\\s+poisoned\\s+1\\s+HTTP 422`));
    expect(run.stdout).toContain('WEBHOOK');
  });

  it('ping-all without --wait prints the event id; --json prints {"id"}', async () => {
    const text = await runCli(['ping-all'], keys);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ping:all accepted as event [0-9A-Z]{26}\nFollow it with: dispatcher-ops event [0-9A-Z]{26}\n$/);
    const json = await runCli(['ping-all', '--json'], keys);
    expect(JSON.parse(json.stdout)).toEqual({ id: expect.stringMatching(/^[0-9A-Z]{26}$/) });
  });

  it('event <id> shows the status and per-webhook state, as a table or JSON', async () => {
    const text = await runCli(['event', pingId], keys);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`event     ${pingId}  ping:all`);
    expect(text.stdout).toMatch(/summary\s+1 delivered, 0 retrying, 1 poisoned/);
    const json = await runCli(['event', pingId, '--json'], keys);
    const view = JSON.parse(json.stdout) as { deliveries: Json[] };
    expect(view.deliveries.map((d) => [d.webhookId, d.state]).sort()).toEqual(
      [
        [goodId, 'delivered'],
        [badId, 'poisoned'],
      ].sort(),
    );
  });

  it('event with an unknown id exits 1 with the API message', async () => {
    const run = await runCli(['event', 'no-such-event'], keys);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toBe('dispatcher-ops: GET /api/events/no-such-event failed with 404: No event with id "no-such-event"\n');
  });

  it('webhooks lists each webhook with its state, counters from the stats route, latency and last problem; stats shows one', async () => {
    // The counters are written right after each message's attempts: wait until both webhooks show theirs.
    const run = await eventually(async () => {
      const r = await runCli(['webhooks'], keys);
      return / 100% /.test(r.stdout) && / 0% /.test(r.stdout) ? r : undefined;
    }, 'the stats counters of both webhooks');
    expect(run.code).toBe(0);
    const line = (id: string): string => run.stdout.split('\n').find((l) => l.startsWith(id)) ?? '';
    expect(line(goodId)).toMatch(/enabled\s+http:\/\/127\.0\.0\.1:\d+\/hook\s+ping\s+[1-9]\d*\s+0%\s+\d+\/\d+ ms\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+-$/);
    // 422 poisons at once and starts a failing streak (auto-disable needs AUTO_DISABLE_MIN_FAILURES more).
    expect(line(badId)).toMatch(/failing since \S+ \S+\s+\S+\s+ping\s+0\s+100%\s+\d+\/\d+ ms\s+-\s+\S+ \S+ Poisoned \(HTTP 422\)$/);
    expect(run.stdout).toContain('GET /api/webhooks/{id}/stats');
    const json = JSON.parse((await runCli(['webhooks', '--json'], keys)).stdout) as { webhooks: { webhook: Json; stats: Json }[] };
    const bad = json.webhooks.find((w) => w.webhook.id === badId);
    expect(bad).toMatchObject({ stats: { delivered: 0, successRate: 0, poisoned: expect.any(Number) }, lastProblem: { decision: 'Poisoned', result: 'HTTP 422' } });
    const one = await runCli(['stats', goodId], keys);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^webhook\s+\S+\nsince\s+\S+ \S+ \(UTC\)\ndelivered\s+[1-9]\d*\nfailed\s+0 \(0 retried, 0 poisoned or gone\)\nsuccess rate\s+100%/);
    expect(JSON.parse((await runCli(['stats', badId, '--json', '--since-hours', '2'], keys)).stdout)).toMatchObject({ webhookId: badId, delivered: 0, successRate: 0 });
    expect(await runCli(['stats'], keys)).toMatchObject({ code: 64, stderr: expect.stringContaining('Missing the webhook id') });
    expect(await runCli(['stats', '01HZZZZZZZZZZZZZZZZZZZZZZZ'], keys)).toMatchObject({ code: 1, stderr: expect.stringContaining('404') });
  });

  it('poison lists the poisoned delivery; redrive <id> moves it back; redrive --all moves the rest', async () => {
    const list = await runCli(['poison', '--json'], keys);
    const items = (JSON.parse(list.stdout) as { items: { messageId: string; item: { kind: string; entry: Json } }[] }).items;
    expect(items.length).toBeGreaterThanOrEqual(1);
    expect(items[0]?.item).toMatchObject({ kind: 'Undeliverable', entry: { webhookId: badId, reason: { kind: 'Rejected', status: 422 } } });
    const table = await runCli(['poison'], keys);
    expect(table.stdout).toMatch(new RegExp(`${items[0]?.messageId}\\s+\\S+ \\S+\\s+undeliverable\\s+\\S+\\s+${badId}\\s+Rejected 422`));

    const one = await runCli(['poison', 'redrive', items[0]?.messageId as string], keys);
    expect(one).toMatchObject({ code: 0, stdout: `Redriven: ${items[0]?.messageId}\n` });
    const missing = await runCli(['poison', 'redrive', 'not-a-message'], keys);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('404');
    // The redriven delivery is refused again (422) and comes back to the poison queue.
    await eventually(async () => ((await env.call('GET', 'poison', { key: ADMIN_KEY })).body?.items as Json[]).length > 0, 'a poison message to redrive');
    const all = await runCli(['poison', 'redrive', '--all', '--json'], keys);
    expect(all.code).toBe(0);
    const report = JSON.parse(all.stdout) as { redriven: number; leftUnreadable: number; calls: number };
    expect(report).toMatchObject({ leftUnreadable: 0, calls: 1 });
    expect(report.redriven).toBeGreaterThanOrEqual(1);
    expect((await runCli(['poison', 'redrive'], keys)).code).toBe(64);
  });

  it('tenant routing replaces the grants; a bad attribute exits 1 with the API message, a bad --grant 64', async () => {
    const created = await env.call('POST', 'tenants', { key: ADMIN_KEY, body: { name: 'cli tenant' } });
    const id = created.body?.id as string;
    const run = await runCli(['tenant', 'routing', id, '--grant', 'serviceId=svc-1,svc-2', '--grant', 'name=orders'], keys);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`Routing grants of tenant ${id} (cli tenant) replaced:`);
    expect(run.stdout).toMatch(/serviceId\s+2\s+svc-1, svc-2/);
    expect((await env.call('GET', `tenants/${id}`, { key: ADMIN_KEY })).body?.routing).toEqual({ serviceId: ['svc-1', 'svc-2'], name: ['orders'] });
    expect(await runCli(['tenant', 'routing', id, '--grant', 'color=red'], keys)).toMatchObject({ code: 1, stderr: expect.stringContaining('color: must be a routing attribute (name, serviceId)') });
    expect(await runCli(['tenant', 'routing', id, '--grant', 'serviceId'], keys)).toMatchObject({ code: 64, stderr: expect.stringContaining('--grant takes attribute=value,value') });
    expect((await env.call('GET', `tenants/${id}`, { key: ADMIN_KEY })).body?.routing).toEqual({ serviceId: ['svc-1', 'svc-2'], name: ['orders'] });
    expect(JSON.parse((await runCli(['tenant', 'routing', id, '--json'], keys)).stdout)).toMatchObject({ id, routing: {} });
  });

  it('secrets reseal re-encrypts what is not under the current SECRETS_KEY, then finds nothing left', async () => {
    const ok = await env.receiver(200);
    const legacy = await env.createWebhook({ url: ok.url('/legacy'), subscriptions: ['ping'], attributes: { name: 'legacy' } });
    // As a row written before encryption holds it: the secret in plain text, no key id.
    const raw = TableClient.fromConnectionString(storageConnectionString(), env.settings.WEBHOOKS_TABLE, { allowInsecureConnection: true });
    const rowKey = `webhook|${legacy.id as string}`;
    await raw.updateEntity({ partitionKey: 'webhooks', rowKey, secret: legacy.secret as string, secretKeyId: '' }, 'Merge');

    const run = await runCli(['secrets', 'reseal', '--json'], keys);
    expect({ code: run.code, report: JSON.parse(run.stdout) as unknown }).toEqual({ code: 0, report: { resealed: 1, calls: 1 } });
    expect((await raw.getEntity<{ secret: string }>('webhooks', rowKey)).secret).toMatch(/^enc:v1:/);
    expect(JSON.parse((await runCli(['secrets', 'reseal', '--json'], keys)).stdout)).toEqual({ resealed: 0, calls: 1 });
    expect((await runCli(['secrets', 'reseal'], keys)).stdout).toBe('Re-encrypted under the current SECRETS_KEY: 0 webhooks\n');
    expect((await runCli(['secrets'], keys)).code).toBe(64);
  });

  it('a wrong key: one line naming the key, exit 3', async () => {
    const run = await runCli(['poison'], { ...keys, DISPATCHER_ADMIN_KEY: 'wrong-admin-key-0123456789' });
    expect(run).toMatchObject({ code: 3, stdout: '', stderr: 'dispatcher-ops: The dispatcher refused the admin key (401): check DISPATCHER_ADMIN_KEY or --admin-key\n' });
    const ingest = await runCli(['ping-all', '--ingest-key', ADMIN_KEY], keys);
    expect(ingest).toMatchObject({ code: 3, stderr: expect.stringContaining('refused the ingest key (401)') });
  });

  it('a missing key: exit 64 before any call', async () => {
    const run = await runCli(['webhooks'], { DISPATCHER_URL: env.host.baseUrl });
    expect(run).toMatchObject({ code: 64, stderr: 'dispatcher-ops: No admin key: set DISPATCHER_ADMIN_KEY or --admin-key\n' });
  });

  it('an unreachable host: one readable line, exit 2', async () => {
    const port = await freePort();
    const run = await runCli(['event', 'x', '--url', `http://127.0.0.1:${port}`], keys);
    expect(run).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `dispatcher-ops: Cannot reach the dispatcher at http://127.0.0.1:${port}: connection refused (is it running? check DISPATCHER_URL or --url)\n`,
    });
  });

  it('bad usage: unknown command or option, bad number', async () => {
    expect(await runCli(['frobnicate'], keys)).toMatchObject({ code: 64, stderr: expect.stringContaining('Unknown command "frobnicate"') });
    expect(await runCli(['poison', '--nope'], keys)).toMatchObject({ code: 64, stderr: expect.stringContaining("Unknown option '--nope'") });
    expect(await runCli(['webhooks', '--since-hours', 'many'], keys)).toMatchObject({ code: 64, stderr: 'dispatcher-ops: --since-hours must be a positive integer\n' });
  });
});
