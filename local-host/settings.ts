import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type LoadedSettings = {
  /** The file the values came from, or undefined when neither file exists. */
  readonly source: string | undefined;
  /** Names of the settings taken from the file (those not already set in the environment). */
  readonly applied: string[];
  /** True when local.settings.json was missing and the example was used instead. */
  readonly usedExample: boolean;
};

export class SettingsFileError extends Error {}

const readValues = (file: string): Record<string, string> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new SettingsFileError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const values = (parsed as { Values?: unknown } | null)?.Values;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new SettingsFileError(`${file} has no "Values" object`);
  }
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'string') throw new SettingsFileError(`${file}: Values.${name} must be a string`);
    result[name] = value;
  }
  return result;
};

/**
 * Loads `local.settings.json` (or `local.settings.json.example` when it is missing) into the
 * environment, as Core Tools does. A variable already set in the environment wins.
 */
export const loadLocalSettings = (appDir: string, env: NodeJS.ProcessEnv = process.env): LoadedSettings => {
  const main = path.join(appDir, 'local.settings.json');
  const example = `${main}.example`;
  const source = existsSync(main) ? main : existsSync(example) ? example : undefined;
  if (source === undefined) return { source, applied: [], usedExample: false };
  const applied: string[] = [];
  for (const [name, value] of Object.entries(readValues(source))) {
    if (env[name] === undefined) {
      env[name] = value;
      applied.push(name);
    }
  }
  return { source, applied, usedExample: source === example };
};

/** Every `%NAME%` in host.json whose app setting is not set: the real host refuses to start on one. */
export const unresolvedHostJsonSettings = (hostJson: unknown, env: NodeJS.ProcessEnv = process.env): string[] => {
  const names = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const m of value.matchAll(/%([^%]+)%/g)) if (env[m[1] ?? ''] === undefined || env[m[1] ?? ''] === '') names.add(m[1] ?? '');
    } else if (typeof value === 'object' && value !== null) Object.values(value).forEach(visit);
  };
  visit(hostJson);
  return [...names];
};
