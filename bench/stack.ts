import { type RunningAzurite, startAzurite } from '../local-host/azurite';
import { type RunningApp, startApp } from './app';
import { type CountingProxy, startCountingProxy } from './proxy';
import { azuriteNodeArgs } from './evidence';

export type MeasuredStack = { readonly azurite: RunningAzurite; readonly proxy: CountingProxy; readonly app: RunningApp };

/**
 * What every measured phase starts from: a fresh in-memory Azurite, the counting proxy in front of
 * it, and a host that talks through the proxy, or straight to Azurite when `direct` (the proxy then
 * counts nothing and costs nothing). Each part's stop goes to the front of `stops`, so running them
 * in order stops the host first and Azurite last.
 */
export const startMeasuredStack = async (input: {
  readonly stops: (() => Promise<void>)[];
  readonly progress: (m: string) => void;
  readonly env: Record<string, string>;
  readonly queues?: Record<string, unknown>;
  readonly direct?: boolean;
}): Promise<MeasuredStack> => {
  const azurite = await startAzurite({ inMemory: true, nodeArgs: azuriteNodeArgs() });
  input.stops.unshift(() => azurite.stop());
  const proxy = await startCountingProxy(azurite.ports);
  input.stops.unshift(() => proxy.stop());
  const app = await startApp({
    storageConnectionString: input.direct === true ? azurite.connectionString : proxy.connectionString,
    progress: input.progress,
    env: input.env,
    ...(input.queues ? { queues: input.queues } : {}),
  });
  input.stops.unshift(() => app.stop());
  return { azurite, proxy, app };
};
