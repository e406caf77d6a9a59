import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/*
 * The dispatcher on the repository's embedded Functions host, in a child process (the host patches
 * Node's module loader, which Jest's sandbox does not use). Used by the embedded and testcontainers
 * modes; storage is whatever connection string the caller gives.
 */

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CLI_PATH = path.join(REPO_ROOT, 'dist', 'local-host', 'cli.js');
export const AZURITE_MODULE_PATH = path.join(REPO_ROOT, 'dist', 'local-host', 'azurite.js');

/**
 * App settings for the suite: short, jitter-free retries so retry scenarios take seconds, a short
 * attempt timeout so a hanging receiver fails fast, and loopback receivers allowed.
 * docker-compose.yml gives the app the same values.
 */
export const TEST_APP_SETTINGS: Readonly<Record<string, string>> = {
  ALLOW_PRIVATE_DESTINATIONS: 'true',
  RETRY_SCHEDULE_SECONDS: '1,1,1',
  RETRY_JITTER_RATIO: '0',
  DELIVERY_TIMEOUT_MS: '2000',
};

/** How many lines of host output an error message shows; the whole output is in the log file. */
const TAIL_LINES = 40;

export type EmbeddedHost = {
  readonly baseUrl: string;
  readonly logFile: string;
  /** The last lines the host printed, for error messages. */
  tail(): string;
  /** Set once the process has exited, with how. */
  exited(): string | undefined;
  stop(): Promise<void>;
};

export const freePort = (host = '127.0.0.1'): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });

export const requireBuiltHost = (): void => {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` at the repository root first`);
};

/** Spawns `node dist/local-host/cli.js --app <repo root> --port <free>`; the caller waits for health. */
export const spawnEmbeddedHost = async (options: { storageConnectionString: string; ingestApiKey: string; adminApiKey: string }): Promise<EmbeddedHost> => {
  requireBuiltHost();
  const port = await freePort();
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'dispatcher-integrations-'));
  const logFile = path.join(logDir, 'host.log');
  const log = createWriteStream(logFile);
  const lines: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [CLI_PATH, '--app', REPO_ROOT, '--port', String(port)], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...TEST_APP_SETTINGS,
      AzureWebJobsStorage: options.storageConnectionString,
      INGEST_API_KEY: options.ingestApiKey,
      ADMIN_API_KEY: options.adminApiKey,
      LOCAL_HOST_LOG_FORMAT: 'text',
      LOCAL_HOST_LOG_LEVEL: process.env.LOCAL_HOST_LOG_LEVEL ?? 'information',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const record = (chunk: Buffer): void => {
    log.write(chunk);
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== ''),
    );
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
  };
  child.stdout?.on('data', record);
  child.stderr?.on('data', record);
  let exit: string | undefined;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = `the host exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})`;
      resolve();
    }),
  );
  // Never leave a host behind, whatever ends this process.
  const kill = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', kill);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    logFile,
    tail: () => lines.join('\n'),
    exited: () => exit,
    stop: async () => {
      process.removeListener('exit', kill);
      if (exit === undefined) {
        child.kill('SIGTERM');
        const forced = setTimeout(kill, 10_000);
        await exitedPromise;
        clearTimeout(forced);
      }
      await new Promise<void>((resolve) => log.end(() => resolve()));
    },
  };
};
