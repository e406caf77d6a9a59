import { metrics } from '@opentelemetry/api';
import * as TE from 'fp-ts/TaskEither';
import { pipe } from 'fp-ts/function';
import type { AttemptLog, AttemptLogEntry } from '../ports/attemptLog';
import { redactFiscalCodes } from '../domain/privacy';

/*
 * Telemetry in the forms the platforms collect: log lines (Application Insights traces, via
 * context.log) that carry the event, delivery and webhook ids as JSON, so one event can be followed
 * from ingest to every delivery (`traces | where message has "<event id>"`), and OpenTelemetry
 * counters through @opentelemetry/api, which record nothing until an SDK (the Azure Monitor
 * OpenTelemetry distro, or any OTLP exporter) registers a meter provider.
 */

export const METER_NAME = 'webhook-dispatcher';

export const METRICS = {
  acceptedEvents: 'dispatcher.events.accepted',
  fannedOutDeliveries: 'dispatcher.fanout.deliveries',
  deliveryAttempts: 'dispatcher.delivery.attempts',
  /** The attempt number at which deliveries ended (delivered, poisoned, gone): the retry depth. */
  deliveryDepth: 'dispatcher.delivery.depth',
  deliveryLatency: 'dispatcher.delivery.latency',
} as const;

/** The meter is looked up on every use: a provider registered after this module loaded still counts. */
const meter = () => metrics.getMeter(METER_NAME);

/** `name {"eventId":...}`: a stable prefix to filter on, and fields a query can parse. */
// Fiscal codes are scrubbed here, whatever a field holds (docs/privacy.md: none may reach a log).
export const traceLine = (name: string, fields: Readonly<Record<string, unknown>>): string => redactFiscalCodes(`${name} ${JSON.stringify(fields)}`);

export const recordAcceptedEvent = (event: { id: string; name: string; repeated: boolean }): string => {
  meter().createCounter(METRICS.acceptedEvents, { description: 'Events accepted by ingest (202)' }).add(1, { event: event.name, repeated: event.repeated });
  return traceLine('event.accepted', { eventId: event.id, event: event.name, repeated: event.repeated });
};

export const recordFanOutPage = (page: { eventId: string; planIndex: number; deliveries: number; messages: number; more: boolean }): string => {
  meter().createCounter(METRICS.fannedOutDeliveries, { description: 'Deliveries enqueued by the fan-out' }).add(page.deliveries);
  return traceLine('fanout.page', page);
};

const FINAL: ReadonlySet<AttemptLogEntry['decision']> = new Set(['Delivered', 'Poisoned', 'WebhookDisabledByGone']);

export const recordDeliveryAttempt = (entry: AttemptLogEntry): string => {
  const attributes = { outcome: entry.decision, attempt: entry.attempt };
  meter().createCounter(METRICS.deliveryAttempts, { description: 'Delivery attempts by outcome and attempt number' }).add(1, attributes);
  if (FINAL.has(entry.decision)) {
    meter().createHistogram(METRICS.deliveryDepth, { description: 'Attempt number at which a delivery ended' }).record(entry.attempt, { outcome: entry.decision });
  }
  if (entry.result !== undefined) {
    meter().createHistogram(METRICS.deliveryLatency, { description: 'Receiver latency per attempt', unit: 'ms' }).record(entry.result.latencyMs, { outcome: entry.decision });
  }
  const result =
    entry.result === undefined
      ? {}
      : entry.result.kind === 'Response'
        ? { status: entry.result.status, latencyMs: entry.result.latencyMs }
        : { error: entry.result.error, latencyMs: entry.result.latencyMs };
  return traceLine('delivery.attempt', {
    eventId: entry.eventId,
    deliveryId: entry.deliveryId,
    webhookId: entry.webhookId,
    attempt: entry.attempt,
    outcome: entry.decision,
    ...result,
    ...(entry.nextAttemptAt ? { nextAttemptAt: entry.nextAttemptAt } : {}),
  });
};

/** The attempt log, reporting every entry it is given (whether or not storage takes it). */
export const observedAttemptLog = (log: AttemptLog, observe: (entry: AttemptLogEntry) => void): AttemptLog => ({
  ...log,
  record: (entries) =>
    pipe(
      TE.fromIO(() => entries.forEach(observe)),
      TE.chain(() => log.record(entries)),
    ),
});
