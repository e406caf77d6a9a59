import type * as Composition from '../../functions/lib/composition';
import { TEST_SECRETS_KEY } from '../../domain/__tests__/fixtures';

/* The app's composition root starts the export once, from the setting alone; no network here. */

let mockDistroLoads = 0;
const mockUseAzureMonitor = jest.fn();
const mockShutdownAzureMonitor = jest.fn(async () => undefined);
jest.mock('@azure/monitor-opentelemetry', () => {
  mockDistroLoads++;
  return { useAzureMonitor: mockUseAzureMonitor, shutdownAzureMonitor: mockShutdownAzureMonitor };
});
const mockAppTerminate = jest.fn();
jest.mock('@azure/functions', () => {
  const actual = jest.requireActual<typeof import('@azure/functions')>('@azure/functions');
  return { ...actual, app: { ...actual.app, hook: { ...actual.app.hook, appTerminate: mockAppTerminate } } };
});

const SETTINGS = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  INGEST_API_KEY: 'wiring-ingest-key-0123456789-abcdefghijklmnop',
  ADMIN_API_KEY: 'wiring-admin-key-0123456789-abcdefghijklmnop',
  SECRETS_KEY: TEST_SECRETS_KEY,
  SUBJECT_HASH_KEY: 'wiring-subject-hash-key-0123456789abcdef',
};
const CONNECTION_STRING = 'InstrumentationKey=0f3c2b1a-9d8e-4f7a-8b6c-5d4e3f2a1b0c;IngestionEndpoint=https://example.invalid/';

/** A function's record of a fresh module registry, twice (a second function file asks again). */
const loadDependenciesTwice = (env: NodeJS.ProcessEnv): void => {
  const saved = process.env;
  process.env = env;
  try {
    jest.isolateModules(() => {
      const { healthRecord, eventListRecord } = require('../../functions/lib/composition') as typeof Composition;
      healthRecord();
      eventListRecord();
    });
  } finally {
    process.env = saved;
  }
};

describe('the app starts the Azure Monitor export from its composition root', () => {
  beforeEach(() => {
    mockDistroLoads = 0;
    jest.clearAllMocks();
  });

  it('never loads the distro without APPLICATIONINSIGHTS_CONNECTION_STRING', () => {
    loadDependenciesTwice({ ...SETTINGS });
    loadDependenciesTwice({ ...SETTINGS, APPLICATIONINSIGHTS_CONNECTION_STRING: '' });
    expect(mockDistroLoads).toBe(0);
    expect(mockUseAzureMonitor).not.toHaveBeenCalled();
    expect(mockAppTerminate).not.toHaveBeenCalled();
  });

  it('registers it once with the connection string, and flushes it on appTerminate', async () => {
    loadDependenciesTwice({ ...SETTINGS, APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION_STRING });
    expect(mockUseAzureMonitor).toHaveBeenCalledTimes(1);
    expect(mockUseAzureMonitor.mock.calls[0]?.[0]).toMatchObject({ azureMonitorExporterOptions: { connectionString: CONNECTION_STRING } });
    expect(mockAppTerminate).toHaveBeenCalledTimes(1);
    await (mockAppTerminate.mock.calls[0]?.[0] as () => Promise<void>)();
    expect(mockShutdownAzureMonitor).toHaveBeenCalledTimes(1);
  });
});
