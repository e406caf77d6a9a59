import type { HostComponent, HostContext, HostJson, RawHttpAuthorize, RawHttpHandler } from './core/component';
import { createInvoker } from './core/invoke';
import { AppLoadError, loadApp } from './core/loadApp';
import type { Logger } from './core/logger';
import { createDurableComponent } from './durable/component';
import { createHttpComponent } from './http';
import { createQueueComponent } from './queues';
import { unresolvedHostJsonSettings } from './settings';
import { createTimerComponent } from './timers';

export type HostOptions = {
  appDir: string;
  /** Overrides the app's package.json "main" (a path or glob relative to appDir). */
  main?: string;
  port: number;
  /** Interface to listen on; loopback by default. */
  listenHost?: string;
  storageConnectionString: string;
  hostJson: HostJson;
  logger: Logger;
};

export type RunningHost = {
  readonly port: number;
  readonly baseUrl: string;
  readonly functionNames: string[];
  stop(): Promise<void>;
};

/** Builds the trigger components for a loaded app; each one ignores functions it does not serve. */
type ComponentFactory = (ctx: HostContext) => HostComponent;
const triggerComponents: ComponentFactory[] = [createQueueComponent, createTimerComponent, createDurableComponent];

/**
 * Loads the app and serves its triggers. Knows nothing about what the app does: it only speaks
 * the Functions worker contract and the trigger semantics of the Azure host.
 */
export const startHost = async (options: HostOptions): Promise<RunningHost> => {
  const log = options.logger;
  // As in Azure, host.json's %NAME% resolve from app settings only (the Durable extension refuses an unresolved hub name).
  const unresolved = unresolvedHostJsonSettings(options.hostJson);
  if (unresolved.length > 0) throw new AppLoadError(`host.json refers to app settings that are not set: ${unresolved.map((n) => `${n} (as %${n}%)`).join(', ')}`);
  const registry = await loadApp({ appDir: options.appDir, main: options.main, log: (level, category, message) => log.log(level, category, message) });
  const invoker = createInvoker(registry, (level, category, message) => log.log(level, category, message));
  const listenHost = options.listenHost ?? '127.0.0.1';
  let port = options.port;
  let mount: (prefix: string, handler: RawHttpHandler, authorize?: RawHttpAuthorize) => void = () => {
    throw new Error('HTTP component not created yet');
  };
  const ctx: HostContext = {
    invoker,
    hostJson: options.hostJson,
    storageConnectionString: options.storageConnectionString,
    log,
    baseUrl: () => `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}/`,
    mountHttp: (prefix, handler, authorize) => mount(prefix, handler, authorize),
  };
  const http = createHttpComponent(ctx, { port: options.port, host: listenHost, onListening: (p) => (port = p) });
  mount = http.mount;
  const triggers = triggerComponents.map((create) => create(ctx));
  const started: HostComponent[] = [];
  const stopAll = async (): Promise<void> => {
    // Triggers first (they finish in-flight work, which may still call the HTTP API), HTTP last.
    for (const component of started.reverse()) await component.stop();
    started.length = 0;
  };
  try {
    await http.start();
    started.push(http);
    for (const component of triggers) {
      await component.start();
      started.push(component);
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  return {
    port,
    baseUrl: ctx.baseUrl(),
    functionNames: registry.functions.map((f) => f.metadata.name),
    stop: stopAll,
  };
};
