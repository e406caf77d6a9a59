import { fork } from 'node:child_process';
import path from 'node:path';
import { type AzuritePorts, connectionStringFor } from '../local-host/azurite';
import type { OpCount } from './storageOps';

export type CountingProxy = {
  readonly connectionString: string;
  readonly ports: AzuritePorts;
  /** The counters so far (since the proxy started). */
  snapshot(): Promise<OpCount[]>;
  stop(): Promise<void>;
};

const START_TIMEOUT_MS = 10_000;
const SNAPSHOT_TIMEOUT_MS = 10_000;

/** Forks the counting proxy (proxyMain.ts) in front of Azurite's three ports. */
export const startCountingProxy = async (targets: AzuritePorts): Promise<CountingProxy> => {
  const child = fork(path.join(__dirname, 'proxyMain.js'), [], { env: { ...process.env, BENCH_PROXY_TARGETS: JSON.stringify(targets) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  const ports = await new Promise<AzuritePorts>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the counting proxy did not start')), START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`the counting proxy exited (code ${code})`)));
    child.on('message', (m: { type?: string; ports?: AzuritePorts }) => {
      if (m.type === 'ready' && m.ports !== undefined) {
        clearTimeout(timer);
        resolve(m.ports);
      }
    });
  });
  return {
    connectionString: connectionStringFor(ports),
    ports,
    snapshot: () =>
      new Promise<OpCount[]>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the counting proxy did not answer')), SNAPSHOT_TIMEOUT_MS);
        const onMessage = (m: { type?: string; counts?: OpCount[] }): void => {
          if (m.type !== 'counts' || m.counts === undefined) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(m.counts);
        };
        child.on('message', onMessage);
        child.send({ type: 'snapshot' });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', kill);
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
};
