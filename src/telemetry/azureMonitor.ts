import type { AzureMonitorOpenTelemetryOptions, shutdownAzureMonitor, useAzureMonitor } from '@azure/monitor-opentelemetry';
import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { formatValidationErrors } from '../domain/decodeErrors';
import { refinedString } from '../domain/strings';

/*
 * Sends the OpenTelemetry metrics of telemetry.ts to Application Insights (the customMetrics table)
 * through the Azure Monitor OpenTelemetry distro, when APPLICATIONINSIGHTS_CONNECTION_STRING is set
 * (infra/main.bicep sets it). Without it nothing is loaded: local runs and tests never pay for it.
 *
 * The setting is decoded here rather than in src/config.ts: it belongs to the platform (the Functions
 * host reads it for its own request and trace logs, infra/__tests__ lists it as such), and a bad or
 * missing one must not stop the app, only the export.
 */

export const CONNECTION_STRING_SETTING = 'APPLICATIONINSIGHTS_CONNECTION_STRING';

/** Lower case, as the portal gives it and as the distro checks it. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `key=value` pairs separated by `;`, parsed as the distro does: it discards the whole string when one part is not (a trailing `;` too). */
const pairsOf = (s: string): [string, string][] | undefined => {
  const pairs = s.split(';').map((part) => part.split('='));
  return pairs.every((pair) => pair.length === 2) ? (pairs as [string, string][]) : undefined;
};

const instrumentationKeyOf = (s: string): string | undefined => pairsOf(s)?.find(([key]) => key.toLowerCase() === 'instrumentationkey')?.[1];

export const ConnectionString = refinedString<'ConnectionString'>('an Application Insights connection string (InstrumentationKey=<GUID>;IngestionEndpoint=https://...)', (s) =>
  GUID.test(instrumentationKeyOf(s) ?? ''),
);
export type ConnectionString = t.TypeOf<typeof ConnectionString>;

const Settings = t.partial({ [CONNECTION_STRING_SETTING]: ConnectionString });

/**
 * Only our metrics. The distro's defaults would also trace every HTTP call and Azure SDK call (each
 * table and queue operation a dependency record, billed per GB ingested, while the Functions host
 * already logs every invocation), poll Live Metrics every few seconds, and send process performance
 * counters and span-derived standard metrics every minute. The export interval is the distro's:
 * OTEL_METRIC_EXPORT_INTERVAL in milliseconds, 60000 by default.
 */
export const azureMonitorOptions = (connectionString: ConnectionString): AzureMonitorOpenTelemetryOptions => ({
  azureMonitorExporterOptions: { connectionString },
  enableLiveMetrics: false,
  enableStandardMetrics: false,
  enablePerformanceCounters: false,
  instrumentationOptions: {
    http: { enabled: false },
    azureSdk: { enabled: false },
    mongoDb: { enabled: false },
    mySql: { enabled: false },
    postgreSql: { enabled: false },
    redis: { enabled: false },
    redis4: { enabled: false },
    bunyan: { enabled: false },
    winston: { enabled: false },
  },
});

export type Distro = { readonly useAzureMonitor: typeof useAzureMonitor; readonly shutdownAzureMonitor: typeof shutdownAzureMonitor };

export type AzureMonitorDeps = {
  /** Loads the distro; only called when the setting is set (loading it takes about half a second). */
  readonly load: () => Distro;
  readonly warn: (message: string) => void;
  /** Registers a flush for a graceful stop (the Functions appTerminate hook), so the last interval is sent. */
  readonly onShutdown: (shutdown: () => Promise<void>) => void;
};

export type AzureMonitorStart = { readonly kind: 'Off' } | { readonly kind: 'Started'; readonly shutdown: () => Promise<void> } | { readonly kind: 'Failed'; readonly problem: string };

const defaultDeps: AzureMonitorDeps = {
  load: () => require('@azure/monitor-opentelemetry') as Distro,
  warn: (message) => console.warn(message),
  onShutdown: () => undefined,
};

/** The instrumentation key never appears in a message, nor the whole connection string. */
const redact = (message: string, connectionString: string): string => {
  const key = instrumentationKeyOf(connectionString);
  return [connectionString, ...(key === undefined || key === '' ? [] : [key])].reduce((text, secret) => text.split(secret).join('<redacted>'), message);
};

const failed = (warn: (message: string) => void, problem: string): AzureMonitorStart => {
  warn(`Application Insights metrics are not exported: ${problem}. The app runs without them.`);
  return { kind: 'Failed', problem };
};

/**
 * Registers the distro's meter provider when the setting is set; call once per process, before
 * functions run. Never throws: a failure is a warning, and the app goes on without the export.
 */
export const startAzureMonitor = (env: NodeJS.ProcessEnv, overrides: Partial<AzureMonitorDeps> = {}): AzureMonitorStart => {
  const deps = { ...defaultDeps, ...overrides };
  const raw = env[CONNECTION_STRING_SETTING];
  const decoded = Settings.decode({ [CONNECTION_STRING_SETTING]: raw === undefined || raw.trim() === '' ? undefined : raw.trim() });
  if (E.isLeft(decoded)) return failed(deps.warn, formatValidationErrors(decoded.left).join('; '));
  const connectionString = decoded.right[CONNECTION_STRING_SETTING];
  if (connectionString === undefined) return { kind: 'Off' };
  try {
    const distro = deps.load();
    distro.useAzureMonitor(azureMonitorOptions(connectionString));
    const shutdown = () => distro.shutdownAzureMonitor();
    deps.onShutdown(shutdown);
    return { kind: 'Started', shutdown };
  } catch (error) {
    return failed(deps.warn, `the Azure Monitor exporter did not start (${redact(error instanceof Error ? error.message : String(error), connectionString)})`);
  }
};
