import * as distro from '@azure/monitor-opentelemetry';
import { metrics } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { CONNECTION_STRING_SETTING, type Distro, startAzureMonitor } from '../azureMonitor';
import { METRICS, recordAcceptedEvent } from '../telemetry';
import { selfSignedLoopbackCert } from './selfSignedCert';

// The distro asks the Azure VM metadata service (169.254.169.254) who it runs on: not in a loopback-only test.
jest.mock('@opentelemetry/resource-detector-azure', () => ({
  ...(jest.requireActual('@opentelemetry/resource-detector-azure') as object),
  azureVmDetector: { detect: () => ({ attributes: {} }) },
}));

const KEY = '0f3c2b1a-9d8e-4f7a-8b6c-5d4e3f2a1b0c';

const fakeDistro = (over: Partial<Distro> = {}): Distro & { options: unknown[] } => {
  const options: unknown[] = [];
  return { options, useAzureMonitor: (o) => void options.push(o), shutdownAzureMonitor: async () => undefined, ...over };
};

describe('startAzureMonitor', () => {
  it('loads nothing and warns of nothing without the setting', () => {
    for (const env of [{}, { [CONNECTION_STRING_SETTING]: '' }, { [CONNECTION_STRING_SETTING]: '  ' }]) {
      const load = jest.fn(() => fakeDistro());
      const warn = jest.fn();
      expect(startAzureMonitor(env, { load, warn })).toEqual({ kind: 'Off' });
      expect(load).not.toHaveBeenCalled();
      expect(warn).not.toHaveBeenCalled();
    }
  });

  it('refuses a malformed connection string with a warning naming the setting, never its value', () => {
    for (const value of [
      'InstrumentationKey=not-a-guid;IngestionEndpoint=https://example.invalid/',
      `InstrumentationKey=${KEY};`,
      `IngestionEndpoint=https://example.invalid/`,
      'sk-live-secret-value',
    ]) {
      const load = jest.fn(() => fakeDistro());
      const warn = jest.fn();
      expect(startAzureMonitor({ [CONNECTION_STRING_SETTING]: value }, { load, warn })).toMatchObject({ kind: 'Failed' });
      expect(load).not.toHaveBeenCalled();
      expect(warn).toHaveBeenCalledTimes(1);
      const message = String(warn.mock.calls[0]?.[0]);
      expect(message).toContain(`${CONNECTION_STRING_SETTING}: must be an Application Insights connection string`);
      expect(message).not.toContain(value);
    }
  });

  it('goes on with a warning, without the instrumentation key, when the distro cannot load or start', () => {
    const connectionString = `InstrumentationKey=${KEY};IngestionEndpoint=https://example.invalid/`;
    const missing = jest.fn();
    const notLoaded = () => {
      throw new Error("Cannot find module '@azure/monitor-opentelemetry'");
    };
    expect(startAzureMonitor({ [CONNECTION_STRING_SETTING]: connectionString }, { load: notLoaded, warn: missing })).toMatchObject({ kind: 'Failed' });
    expect(String(missing.mock.calls[0]?.[0])).toContain("Cannot find module '@azure/monitor-opentelemetry'");

    const refused = jest.fn();
    const onShutdown = jest.fn();
    const failing = fakeDistro({
      useAzureMonitor: () => {
        throw new Error(`exporter refused ${connectionString} (key ${KEY})`);
      },
    });
    expect(startAzureMonitor({ [CONNECTION_STRING_SETTING]: connectionString }, { load: () => failing, warn: refused, onShutdown })).toMatchObject({ kind: 'Failed' });
    const message = String(refused.mock.calls[0]?.[0]);
    expect(message).toContain('Application Insights metrics are not exported');
    expect(message).toContain('exporter refused <redacted> (key <redacted>)');
    expect(message).not.toContain(KEY);
    expect(onShutdown).not.toHaveBeenCalled();
  });

  it('asks the distro for metrics only, and registers its shutdown for a graceful stop', async () => {
    const connectionString = `InstrumentationKey=${KEY};IngestionEndpoint=https://example.invalid/`;
    const shutdown = jest.fn(async () => undefined);
    const fake = fakeDistro({ shutdownAzureMonitor: shutdown });
    const onShutdown = jest.fn();
    expect(startAzureMonitor({ [CONNECTION_STRING_SETTING]: connectionString }, { load: () => fake, warn: jest.fn(), onShutdown })).toMatchObject({ kind: 'Started' });
    expect(fake.options).toEqual([
      expect.objectContaining({ azureMonitorExporterOptions: { connectionString }, enableLiveMetrics: false, enableStandardMetrics: false, enablePerformanceCounters: false }),
    ]);
    const instrumentations = (fake.options[0] as distro.AzureMonitorOpenTelemetryOptions).instrumentationOptions ?? {};
    expect(Object.keys(instrumentations)).toEqual(expect.arrayContaining(['http', 'azureSdk']));
    expect(Object.values(instrumentations).filter((i) => i?.enabled !== false)).toEqual([]);
    expect(onShutdown).toHaveBeenCalledTimes(1);
    await (onShutdown.mock.calls[0]?.[0] as () => Promise<void>)();
    expect(shutdown).toHaveBeenCalledTimes(1);
  });
});

type Envelope = {
  name: string;
  iKey: string;
  data: { baseType: string; baseData: { metrics?: { name: string; value: number; count?: number }[]; properties?: Record<string, string> } };
};

/** Plays the Application Insights ingestion endpoint on 127.0.0.1 over https (the exporter sends only https). */
const startIngestion = async (tls: { cert: string; key: string }) => {
  const paths: string[] = [];
  const envelopes: Envelope[] = [];
  const waiters: { name: string; resolve: (e: Envelope) => void }[] = [];
  const server = https.createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      paths.push(req.url ?? '');
      const batch = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope[];
      envelopes.push(...batch);
      for (const envelope of batch) {
        for (const waiter of waiters.filter((w) => envelope.data.baseData.metrics?.some((m) => m.name === w.name))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(envelope);
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ itemsReceived: batch.length, itemsAccepted: batch.length, errors: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    paths,
    envelopes,
    /** The first envelope carrying the metric, received from now on. */
    next: (name: string) => new Promise<Envelope>((resolve) => waiters.push({ name, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

describe('metrics reach Application Insights (a loopback ingestion endpoint)', () => {
  const tls = selfSignedLoopbackCert();
  const saved = { ...process.env };
  let ingestion: Awaited<ReturnType<typeof startIngestion>>;
  let shutdown: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ingestion = await startIngestion(tls);
    // The SDK's own health reports (statsbeat) go to Microsoft's endpoints: off in a test.
    process.env.APPLICATION_INSIGHTS_NO_STATSBEAT = 'true';
    process.env.OTEL_METRIC_EXPORT_INTERVAL = '200';
  });
  afterAll(async () => {
    await shutdown?.();
    metrics.disable();
    await ingestion.close();
    process.env = saved;
  });

  /** The real distro, trusting only the test's certificate and keeping nothing on disk. */
  const trustingTestCert: Distro = {
    useAzureMonitor: (options) =>
      distro.useAzureMonitor({ ...options, azureMonitorExporterOptions: { ...options?.azureMonitorExporterOptions, tlsOptions: { ca: tls.cert }, disableOfflineStorage: true } }),
    shutdownAzureMonitor: distro.shutdownAzureMonitor,
  };

  it('exports dispatcher.events.accepted on the export interval, and the rest at shutdown, each count once', async () => {
    const iKey = randomUUID();
    const connectionString = `InstrumentationKey=${iKey};IngestionEndpoint=${ingestion.endpoint};LiveEndpoint=${ingestion.endpoint}`;
    const warn = jest.fn();
    const started = startAzureMonitor({ [CONNECTION_STRING_SETTING]: connectionString }, { load: () => trustingTestCert, warn, onShutdown: (flush) => (shutdown = flush) });
    expect(started.kind).toBe('Started');
    expect(warn).not.toHaveBeenCalled();

    const firstExport = ingestion.next(METRICS.acceptedEvents);
    recordAcceptedEvent({ id: 'evt-1', name: 'ping:all', repeated: false });
    recordAcceptedEvent({ id: 'evt-2', name: 'ping:all', repeated: false });
    // Arrives on the export interval, while the process runs.
    const first = await firstExport;
    expect(first).toMatchObject({
      name: 'Microsoft.ApplicationInsights.Metric',
      iKey,
      data: { baseType: 'MetricData', baseData: { metrics: [{ name: METRICS.acceptedEvents, value: 2 }], properties: { event: 'ping:all', repeated: 'false' } } },
    });

    // Recorded after the last export: sent by the shutdown the appTerminate hook runs.
    recordAcceptedEvent({ id: 'evt-1', name: 'ping:all', repeated: true });
    await shutdown?.();
    shutdown = undefined;

    const totals: Record<string, number> = {};
    for (const envelope of ingestion.envelopes.filter((e) => e.iKey === iKey)) {
      for (const metric of envelope.data.baseData.metrics ?? []) {
        if (metric.name !== METRICS.acceptedEvents) continue;
        const dims = envelope.data.baseData.properties ?? {};
        const key = `${dims.event} repeated=${dims.repeated}`;
        totals[key] = (totals[key] ?? 0) + metric.value;
      }
    }
    // Delta temporality: a later export does not repeat an earlier count.
    expect(totals).toEqual({ 'ping:all repeated=false': 2, 'ping:all repeated=true': 1 });
    // Everything the endpoint received is one of our metrics, posted to the track route. (What the
    // options switch off is checked above: in a run this short, those features would send nothing.)
    expect(new Set(ingestion.paths)).toEqual(new Set(['/v2.1/track']));
    expect(new Set(ingestion.envelopes.map((e) => e.name))).toEqual(new Set(['Microsoft.ApplicationInsights.Metric']));
    const names = ingestion.envelopes.flatMap((e) => (e.data.baseData.metrics ?? []).map((m) => m.name));
    expect(names.filter((name) => !(Object.values(METRICS) as string[]).includes(name))).toEqual([]);
  });
});
