import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_PORTS, freePort, isListening, type RunningAzurite, startAzurite } from '../azurite';
import { CLI_PATH } from '../testing/spawnHost';

/*
 * What `npm start` does on a fresh clone: development storage (Azurite started by the host from
 * node_modules on its usual ports, or the one already listening there), the settings example, the
 * real app; health answers 200, and SIGTERM stops the host and the Azurite it started, never one it
 * found running. Either case asserts.
 */

const repoRoot = path.resolve(__dirname, '..', '..');

const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

const azuriteListening = async (): Promise<boolean[]> => Promise.all(Object.values(DEFAULT_PORTS).map((p) => isListening(p)));

describe('npm start (development storage)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  /** `npm start`'s command on a free port; `onOutput` sees the output as it grows. */
  const start = async (onOutput?: (output: string) => void) => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, AzureWebJobsStorage: 'UseDevelopmentStorage=true', LOCAL_HOST_LOG_FORMAT: 'text' };
    // The test run's own settings must not leak in: the app reads the example's values, as on a fresh clone.
    for (const name of ['INGEST_API_KEY', 'ADMIN_API_KEY', 'DURABLE_TASK_HUB']) delete env[name];
    const started = spawn(process.execPath, [CLI_PATH, '--app', repoRoot, '--port', String(port), '--in-memory'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    let output = '';
    const collect = (c: Buffer): void => {
      output += c.toString();
      onOutput?.(output);
    };
    started.stdout.on('data', collect);
    started.stderr.on('data', collect);
    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
    return { port, exited, output: () => output, kill: (signal: NodeJS.Signals) => started.kill(signal) };
  };

  /** The host stops the Azurite it started, and leaves alone one that was already there. */
  const expectAzuriteAfterStop = async (wasRunning: boolean): Promise<void> => {
    expect(await azuriteListening()).toEqual(wasRunning ? [true, true, true] : [false, false, false]);
  };

  it('starts Azurite itself, answers health with 200, and stops cleanly on SIGTERM', async () => {
    const azuriteWasRunning = (await azuriteListening()).every(Boolean);
    const host = await start();
    await waitFor(
      'GET /api/health to answer 200',
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${host.port}/api/health`)).status === 200;
        } catch {
          return false;
        }
      },
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${host.output()}`);
    });
    expect(host.output()).toContain(azuriteWasRunning ? 'Using the storage emulator already listening' : 'Started Azurite');
    if (!existsSync(path.join(repoRoot, 'local.settings.json'))) expect(host.output()).toContain('using local.settings.json.example');

    host.kill('SIGTERM');
    expect(await host.exited).toBe(0);
    expect(host.output()).toContain('Stopped');
    await expectAzuriteAfterStop(azuriteWasRunning);
  }, 90_000);

  it('stops cleanly on a SIGTERM that arrives while it is still starting', async () => {
    const azuriteWasRunning = (await azuriteListening()).every(Boolean);
    let signalled = false;
    const host = await start((output) => {
      // The first line the host prints is the settings notice or the storage line: startup is under way.
      if (!signalled && /Started Azurite|Using the storage emulator|local\.settings\.json/.test(output)) {
        signalled = true;
        child?.kill('SIGTERM');
      }
    });
    expect(await host.exited).toBe(0);
    expect(signalled).toBe(true);
    expect(host.output()).toContain('SIGTERM received');
    expect(host.output()).toContain('Stopped');
    expect(await isListening(host.port)).toBe(false);
    await expectAzuriteAfterStop(azuriteWasRunning);
  }, 90_000);

  it('uses an Azurite already on the usual ports and leaves it running after SIGTERM', async () => {
    // Ours when the ports are free; someone else's when they are taken: the host must not tell them apart.
    const listening = await azuriteListening();
    let ours: RunningAzurite | undefined;
    if (listening.every((l) => !l)) ours = await startAzurite({ ports: { ...DEFAULT_PORTS }, inMemory: true });
    try {
      const host = await start();
      await waitFor(
        'GET /api/health to answer 200',
        async () => {
          try {
            return (await fetch(`http://127.0.0.1:${host.port}/api/health`)).status === 200;
          } catch {
            return false;
          }
        },
        60_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n${host.output()}`);
      });
      expect(host.output()).toContain('Using the storage emulator already listening');
      expect(host.output()).not.toContain('Started Azurite');
      host.kill('SIGTERM');
      expect(await host.exited).toBe(0);
      await expectAzuriteAfterStop(true);
    } finally {
      await ours?.stop();
    }
  }, 90_000);

  it('passes Node flags to Azurite: with a profiler on, stopping it leaves its CPU profile', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'azurite-prof-'));
    try {
      const azurite = await startAzurite({ inMemory: true, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
      await azurite.stop();
      expect(readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
