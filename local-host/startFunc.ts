#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { constants, copyFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_PORTS, isListening, type RunningAzurite, startAzurite } from './azurite';
import { loadLocalSettings } from './settings';

/*
 * `npm run start:func`: the app under Azure Functions Core Tools, where a user has them. Core Tools
 * read local.settings.json only (without it the app's settings are missing), so a missing one is
 * copied from the example, saying so; development storage gets an Azurite from node_modules, as with
 * `npm start`. Arguments after `--` go to `func start`.
 */

const DEVELOPMENT_STORAGE = 'UseDevelopmentStorage=true';

/** Copies local.settings.json.example to local.settings.json when the latter is missing; what it did, in a sentence. */
export const ensureLocalSettings = (appDir: string): { copied: boolean; message: string } => {
  const main = path.join(appDir, 'local.settings.json');
  if (existsSync(main)) return { copied: false, message: `using ${main}` };
  copyFileSync(`${main}.example`, main, constants.COPYFILE_EXCL);
  return { copied: true, message: `local.settings.json not found: copied local.settings.json.example to it (development values; edit it to change settings)` };
};

const main = async (): Promise<void> => {
  const appDir = process.cwd();
  const settings = ensureLocalSettings(appDir);
  process.stdout.write(`start:func: ${settings.message}\n`);
  const values: NodeJS.ProcessEnv = {};
  loadLocalSettings(appDir, values);
  let azurite: RunningAzurite | undefined;
  if ((process.env.AzureWebJobsStorage ?? values.AzureWebJobsStorage)?.trim() === DEVELOPMENT_STORAGE) {
    const listening = await Promise.all(Object.values(DEFAULT_PORTS).map((p) => isListening(p)));
    if (!listening.some(Boolean)) {
      azurite = await startAzurite({ ports: { ...DEFAULT_PORTS }, location: path.join(appDir, '__azurite__') });
      process.stdout.write(`start:func: started Azurite on ports ${Object.values(DEFAULT_PORTS).join('/')} (data in __azurite__)\n`);
    }
  }
  const func = spawn('func', ['start', ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => func.kill(signal));
  const code = await new Promise<number>((resolve) => {
    func.once('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(
        e.code === 'ENOENT'
          ? 'start:func: Azure Functions Core Tools (`func`) are not installed or not on PATH: install Core Tools v4, or run `npm start` (the embedded host)\n'
          : `start:func: cannot run func: ${e.message}\n`,
      );
      resolve(1);
    });
    func.once('exit', (exitCode) => resolve(exitCode ?? 1));
  });
  await azurite?.stop();
  process.exit(code);
};

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`start:func: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
