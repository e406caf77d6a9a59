import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AZURITE_MODULE_PATH, type EmbeddedHost, REPO_ROOT, requireBuiltHost, spawnEmbeddedHost } from './embeddedHost';
import { type AgentSettings, decodeExternalDispatcherSettings, type ExternalDispatcherSettings, orThrow } from './settings';
import { waitFor } from './waitFor';

/*
 * Starts (or finds) the dispatcher the suite runs against, by mode, and hands the tests its address
 * and keys in the same three variables an external dispatcher is given: from there on every mode
 * runs the same code.
 */

/** The image docker-compose.yml uses too: Azurite 3.35.0 is the newest that runs on Node 20. */
export const AZURITE_IMAGE = 'mcr.microsoft.com/azure-storage/azurite:3.35.0';

export type DispatcherUnderTest = {
  readonly settings: ExternalDispatcherSettings;
  /** One line for the run's output: what was started, where. */
  readonly description: string;
  stop(): Promise<void>;
};

/** What the embedded mode needs of dist/local-host/azurite.js (compiled by the root build). */
type AzuriteModule = { startAzurite(options: { inMemory?: boolean }): Promise<{ connectionString: string; stop(): Promise<void> }> };

/** Keys for a dispatcher the suite starts itself: fresh per run, never written anywhere. */
const newKey = (): string => randomBytes(24).toString('base64url');

export class NoContainerRuntimeError extends Error {
  override readonly name = 'NoContainerRuntimeError';
  /** True for a mode that `npm test` runs where it can: without Docker it is skipped, not failed. */
  constructor(
    message: string,
    readonly skip = false,
  ) {
    super(message);
  }
}

/** Azurite's well-known development account (public, not a secret), at the `azurite` network alias. */
const AZURITE_ON_NETWORK =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://azurite:10000/devstoreaccount1;QueueEndpoint=http://azurite:10001/devstoreaccount1;TableEndpoint=http://azurite:10002/devstoreaccount1;';

const waitForHealth = async (options: { baseUrl: string; timeoutMs: number; host?: EmbeddedHost }): Promise<void> => {
  let last = 'no answer yet';
  await waitFor({
    what: `GET ${options.baseUrl}/api/health to answer 200`,
    timeoutMs: options.timeoutMs,
    condition: async () => {
      const exited = options.host?.exited();
      if (exited !== undefined) throw new Error(`${exited} before it was healthy; its last lines (all in ${options.host?.logFile}):\n${options.host?.tail()}`);
      try {
        const response = await fetch(`${options.baseUrl}/api/health`, { signal: AbortSignal.timeout(5_000) });
        last = `${response.status} ${(await response.text()).slice(0, 500)}`;
        return response.status === 200;
      } catch (e) {
        last = (e as Error).message;
        return false;
      }
    },
    missing: () => `last answer: ${last}${options.host === undefined ? '' : `\nhost output (all in ${options.host.logFile}):\n${options.host.tail()}`}`,
  });
};

const onEmbeddedHost = async (options: { storageConnectionString: string; storageDescription: string; stopStorage: () => Promise<void>; settings: AgentSettings }): Promise<DispatcherUnderTest> => {
  const keys = { ingestApiKey: newKey(), adminApiKey: newKey() };
  let host: EmbeddedHost | undefined;
  try {
    host = await spawnEmbeddedHost({ storageConnectionString: options.storageConnectionString, ...keys });
    await waitForHealth({ baseUrl: host.baseUrl, timeoutMs: options.settings.STARTUP_TIMEOUT_MS, host });
  } catch (e) {
    await host?.stop();
    await options.stopStorage();
    throw e;
  }
  const running = host;
  return {
    settings: { DISPATCHER_URL: running.baseUrl, INGEST_API_KEY: keys.ingestApiKey, ADMIN_API_KEY: keys.adminApiKey },
    description: `embedded host at ${running.baseUrl} (log: ${running.logFile}), ${options.storageDescription}`,
    stop: async () => {
      await running.stop();
      await options.stopStorage();
    },
  };
};

const embedded = async (settings: AgentSettings): Promise<DispatcherUnderTest> => {
  requireBuiltHost();
  const { startAzurite } = require(AZURITE_MODULE_PATH) as AzuriteModule;
  const azurite = await startAzurite({ inMemory: true });
  return onEmbeddedHost({ storageConnectionString: azurite.connectionString, storageDescription: 'Azurite in memory from node_modules', stopStorage: () => azurite.stop(), settings });
};

const testcontainers = async (settings: AgentSettings): Promise<DispatcherUnderTest> => {
  requireBuiltHost();
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch (e) {
    throw new NoContainerRuntimeError(`testcontainers mode NOT RUN: no Docker engine found (${(e as Error).message}); this mode needs one, the embedded mode (npm test) does not`);
  }
  const { AzuriteContainer } = await import('@testcontainers/azurite');
  const container = await new AzuriteContainer(AZURITE_IMAGE).withInMemoryPersistence().withSkipApiVersionCheck().start();
  return onEmbeddedHost({
    storageConnectionString: container.getConnectionString(),
    storageDescription: `Azurite in container ${container.getId().slice(0, 12)} (${AZURITE_IMAGE})`,
    stopStorage: async () => void (await container.stop()),
    settings,
  });
};

/**
 * The app's own image (Dockerfile target `app`: the real Functions host on the Node major production
 * runs) and Azurite, on one container network. The app gets local.settings.json.example's values (the
 * settings-parity test keeps them complete for the real host), with storage, fresh keys, private
 * destinations allowed and short retries, as docker-compose.yml. Receivers run here and are reached as
 * RECEIVER_HOST (host.docker.internal, mapped to the Docker host's gateway).
 */
const container = async (settings: AgentSettings): Promise<DispatcherUnderTest> => {
  const { getContainerRuntimeClient, GenericContainer, Network } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
  } catch (e) {
    throw new NoContainerRuntimeError(
      `container mode SKIPPED: no Docker engine found (${(e as Error).message.split('\n')[0]}); it runs the suite against the app's image on the real Functions host where Docker is; the embedded mode ran without it`,
      true,
    );
  }
  const example = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'local.settings.json.example'), 'utf8')) as { Values: Record<string, string> }).Values;
  const keys = { ingestApiKey: newKey(), adminApiKey: newKey() };
  const network = await new Network().start();
  const azurite = await new GenericContainer(AZURITE_IMAGE)
    .withNetwork(network)
    .withNetworkAliases('azurite')
    .withCommand(['azurite', '--blobHost', '0.0.0.0', '--queueHost', '0.0.0.0', '--tableHost', '0.0.0.0', '--skipApiVersionCheck', '--disableTelemetry', '--loose', '--inMemoryPersistence'])
    .start();
  const image = await GenericContainer.fromDockerfile(REPO_ROOT).withTarget('app').build('webhook-dispatcher-app:integration', { deleteOnExit: false });
  const app = await image
    .withNetwork(network)
    .withEnvironment({
      ...example,
      AzureWebJobsStorage: AZURITE_ON_NETWORK,
      INGEST_API_KEY: keys.ingestApiKey,
      ADMIN_API_KEY: keys.adminApiKey,
      ALLOW_PRIVATE_DESTINATIONS: 'true',
      RETRY_SCHEDULE_SECONDS: '1,1,1',
      RETRY_JITTER_RATIO: '0',
      DELIVERY_TIMEOUT_MS: '2000',
    })
    .withExtraHosts([{ host: 'host.docker.internal', ipAddress: 'host-gateway' }])
    .withExposedPorts(80)
    .start();
  const baseUrl = `http://${app.getHost()}:${app.getMappedPort(80)}`;
  const stop = async (): Promise<void> => {
    await app.stop();
    await azurite.stop();
    await network.stop();
  };
  try {
    await waitForHealth({ baseUrl, timeoutMs: settings.STARTUP_TIMEOUT_MS });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    settings: { DISPATCHER_URL: baseUrl, INGEST_API_KEY: keys.ingestApiKey, ADMIN_API_KEY: keys.adminApiKey },
    description: `the app's image on the real Functions host at ${baseUrl} (container ${app.getId().slice(0, 12)}), Azurite in container ${azurite.getId().slice(0, 12)}`,
    stop,
  };
};

const external = async (settings: AgentSettings, env: NodeJS.ProcessEnv): Promise<DispatcherUnderTest> => {
  const dispatcher = orThrow(decodeExternalDispatcherSettings(env));
  await waitForHealth({ baseUrl: dispatcher.DISPATCHER_URL, timeoutMs: settings.STARTUP_TIMEOUT_MS });
  return { settings: dispatcher, description: `external dispatcher at ${dispatcher.DISPATCHER_URL}`, stop: async () => undefined };
};

export const startDispatcherUnderTest = (settings: AgentSettings, env: NodeJS.ProcessEnv): Promise<DispatcherUnderTest> => {
  switch (settings.INTEGRATION_MODE) {
    case 'embedded':
      return embedded(settings);
    case 'testcontainers':
      return testcontainers(settings);
    case 'container':
      return container(settings);
    case 'external':
      return external(settings, env);
    default: {
      const unreachable: never = settings.INTEGRATION_MODE;
      return unreachable;
    }
  }
};
