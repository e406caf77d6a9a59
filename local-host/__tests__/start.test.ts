import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_PORTS, freePort, isListening } from '../azurite';
import { CLI_PATH } from '../testing/spawnHost';

/*
 * What `npm start` does on a fresh clone: development storage (Azurite started by the host from
 * node_modules on its usual ports), the settings example, the real app; health answers 200, and
 * SIGTERM stops the host and the Azurite it started.
 */

const repoRoot = path.resolve(__dirname, '..', '..');

const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('npm start (development storage)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('starts Azurite itself, answers health with 200, and stops cleanly on SIGTERM', async () => {
    const azuriteWasRunning = (await Promise.all(Object.values(DEFAULT_PORTS).map((p) => isListening(p)))).every(Boolean);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, AzureWebJobsStorage: 'UseDevelopmentStorage=true', LOCAL_HOST_LOG_FORMAT: 'text' };
    // The test run's own settings must not leak in: the app reads the example's values, as on a fresh clone.
    for (const name of ['INGEST_API_KEY', 'ADMIN_API_KEY', 'DURABLE_TASK_HUB']) delete env[name];
    child = spawn(process.execPath, [CLI_PATH, '--app', repoRoot, '--port', String(port), '--in-memory'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));

    await waitFor('GET /api/health to answer 200', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/api/health`)).status === 200;
      } catch {
        return false;
      }
    }, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${output}`);
    });
    if (!azuriteWasRunning) expect(output).toContain('Started Azurite');
    if (!existsSync(path.join(repoRoot, 'local.settings.json'))) expect(output).toContain('using local.settings.json.example');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('Stopped');
    if (!azuriteWasRunning) {
      const stillListening = await Promise.all(Object.values(DEFAULT_PORTS).map((p) => isListening(p)));
      expect(stillListening).toEqual([false, false, false]);
    }
  }, 90_000);

  it('stops cleanly on a SIGTERM that arrives while it is still starting', async () => {
    const azuriteWasRunning = (await Promise.all(Object.values(DEFAULT_PORTS).map((p) => isListening(p)))).every(Boolean);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, AzureWebJobsStorage: 'UseDevelopmentStorage=true', LOCAL_HOST_LOG_FORMAT: 'text' };
    for (const name of ['INGEST_API_KEY', 'ADMIN_API_KEY', 'DURABLE_TASK_HUB']) delete env[name];
    child = spawn(process.execPath, [CLI_PATH, '--app', repoRoot, '--port', String(port), '--in-memory'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let signalled = false;
    const onOutput = (c: Buffer): void => {
      output += c.toString();
      // The first line the host prints is the settings notice or the storage line: startup is under way.
      if (!signalled && /Started Azurite|Using the storage emulator|local\.settings\.json/.test(output)) {
        signalled = true;
        child?.kill('SIGTERM');
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));

    expect(await exited).toBe(0);
    expect(signalled).toBe(true);
    expect(output).toContain('SIGTERM received');
    expect(output).toContain('Stopped');
    expect(await isListening(port)).toBe(false);
    if (!azuriteWasRunning) {
      const stillListening = await Promise.all(Object.values(DEFAULT_PORTS).map((p) => isListening(p)));
      expect(stillListening).toEqual([false, false, false]);
    }
  }, 90_000);
});
