import { readdirSync } from 'node:fs';
import path from 'node:path';

/*
 * The app's registrations as the Functions host receives them: every file under src/functions is
 * required with a stand-in for `@azure/functions-core` (the module the real worker provides), so the
 * metadata is what `@azure/functions` and `durable-functions` generate, not a copy of it.
 */

export type RegisteredMetadata = { readonly name: string; readonly bindings: Record<string, Record<string, unknown>> };

const FUNCTIONS_DIR = path.join(__dirname, '..', '..', 'src', 'functions');

/** Loads the app in an isolated module registry and returns each function's metadata. */
export const registeredFunctions = (): RegisteredMetadata[] => {
  const registered: RegisteredMetadata[] = [];
  jest.isolateModules(() => {
    jest.doMock(
      '@azure/functions-core',
      () => ({
        setProgrammingModel: () => undefined,
        registerFunction: (metadata: RegisteredMetadata) => {
          registered.push(metadata);
          return { dispose: () => undefined };
        },
        registerHook: () => ({ dispose: () => undefined }),
        log: () => undefined,
      }),
      { virtual: true },
    );
    for (const file of readdirSync(FUNCTIONS_DIR)
      .filter((f) => f.endsWith('.ts'))
      .sort()) {
      require(path.join(FUNCTIONS_DIR, file));
    }
  });
  return registered;
};

/** Every `%NAME%` in a text or in any string nested in a value. */
export const settingReferences = (value: unknown): string[] => {
  if (typeof value === 'string') return [...value.matchAll(/%([^%]+)%/g)].map((m) => m[1] ?? '');
  if (Array.isArray(value)) return value.flatMap(settingReferences);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(settingReferences);
  return [];
};
