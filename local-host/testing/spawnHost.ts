import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { freePort } from '../azurite';

/** The compiled CLI: `npm test` builds before it runs jest. */
export const CLI_PATH = path.resolve(__dirname, '..', '..', 'dist', 'local-host', 'cli.js');

/**
 * Hosts of different test files share one Azurite: a task hub per test file (Jest loads this module
 * afresh for each file) keeps their orchestrations apart, while hosts of one file (a restart, two
 * competing hosts) share theirs. Apps name the hub `%DURABLE_TASK_HUB%` in host.json.
 */
const FILE_TASK_HUB = `testhub${randomBytes(6).toString('hex')}`;

export type LogLine = { level: string; category: string; message: string; [field: string]: unknown };

export type SpawnedHost = {
  readonly baseUrl: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Every JSON log line the host printed so far. */
  readonly logs: LogLine[];
  /** Non-JSON output (stderr, Azurite, crashes). */
  readonly rawOutput: string[];
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal and waits for the process to exit; resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
};

export const storageConnectionString = (): string => {
  const value = process.env.TEST_STORAGE_CONNECTION_STRING;
  if (value === undefined) throw new Error('TEST_STORAGE_CONNECTION_STRING is not set: run tests through jest (globalSetup starts Azurite)');
  return value;
};

/**
 * Starts the local host on a fixture app in a child process (the host patches Node's module
 * loader, which Jest's sandbox does not use) and waits until it says it has started.
 */
export const spawnHost = async (options: { appDir: string; env?: Record<string, string>; port?: number; startTimeoutMs?: number }): Promise<SpawnedHost> => {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [CLI_PATH, '--app', options.appDir, '--port', String(port)], {
    env: {
      ...process.env,
      AzureWebJobsStorage: storageConnectionString(),
      LOCAL_HOST_LOG_FORMAT: 'json',
      LOCAL_HOST_LOG_LEVEL: 'debug',
      DURABLE_TASK_HUB: FILE_TASK_HUB,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const rawOutput: string[] = [];
  // Every line any test host writes, kept for the scan after the run (scanHostLogs.ts): no secret, no fiscal code.
  const keep = process.env.TEST_HOST_LOG_DIR === undefined ? undefined : createWriteStream(path.join(process.env.TEST_HOST_LOG_DIR, `host-${process.pid}-${port}-${Date.now()}.log`));
  child.once('exit', () => keep?.end());
  const waiters = new Set<() => void>();
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      waiters.forEach((w) => w());
      resolve(code);
    }),
  );
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    keep?.write(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        rawOutput.push(line);
      }
    }
    waiters.forEach((w) => w());
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    keep?.write(chunk);
    rawOutput.push(chunk.toString('utf8'));
    waiters.forEach((w) => w());
  });
  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = logs.find(predicate);
        if (found !== undefined) {
          cleanup();
          resolve(found);
        } else if (exitCode !== undefined) {
          cleanup();
          reject(new Error(`host exited (code ${exitCode}) before the expected log line; output:\n${rawOutput.join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for a log line; last lines:\n${logs
              .slice(-20)
              .map((l) => JSON.stringify(l))
              .join('\n')}\n${rawOutput.join('\n')}`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  await waitForLog((l) => l.message.startsWith('Host started'), options.startTimeoutMs ?? 30_000);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    child,
    logs,
    rawOutput,
    waitForLog,
    stop: (signal = 'SIGTERM') => {
      if (exitCode === undefined) child.kill(signal);
      return exited;
    },
  };
};
