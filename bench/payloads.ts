import { readFileSync } from 'node:fs';
import { expectedDeliveryId } from './app';
import { runConcurrently } from './baselines';
import { type Env, registerGroup } from './scenarios';
import { round } from './stats';
import { diffCounts, type OpCount, total } from './storageOps';

/*
 * Large payloads (issue 19): events carrying `data` over the 24 KB inline limit travel by claim check.
 * Measured: storage operations per delivery at fan-out 10 of a 512 KB event (goal <= 1.5), and the
 * host's peak RSS at fan-out 100 of 256 KB events (src/functions/__tests__/payloadMemory.e2e.test.ts
 * holds the bound). The host must accept 1 MB events: run.ts starts it with MAX_EVENT_BODY_BYTES=1048576.
 */

export const PAYLOAD_SETTINGS = { MAX_EVENT_BODY_BYTES: String(1024 * 1024) } as const;

export type PayloadRun = {
  readonly fanOut: number;
  readonly dataKb: number;
  readonly events: number;
  readonly accepted: number;
  readonly deliveriesExpected: number;
  readonly delivered: number;
  readonly seconds: number;
  readonly storage: { readonly transactions: number; readonly perDelivery: number; readonly blob: number; readonly counts: OpCount[] };
  /** The host's peak resident memory so far (VmHWM), MB. */
  readonly hostPeakRssMb?: number;
};

const SETTLE_MS = 1500;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const peakRssMb = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined;
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    return line === undefined ? undefined : round(Number(/([0-9]+)/.exec(line)?.[1]) / 1024, 1);
  } catch {
    return undefined;
  }
};

export const measurePayloads = async (env: Env, input: { fanOut: number; dataKb: number; events: number; drainTimeoutMs: number }): Promise<PayloadRun> => {
  const group = `big${input.fanOut}x${input.dataKb}`;
  const webhooks = await registerGroup(env, { group, count: input.fanOut });
  const data = 'x'.repeat(input.dataKb * 1024);
  const before = await env.proxy.snapshot();
  const started = performance.now();
  const statuses: { id: string; status: number }[] = [];
  await runConcurrently(input.events, 4, async (i) => {
    const id = `${group}-${i}`;
    statuses.push({ id, status: await env.app.postPing({ id, target: group, data }).catch(() => 0) });
  });
  const accepted = statuses.filter((s) => s.status === 202);
  const expected = accepted.length * input.fanOut;
  await env.receivers.waitFor(() => env.receivers.distinctIn(group) >= expected, input.drainTimeoutMs);
  const seconds = (performance.now() - started) / 1000;
  await sleep(SETTLE_MS);
  const counts = diffCounts(before, await env.proxy.snapshot());
  const delivered = accepted.reduce((n, s) => n + webhooks.filter((w) => env.receivers.firstArrival.has(expectedDeliveryId(s.id, w))).length, 0);
  const transactions = total(counts);
  const peak = peakRssMb(env.app.pid);
  return {
    fanOut: input.fanOut,
    dataKb: input.dataKb,
    events: input.events,
    accepted: accepted.length,
    deliveriesExpected: expected,
    delivered,
    seconds: round(seconds, 2),
    storage: { transactions, perDelivery: round(transactions / Math.max(1, delivered), 3), blob: total(counts, (c) => c.service === 'blob'), counts },
    ...(peak === undefined ? {} : { hostPeakRssMb: peak }),
  };
};
