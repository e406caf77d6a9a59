import { readdirSync, readFileSync } from 'node:fs';

/*
 * CPU time of the bench's child processes (host, Azurite, counting proxy) and of the bench itself,
 * from /proc (Linux only; elsewhere the snapshot is empty). Tells where a phase's time goes on two
 * shared cores: in the host (functions, orchestration, durable replay) or in storage (Azurite).
 */

export type CpuSnapshot = Record<string, number>;

const TICKS_PER_SECOND = 100;

const labelOf = (cmdline: string): string => (cmdline.includes('azurite') ? 'azurite' : cmdline.includes('proxyMain') ? 'proxy' : cmdline.includes('cli.js') ? 'host' : 'other');

/** CPU seconds (user + system) so far, per kind of process. */
export const cpuSnapshot = (): CpuSnapshot => {
  const own = process.cpuUsage();
  const result: CpuSnapshot = { bench: (own.user + own.system) / 1e6 };
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return {};
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start at the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
      const label = labelOf(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      result[label] = (result[label] ?? 0) + seconds;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return result;
};

/** CPU milliseconds spent between two snapshots, per kind of process, divided by `per`. */
export const cpuMsPer = (before: CpuSnapshot, after: CpuSnapshot, per: number): Record<string, number> =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Math.round(((v - (before[k] ?? 0)) * 1000 * 10) / Math.max(1, per)) / 10]));
