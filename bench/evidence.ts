import { execSync } from 'node:child_process';

/*
 * What makes a bench result evidence (issue 19, "The benchmark's evidence must be able to fail"):
 * it comes from the committed bench and product, and it says how the host was started. A full run
 * refuses a dirty tree unless `--allow-dirty` is given, which the result then records.
 */

/** Paths whose uncommitted changes make a result say nothing about a commit. */
export const EVIDENCE_PATHS = ['bench/', 'package.json', 'package-lock.json', 'src', 'local-host', 'host.json'] as const;

export type Provenance = { readonly commit: string; readonly dirty: readonly string[]; readonly allowDirty: boolean };

export const provenance = (allowDirty: boolean): Provenance => {
  try {
    const commit = execSync('git rev-parse HEAD', { encoding: 'utf8' }).trim();
    // bench/results/ is what a run writes, not what it runs.
    const dirty = execSync(`git status --porcelain -- ${EVIDENCE_PATHS.join(' ')} ':!bench/results'`, { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    return { commit, dirty, allowDirty };
  } catch {
    return { commit: 'unknown', dirty: ['(not a git checkout)'], allowDirty };
  }
};

/** Undefined when results may be written; otherwise why not. `--quick` results are never evidence, so they may. */
export const refusal = (p: Provenance, options: { quick: boolean }): string | undefined =>
  options.quick || p.allowDirty || p.dirty.length === 0
    ? undefined
    : `refusing to write results: uncommitted changes in ${p.dirty.join(', ')} (commit them, or pass --allow-dirty, which the result records)`;

/** The commit as the tables print it. */
export const commitLabel = (p: Provenance): string =>
  `${p.commit.slice(0, 12)}${p.dirty.length === 0 ? '' : ` + uncommitted changes (${p.allowDirty ? '--allow-dirty' : 'quick run'}): ${p.dirty.join(', ')}`}`;

/** Variables a host needs from the shell to run at all; nothing else is inherited (no NODE_OPTIONS, no stray app settings). */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'] as const;

/** The host's whole environment: the few inherited variables, then the bench's settings. */
export const hostEnvironment = (settings: Readonly<Record<string, string>>): Record<string, string> => ({
  ...Object.fromEntries(INHERITED.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name] as string]]))),
  ...settings,
});

const nodeArgsOf = (variable: string): string[] => (process.env[variable] ?? '').split(' ').filter(Boolean);
/** Node arguments of the host: only what BENCH_HOST_NODE_ARGS asks for (recorded with the result). */
export const hostNodeArgs = (): string[] => nodeArgsOf('BENCH_HOST_NODE_ARGS');
/** Node arguments of every Azurite the bench starts: only what BENCH_AZURITE_NODE_ARGS asks for (recorded with the result). */
export const azuriteNodeArgs = (): string[] => nodeArgsOf('BENCH_AZURITE_NODE_ARGS');

/** Inherited variables whose values are this machine's own paths: a committed result names them only. */
const MACHINE_PATHS: readonly string[] = ['PATH', 'HOME', 'TMPDIR'];

/** The environment as a result records it: keys and connection strings by name only, the machine's paths as inherited. */
export const recordedEnvironment = (env: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, /KEY|SECRET|Storage|PASSWORD|TOKEN/i.test(k) ? '(set)' : MACHINE_PATHS.includes(k) ? '(inherited from the shell)' : v]));
