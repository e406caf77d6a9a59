import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMeasuredStack } from './stack';
import { queueRoundTrip } from './baselines';
import { commitLabel, type Provenance } from './evidence';
import { startReceivers } from './receivers';
import { type FanOutPlan, measureFanOuts, measureThroughput, type Throughput } from './scenarios';
import { round } from './stats';

/*
 * `npm run bench -- --phase throughput [--quick]`: only the fan-out throughput phases of the full run
 * (fan-out 1, 10, 100 through the counting proxy, then fan-out 1 with the host straight to Azurite),
 * between two queue round trips measured in the same run: a quick before/after for a hot-path change.
 * Results: bench/results/throughput{-quick}.{json,md}. The full run is unchanged.
 */

const CONCURRENCY = 16;

export const runThroughputPhase = async (input: {
  quick: boolean;
  progress: (m: string) => void;
  settings: Record<string, string>;
  plan: FanOutPlan & { queueMessages: number };
  provenance: Provenance;
}): Promise<void> => {
  const { progress, plan } = input;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0)) await stop().catch(() => undefined);
  };
  const receivers = await startReceivers();
  try {
    const { azurite, proxy, app } = await startMeasuredStack({ stops, progress, env: input.settings });
    const env = { app, receivers, proxy, progress };
    const queueBefore = await queueRoundTrip({ connectionString: azurite.connectionString, messages: plan.queueMessages, concurrency: CONCURRENCY });
    progress(`queue round trip ${queueBefore.perSecond} msg/s`);
    const runs = await measureFanOuts(env, plan);
    // The direct run on a fresh Azurite and host, as the full run does (bench/run.ts).
    await stopAll();
    const direct = await startMeasuredStack({ stops, progress, env: input.settings, direct: true });
    progress(`throughput: fan-out 1, ${plan.fanOutEvents[1]} events, host straight to a fresh Azurite`);
    const fo1Direct = await measureThroughput(
      { ...env, app: direct.app, proxy: direct.proxy },
      { fanOut: 1, events: plan.fanOutEvents[1], drainTimeoutMs: plan.drainMs, group: 'fo1direct', coldEvents: plan.coldEvents },
    );
    await direct.app.stop();
    const queueAfter = await queueRoundTrip({ connectionString: direct.azurite.connectionString, messages: plan.queueMessages, concurrency: CONCURRENCY });
    const q = round((queueBefore.perSecond + queueAfter.perSecond) / 2);
    // Through the proxy the storage operations are counted; straight to Azurite they are not.
    const rowOf = (run: string, t: Throughput, counted: boolean) => ({
      run,
      delivered: `${t.delivered}/${t.deliveriesExpected}`,
      repeats: t.repeats,
      eventsPerSecond: t.eventsPerSecond,
      deliveriesPerSecond: t.deliveriesPerSecond,
      ratioOfQueueRoundTrip: round(t.deliveriesPerSecond / q, 3),
      transactionsPerEvent: counted ? round(t.storage.transactions / Math.max(1, t.accepted), 2) : NaN,
      transactionsPerDelivery: counted ? t.storage.perDelivery : NaN,
      hostCpuMsPerEvent: round(((t.cpuMsPerDelivery.host ?? 0) * t.delivered) / Math.max(1, t.accepted), 2),
    });
    const withColdStart = (label: string, t: Throughput, counted: boolean) => [
      ...(t.coldStart === undefined ? [] : [rowOf(`${label}, cold: a fresh host's first ${t.coldStart.events} events`, t.coldStart, counted)]),
      rowOf(label, t, counted),
      ...(t.withClientIds === undefined ? [] : [rowOf(`${label}, posts with the sender's own ids (${t.withClientIds.events} events, same host)`, t.withClientIds, counted)]),
    ];
    const rows = [...runs.flatMap((t) => withColdStart(`fan-out ${t.fanOut} (proxy)`, t, true)), ...withColdStart('fan-out 1 (direct)', fo1Direct, false)];
    const result = {
      commit: commitLabel(input.provenance),
      date: new Date().toISOString(),
      mode: input.quick ? 'quick' : 'full',
      machine: { cpus: os.cpus().length, loadAverage: os.loadavg().map((l) => round(l, 2)), node: process.version },
      overrides: input.settings,
      queueRoundTrip: { before: queueBefore, after: queueAfter, mean: q },
      rows,
      throughput: runs,
      throughputFanOut1Direct: { ...fo1Direct, storage: undefined },
    };
    // An experiment (settings overridden) is not the product: it goes to experiment-throughput*, as the full run's do.
    const experiment = Object.keys(input.settings).length > 0;
    const name = `${experiment ? 'experiment-' : ''}throughput${input.quick ? '-quick' : ''}`;
    const dir = path.resolve(__dirname, '..', '..', 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
    const markdown = [
      `# Throughput phases only (${result.mode} mode${experiment ? `, EXPERIMENT: settings ${JSON.stringify(input.settings)}` : ''})`,
      '',
      `commit ${result.commit}, ${result.date}, load average ${result.machine.loadAverage.join(' ')}; queue round trip ${queueBefore.perSecond} / ${queueAfter.perSecond} msg/s (mean ${q})`,
      '',
      '| run | delivered | repeats | events/s | deliveries/s | / queue RT | transactions/event | host CPU ms/event |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.run} | ${r.delivered} | ${r.repeats} | ${r.eventsPerSecond} | ${r.deliveriesPerSecond} | ${r.ratioOfQueueRoundTrip} | ${Number.isNaN(r.transactionsPerEvent) ? '' : r.transactionsPerEvent} | ${r.hostCpuMsPerEvent} |`,
      ),
      '',
    ].join('\n');
    writeFileSync(path.join(dir, `${name}.md`), markdown);
    process.stdout.write(markdown);
  } finally {
    await receivers.close();
    await stopAll();
  }
};
