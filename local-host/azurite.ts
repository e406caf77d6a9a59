import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The well-known development account Azurite serves (public, documented, not a secret). */
export const DEV_ACCOUNT_NAME = 'devstoreaccount1';
export const DEV_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
export const DEFAULT_PORTS = { blob: 10000, queue: 10001, table: 10002 } as const;
const STARTUP_TIMEOUT_MS = 30_000;

export type AzuritePorts = { blob: number; queue: number; table: number };

export type RunningAzurite = {
  readonly connectionString: string;
  readonly ports: AzuritePorts;
  /** The Azurite process (fault tests freeze it with SIGSTOP). */
  readonly pid: number | undefined;
  stop(): Promise<void>;
};

export const connectionStringFor = (ports: AzuritePorts, host = '127.0.0.1'): string =>
  [
    'DefaultEndpointsProtocol=http',
    `AccountName=${DEV_ACCOUNT_NAME}`,
    `AccountKey=${DEV_ACCOUNT_KEY}`,
    `BlobEndpoint=http://${host}:${ports.blob}/${DEV_ACCOUNT_NAME}`,
    `QueueEndpoint=http://${host}:${ports.queue}/${DEV_ACCOUNT_NAME}`,
    `TableEndpoint=http://${host}:${ports.table}/${DEV_ACCOUNT_NAME}`,
  ].join(';') + ';';

export const isListening = (port: number, host = '127.0.0.1'): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** A port that was free a moment ago (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

export const freePorts = async (): Promise<AzuritePorts> => ({ blob: await freePort(), queue: await freePort(), table: await freePort() });

const azuriteMain = (): string => path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');

const waitUntil = async (check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/**
 * Starts Azurite (blob, queue, table) from node_modules as a child process. Data lives under
 * `location`, or in memory when `inMemory` is set. The child dies with this process.
 */
export const startAzurite = async (options: {
  ports?: AzuritePorts;
  location?: string;
  inMemory?: boolean;
  onOutput?: (line: string) => void;
  /** Node flags for Azurite's process (a profiler: the bench's BENCH_AZURITE_NODE_ARGS). */
  nodeArgs?: readonly string[];
}): Promise<RunningAzurite> => {
  const ports = options.ports ?? (await freePorts());
  const args = [
    azuriteMain(),
    '--silent',
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--loose',
    '--blobPort',
    String(ports.blob),
    '--queuePort',
    String(ports.queue),
    '--tablePort',
    String(ports.table),
  ];
  if (options.inMemory === true) {
    args.push('--inMemoryPersistence');
  } else {
    const location = options.location ?? path.resolve('__azurite__');
    mkdirSync(location, { recursive: true });
    args.push('--location', location);
  }
  const child: ChildProcess = spawn(process.execPath, [...(options.nodeArgs ?? []), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `Azurite exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})`;
  });
  const forward = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) options.onOutput?.(line);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const killChild = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killChild);
  try {
    await waitUntil(
      async () => {
        if (exited !== undefined) throw new Error(exited);
        return (await isListening(ports.blob)) && (await isListening(ports.queue)) && (await isListening(ports.table));
      },
      STARTUP_TIMEOUT_MS,
      `Azurite on ports ${ports.blob}/${ports.queue}/${ports.table}`,
    );
  } catch (e) {
    killChild();
    throw e;
  }
  return {
    connectionString: connectionStringFor(ports),
    ports,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', killChild);
        if (exited !== undefined) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(killChild, 5_000).unref();
      }),
  };
};
