import { spawn } from 'node:child_process';
import path from 'node:path';
import { ADMIN_KEY, type OpsEnvironment, startOpsEnvironment } from './opsEnvironment';

/*
 * dispatcher-ops replay, resend and test (the compiled CLI) against the embedded host: output,
 * --json, --wait and exit codes, including bad usage and a window the dispatcher refuses.
 */

const BIN = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');

type Run = { code: number | null; stdout: string; stderr: string };

const runCli = (args: string[], env: Record<string, string>): Promise<Run> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

describe('dispatcher-ops replay, resend and test', () => {
  let env: OpsEnvironment;
  let keys: Record<string, string>;
  let hookId: string;
  let eventId: string;
  let since: string;
  let requests: () => { headers: Record<string, unknown>; body: string }[];

  beforeAll(async () => {
    env = await startOpsEnvironment('rcli');
    keys = { DISPATCHER_URL: env.host.baseUrl, DISPATCHER_ADMIN_KEY: ADMIN_KEY };
    // 422 is a permanent failure: the delivery is poisoned at the first attempt.
    const refusing = await env.receiver(422);
    requests = () => refusing.requests;
    hookId = (await env.createWebhook({ url: refusing.url('/hook'), subscriptions: ['ping'], attributes: { name: 'r' } })).id as string;
    since = new Date().toISOString();
    eventId = await env.postEvent({ name: 'ping', payload: { name: 'r' } });
    await env.settled(eventId, 1);
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('replay --wait --json: follows the replay to the end; the poisoned delivery goes again with its webhook-id', async () => {
    const original = String(requests()[0]?.headers['webhook-id']);
    const run = await runCli(['replay', hookId, '--since', since, '--wait', '--json'], keys);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'Completed', deliveries: 1, since: new Date(since).toISOString(), only: 'failed' });
    const text = await runCli(['replay', hookId, '--since', since, '--all', '--wait'], keys);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/status\s+Completed, 1 deliveries enqueued/);
    expect(text.stdout).toContain('(all)');
    expect(requests().filter((r) => r.headers['webhook-id'] === original).length).toBeGreaterThanOrEqual(2);
  });

  it('resend and test', async () => {
    const resent = await runCli(['resend', hookId, eventId], keys);
    expect(resent.code).toBe(0);
    expect(resent.stdout).toMatch(new RegExp(`resent event ${eventId} to webhook ${hookId}: msg_[0-9a-f]{32}`));
    const tested = await runCli(['test', hookId], keys);
    expect(tested.code).toBe(0);
    expect(tested.stdout).toMatch(/test\s+failed: HTTP 422 in \d+ ms/);
    expect(tested.stdout).toContain('answer    {"error":"status 422"}');
    expect(requests().some((r) => r.body === '{"name":"webhook.test","payload":{}}')).toBe(true);
  });

  it('bad usage exits 64; a window the dispatcher refuses exits 1 with its reason', async () => {
    expect((await runCli(['replay', hookId], keys)).code).toBe(64);
    expect((await runCli(['replay', hookId, '--since', 'yesterday'], keys)).code).toBe(64);
    expect((await runCli(['resend', hookId], keys)).code).toBe(64);
    expect((await runCli(['test'], keys)).code).toBe(64);
    const future = await runCli(['replay', hookId, '--since', new Date(Date.now() + 3_600_000).toISOString()], keys);
    expect(future.code).toBe(1);
    expect(future.stderr).toMatch(/future/);
    expect((await runCli(['resend', hookId, 'no-such-event'], keys)).code).toBe(1);
  });
});
