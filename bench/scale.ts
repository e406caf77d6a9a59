import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMeasuredStack } from './stack';
import { azuriteNodeArgs, commitLabel, type Provenance, recordedEnvironment } from './evidence';
import { startReceivers } from './receivers';
import { measureScale, type ScalePoint } from './scenarios';
import { seedWebhooks } from './seed';
import { ms, round } from './stats';
import { type OpCount, total } from './storageOps';

/*
 * `npm run bench -- --phase scale [--quick] [--scale-sizes 1000,10000]`: the full bench's scale phase
 * alone (bench/README.md, measurement 6), on its own fresh Azurite, counting proxy and host, so the
 * `ping:all` to 10 000 webhooks can be measured without the other phases' ten minutes. Results:
 * bench/results/scale[-quick].{json,md} (experiment-scale* with --set or --queues).
 * `--phase throughput` likewise runs the fan-out 1, 10 and 100 throughput phases alone, between two
 * queue round trips: bench/results/throughput[-quick].{json,md}.
 */

export type ScalePhaseOptions = {
  readonly quick: boolean;
  readonly sizes: readonly number[];
  readonly provenance: Provenance;
  readonly progress: (message: string) => void;
  readonly settings: Readonly<Record<string, string>>;
  readonly queues?: Record<string, unknown>;
};

/** The ping:all's storage operations, largest first, per delivery. */
const breakdown = (point: ScalePoint): string[] => {
  const everyone = point.everyone;
  if (everyone?.counts === undefined) return [];
  const counts: readonly OpCount[] = everyone.counts;
  return [
    `### ping:all to ${point.registered}: ${total(counts)} transactions for ${everyone.delivered} deliveries`,
    '',
    '| service | operation | resource | count | per delivery |',
    '|---|---|---|---|---|',
    ...[...counts]
      .sort((a, b) => b.count - a.count)
      .slice(0, 14)
      .map((c) => `| ${c.service} | ${c.operation} | ${c.resource} | ${c.count} | ${round(c.count / Math.max(1, everyone.delivered), 4)} |`),
    '',
  ];
};

export const runScalePhase = async (options: ScalePhaseOptions): Promise<void> => {
  const started = performance.now();
  const stops: (() => Promise<void>)[] = [];
  try {
    const { azurite, proxy, app } = await startMeasuredStack({ stops, progress: options.progress, env: { ...options.settings }, ...(options.queues ? { queues: options.queues } : {}) });
    const receivers = await startReceivers();
    stops.unshift(() => receivers.close());
    options.progress(`scale: fan-out time with ${options.sizes.join(', ')} registered webhooks, 5 matching, then a ping:all to all`);
    const scale = await measureScale(
      { app, receivers, proxy, progress: options.progress },
      {
        sizes: options.sizes,
        matching: 5,
        eventsPerSize: 2,
        deliveryTimeoutMs: options.quick ? 60_000 : 180_000,
        seed: seedWebhooks({ connectionString: azurite.connectionString, tableName: 'webhooks', name: 'fill' }),
      },
    );
    const experiment = Object.keys(options.settings).length > 0 || options.queues !== undefined;
    const name = `${experiment ? 'experiment-' : ''}scale${options.quick ? '-quick' : ''}`;
    const result = {
      commit: commitLabel(options.provenance),
      provenance: options.provenance,
      date: new Date().toISOString(),
      mode: options.quick ? 'quick' : 'full',
      durationSeconds: round((performance.now() - started) / 1000, 1),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, loadAverage: os.loadavg().map((l) => round(l, 2)) },
      settings: {
        host: { env: recordedEnvironment(app.started.env), nodeArgs: app.started.nodeArgs },
        azurite: { nodeArgs: azuriteNodeArgs() },
        overrides: { settings: options.settings, queues: options.queues },
      },
      scale,
    };
    const rows = scale.flatMap((s) => [
      `| ${s.registered} | ping to 5 of them: ${ms(s.fanOut.p50Ms)} p50, ${ms(s.fanOut.maxMs)} max; ${s.transactionsPerEvent} transactions/event; ${s.pages ?? '?'} pages |`,
      ...(s.everyone === undefined
        ? []
        : [
            `| ${s.registered} | ping:all: last delivery ${s.everyone.seconds} s after acceptance${s.everyone.curve ? ` (first ${s.everyone.curve.firstS} s, 10% ${s.everyone.curve.p10S} s, 50% ${s.everyone.curve.p50S} s, 90% ${s.everyone.curve.p90S} s)` : ''}, ${round(s.everyone.delivered / Math.max(0.001, s.everyone.seconds), 1)}/s (${s.everyone.delivered}/${s.everyone.deliveries}); ${s.everyone.transactionsPerDelivery} transactions/delivery; ${s.everyone.pages ?? '?'} pages${
              s.everyone.cpuSeconds
                ? `; CPU s until the last delivery: ${Object.entries(s.everyone.cpuSeconds)
                    .map(([k, v]) => `${k} ${v}`)
                    .join(', ')}`
                : ''
            } |`,
          ]),
    ]);
    const markdown = [
      `# Scale phase (${result.mode} mode${experiment ? `, EXPERIMENT: settings ${JSON.stringify(options.settings)}, host.json queues ${JSON.stringify(options.queues ?? {})}` : ''})`,
      '',
      `commit ${result.commit}, ${result.date}, ${result.machine.cpus} cores (${result.machine.cpuModel}), Node ${result.machine.node}, load average before the end ${result.machine.loadAverage.join(' ')}; ${result.durationSeconds} s`,
      '',
      '| registered | result |',
      '|---|---|',
      ...rows,
      '',
      ...scale.flatMap(breakdown),
    ].join('\n');
    const dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
    writeFileSync(path.join(dir, `${name}.md`), markdown);
    process.stdout.write(markdown);
  } finally {
    for (const stop of stops.splice(0)) await stop().catch(() => undefined);
  }
};
