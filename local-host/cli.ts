#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORTS, isListening, type RunningAzurite, startAzurite } from './azurite';
import type { HostJson } from './core/component';
import { AppLoadError } from './core/loadApp';
import { createLogger, parseLogLevel } from './core/logger';
import { type RunningHost, startHost } from './host';
import { loadLocalSettings, SettingsFileError } from './settings';

const DEVELOPMENT_STORAGE = 'UseDevelopmentStorage=true';
const DEFAULT_HTTP_PORT = 7071;

const usage = `Usage: local-host [--app DIR] [--port N] [--in-memory]

Runs an Azure Functions (Node v4 programming model) app without Core Tools.
  --app DIR     the app folder (package.json "main" names its entry files); default: current folder
  --port N      HTTP port (default: PORT, else ${DEFAULT_HTTP_PORT})
  --in-memory   keep the embedded Azurite's data in memory instead of ./__azurite__
Settings come from the environment, then local.settings.json (or its .example) "Values".`;

const fail = (message: string): never => {
  process.stderr.write(`local-host: ${message}\n`);
  process.exit(1);
};

const readHostJson = (appDir: string): HostJson => {
  const file = path.join(appDir, 'host.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as HostJson;
  } catch (e) {
    return fail(`${file} is not valid JSON: ${(e as Error).message}`);
  }
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: { app: { type: 'string' }, port: { type: 'string' }, 'in-memory': { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help === true) {
    process.stdout.write(usage + '\n');
    return;
  }
  const appDir = path.resolve(values.app ?? '.');
  const logger = createLogger({
    format: process.env.LOCAL_HOST_LOG_FORMAT === 'json' ? 'json' : 'text',
    minLevel: parseLogLevel(process.env.LOCAL_HOST_LOG_LEVEL),
  });
  // Signals are handled from the first moment: the HTTP listener answers before the queue and
  // durable components have started, so a SIGTERM may arrive while startup is still under way.
  let azurite: RunningAzurite | undefined;
  let host: RunningHost | undefined;
  let stopRequested: string | undefined;
  const stopEverything = async (signal: string): Promise<void> => {
    logger.log('information', 'host', `${signal} received: finishing work in flight, then stopping`);
    await host?.stop();
    await azurite?.stop();
    logger.log('information', 'host', 'Stopped');
    process.exit(0);
  };
  const onSignal = (signal: string): void => {
    if (stopRequested !== undefined) {
      logger.log('warning', 'host', `${signal} again: exiting now`);
      process.exit(130);
    }
    stopRequested = signal;
    // During startup the stop waits until startup has finished (below), so nothing is left half-started.
    if (host !== undefined) void stopEverything(signal);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // Defence in depth only: request handling never throws out of its handler (http.ts). A stray
  // error from one request or timer must not take the host and its Azurite down with it.
  process.on('uncaughtException', (e) => logger.log('error', 'host', `Uncaught error (the host keeps running): ${e.stack ?? e.message}`));
  process.on('unhandledRejection', (e) => logger.log('error', 'host', `Unhandled rejection (the host keeps running): ${e instanceof Error ? (e.stack ?? e.message) : 'a non-Error value'}`));

  let settings;
  try {
    settings = loadLocalSettings(appDir);
  } catch (e) {
    return fail(e instanceof SettingsFileError ? e.message : String(e));
  }
  if (settings.usedExample) logger.log('warning', 'host', `local.settings.json not found: using ${path.basename(settings.source ?? '')} (copy it to local.settings.json to change settings)`);
  const portText = values.port ?? process.env.PORT ?? String(DEFAULT_HTTP_PORT);
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`invalid port "${portText}"`);

  const storage = process.env.AzureWebJobsStorage;
  if (storage === undefined || storage === '') return fail('the setting AzureWebJobsStorage is missing (set it, or use local.settings.json)');
  let connectionString = storage;
  if (storage.trim() === DEVELOPMENT_STORAGE) {
    const listening = await Promise.all(Object.values(DEFAULT_PORTS).map((p) => isListening(p)));
    if (listening.every(Boolean)) {
      logger.log('information', 'host', `Using the storage emulator already listening on ports ${Object.values(DEFAULT_PORTS).join('/')}`);
    } else if (listening.some(Boolean)) {
      return fail(`some of the Azurite ports ${Object.values(DEFAULT_PORTS).join('/')} are taken, but not all: stop what holds them, or point AzureWebJobsStorage elsewhere`);
    } else {
      const inMemory = values['in-memory'] === true || process.env.LOCAL_HOST_AZURITE_IN_MEMORY === 'true';
      const location = path.join(appDir, '__azurite__');
      azurite = await startAzurite({ ports: { ...DEFAULT_PORTS }, inMemory, location, onOutput: (line) => logger.log('debug', 'azurite', line) });
      logger.log('information', 'host', `Started Azurite on ports ${Object.values(DEFAULT_PORTS).join('/')} (${inMemory ? 'in memory' : `data in ${location}`})`);
    }
    connectionString = azurite?.connectionString ?? storage;
  }
  if (stopRequested !== undefined) return stopEverything(stopRequested);

  try {
    host = await startHost({ appDir, port, storageConnectionString: connectionString, hostJson: readHostJson(appDir), logger });
  } catch (e) {
    await azurite?.stop();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') return fail(`port ${port} is already in use (set PORT or --port to another one)`);
    return fail(e instanceof AppLoadError ? e.message : `failed to start: ${(e as Error).stack ?? String(e)}`);
  }
  logger.log('information', 'host', `Host started: ${host.functionNames.length} functions, listening on ${host.baseUrl}`);
  if (stopRequested !== undefined) await stopEverything(stopRequested);
};

main().catch((e: unknown) => fail((e as Error).stack ?? String(e)));
