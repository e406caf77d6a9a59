import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzurite } from '../local-host/azurite';
import { httpPostRate, queueRoundTrip, startCountingReceiver } from './baselines';

type Row = { metric: string; result: string; baseline?: string; goal?: string };

const quick = process.argv.includes('--quick');
const CONCURRENCY = 16;

const commit = (): string => {
  try {
    return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
};

const table = (rows: Row[]): string =>
  ['| metric | result | baseline (same run) | goal |', '|---|---|---|---|', ...rows.map((r) => `| ${r.metric} | ${r.result} | ${r.baseline ?? ''} | ${r.goal ?? ''} |`)].join('\n');

const main = async (): Promise<void> => {
  const progress = (message: string): void => void process.stderr.write(`bench: ${message}\n`);
  progress(`mode ${quick ? 'quick' : 'full'}; starting Azurite in memory`);
  const azurite = await startAzurite({ inMemory: true });
  const receiver = await startCountingReceiver();
  try {
    const messages = quick ? 500 : 3000;
    progress(`queue round trip, ${messages} messages, concurrency ${CONCURRENCY}`);
    const queue = await queueRoundTrip({ connectionString: azurite.connectionString, messages, concurrency: CONCURRENCY });
    const posts = quick ? 5000 : 30000;
    progress(`raw HTTP POST, ${posts} requests, concurrency ${CONCURRENCY}`);
    const post = await httpPostRate({ url: receiver.url, posts, concurrency: CONCURRENCY });
    const rows: Row[] = [
      { metric: 'queue round trip (send+receive+delete), msg/s', result: String(queue.perSecond) },
      { metric: 'raw HTTP POST to loopback receiver, req/s', result: String(post.perSecond) },
    ];
    const result = {
      commit: commit(),
      date: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      baselines: { queueRoundTrip: queue, httpPost: post },
      rows,
    };
    const dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
    const markdown = `# Benchmark results\n\ncommit ${result.commit}, ${result.date}, ${result.mode} mode, ${result.machine.cpus} cores (${result.machine.cpuModel}), Node ${result.machine.node}\n\n${table(rows)}\n`;
    writeFileSync(path.join(dir, 'latest.md'), markdown);
    process.stdout.write(markdown);
  } finally {
    await receiver.close();
    await azurite.stop();
  }
};

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
