import Module from 'node:module';
import type { FunctionCallback, FunctionMetadata, LogLevel, ProgrammingModel, RegisteredFunction } from './types';

export const FUNCTIONS_CORE_MODULE_ID = '@azure/functions-core';

type HookCallback = (context: unknown) => unknown;

/** What the app registered through the real `@azure/functions` package. */
export type AppRegistry = {
  readonly functions: RegisteredFunction[];
  readonly hooks: Map<string, HookCallback[]>;
  programmingModel: ProgrammingModel | undefined;
};

export type LogSink = (level: LogLevel, category: string, message: string) => void;

export const createRegistry = (): AppRegistry => ({ functions: [], hooks: new Map(), programmingModel: undefined });

const createCoreModule = (registry: AppRegistry, log: LogSink) => ({
  version: '3.10.1',
  setProgrammingModel: (pm: ProgrammingModel): void => {
    registry.programmingModel = pm;
  },
  getProgrammingModel: (): ProgrammingModel | undefined => registry.programmingModel,
  registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback) => {
    if (registry.functions.some((f) => f.metadata.name === metadata.name)) {
      throw new Error(`A function named "${metadata.name}" is already registered`);
    }
    registry.functions.push({ metadata, callback });
    return {
      dispose: () =>
        registry.functions.splice(
          registry.functions.findIndex((f) => f.metadata.name === metadata.name),
          1,
        ),
    };
  },
  registerHook: (hookName: string, callback: HookCallback) => {
    const list = registry.hooks.get(hookName) ?? [];
    list.push(callback);
    registry.hooks.set(hookName, list);
    return { dispose: () => list.splice(list.indexOf(callback), 1) };
  },
  log: log,
  Disposable: class {
    constructor(private readonly onDispose: () => void) {}
    dispose(): void {
      this.onDispose();
    }
  },
});

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;

/**
 * Makes `require('@azure/functions-core')` answer with this host's implementation, as the
 * Functions worker does in Azure. Returns a function that removes the interception.
 */
export const installFunctionsCore = (registry: AppRegistry, log: LogSink): (() => void) => {
  const moduleWithLoad = Module as unknown as { _load: Loader };
  const originalLoad = moduleWithLoad._load;
  const core = createCoreModule(registry, log);
  moduleWithLoad._load = function (request, parent, isMain) {
    return request === FUNCTIONS_CORE_MODULE_ID ? core : originalLoad.call(this, request, parent, isMain);
  };
  return () => {
    moduleWithLoad._load = originalLoad;
  };
};
