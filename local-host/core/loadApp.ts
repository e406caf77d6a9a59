import { readFileSync } from 'node:fs';
import path from 'node:path';
import { globSync } from 'tinyglobby';
import { type AppRegistry, createRegistry, installFunctionsCore, type LogSink } from './functionsCore';

export class AppLoadError extends Error {}

const readMain = (appDir: string): string => {
  const packageJsonPath = path.join(appDir, 'package.json');
  let main: unknown;
  try {
    main = (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { main?: unknown }).main;
  } catch (e) {
    throw new AppLoadError(`Cannot read ${packageJsonPath}: ${(e as Error).message}`);
  }
  if (typeof main !== 'string' || main.length === 0) {
    throw new AppLoadError(`${packageJsonPath} has no "main" entry naming the app's entry files`);
  }
  return main;
};

/** The files that `main` names: a path or a glob, as the Azure host reads it. */
export const resolveEntryFiles = (appDir: string, main: string): string[] => {
  const files = globSync(main, { cwd: appDir, absolute: true, onlyFiles: true }).sort();
  if (files.length === 0) {
    throw new AppLoadError(`"main": "${main}" matches no file under ${appDir} (was the app built? run "npm run build")`);
  }
  return files;
};

/**
 * Loads a Functions app the way the Azure worker does: make the host module resolvable, require
 * every entry file (registrations happen through the real `@azure/functions` package), then ask the
 * programming model for its capabilities, which locks `app.setup`.
 */
export const loadApp = async (options: { appDir: string; main?: string; log: LogSink }): Promise<AppRegistry> => {
  const registry = createRegistry();
  installFunctionsCore(registry, options.log);
  const files = resolveEntryFiles(options.appDir, options.main ?? readMain(options.appDir));
  for (const file of files) {
    try {
      require(file);
    } catch (e) {
      throw new AppLoadError(`Loading ${path.relative(options.appDir, file)} failed: ${(e as Error).stack ?? String(e)}`);
    }
  }
  if (registry.programmingModel === undefined) {
    throw new AppLoadError('The app registered no function through "@azure/functions" (no programming model was set)');
  }
  await registry.programmingModel.getCapabilities({});
  return registry;
};
