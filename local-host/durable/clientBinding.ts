import { randomBytes } from 'node:crypto';
import type { HostContext } from '../core/component';
import { functionsWithTrigger } from '../core/invoke';
import { createDurableApi, DURABLE_PREFIX, requireSystemKey, rpcBasePath } from './api';
import type { DurableSettings } from './settings';
import type { InstanceStore } from './store';

/**
 * The durable client binding (the JSON `durable-functions` reads its URLs from) and the HTTP API
 * those URLs point at, guarded by the durabletask_extension system key.
 */
export const bindDurableClient = (deps: {
  ctx: HostContext;
  settings: DurableSettings;
  store: InstanceStore;
  wake: (instanceId: string) => Promise<void>;
  newExecutionId: () => string;
  now: () => number;
}): void => {
  const { ctx, settings } = deps;
  const rpcBaseUrl = (): string => `${ctx.baseUrl()}${DURABLE_PREFIX.slice(1)}`;
  // The durabletask_extension system key: LOCAL_HOST_DURABLE_SYSTEM_KEY, else random per start.
  const systemKey = process.env.LOCAL_HOST_DURABLE_SYSTEM_KEY || randomBytes(32).toString('base64url');

  const managementUrls = (instanceId: string): Record<string, string> => {
    const base = `${rpcBaseUrl()}instances/${encodeURIComponent(instanceId)}`;
    const query = `taskHub=${encodeURIComponent(settings.hubName)}&connection=Storage&code=${encodeURIComponent(systemKey)}`;
    return {
      id: instanceId,
      statusQueryGetUri: `${base}?${query}`,
      sendEventPostUri: `${base}/raiseEvent/{eventName}?${query}`,
      terminatePostUri: `${base}/terminate?reason={text}&${query}`,
      rewindPostUri: `${base}/rewind?reason={text}&${query}`,
      purgeHistoryDeleteUri: `${base}?${query}`,
      restartPostUri: `${base}/restart?${query}`,
      suspendPostUri: `${base}/suspend?reason={text}&${query}`,
      resumePostUri: `${base}/resume?reason={text}&${query}`,
    };
  };

  ctx.invoker.provideInput('durableClient', () => {
    const templates = managementUrls('INSTANCEID');
    return {
      string: JSON.stringify({
        taskHubName: settings.hubName,
        creationUrls: {
          createNewInstancePostUri: `${rpcBaseUrl()}orchestrators/{functionName}[/{instanceId}]?code=${encodeURIComponent(systemKey)}`,
          createAndWaitOnNewInstancePostUri: `${rpcBaseUrl()}orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&code=${encodeURIComponent(systemKey)}`,
        },
        managementUrls: { ...templates, id: 'INSTANCEID' },
        baseUrl: rpcBaseUrl().replace(/\/$/, ''),
        requiredQueryStringParameters: `code=${encodeURIComponent(systemKey)}`,
        // Azure's rpcBaseUrl is a loopback-only port of the extension; ours is on the public port,
        // so it carries the system key too (in the path: the client drops a query from it).
        rpcBaseUrl: `${ctx.baseUrl()}${rpcBasePath(systemKey).slice(1)}`,
      }),
    };
  });
  ctx.mountHttp(
    DURABLE_PREFIX,
    createDurableApi({
      store: deps.store,
      orchestrators: () => functionsWithTrigger(ctx.invoker.registry, 'orchestrationTrigger').map((f) => f.metadata.name),
      wake: deps.wake,
      newExecutionId: deps.newExecutionId,
      now: deps.now,
      managementUrls,
    }),
    requireSystemKey(systemKey),
  );
};
