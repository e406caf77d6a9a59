import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import * as E from 'fp-ts/Either';
import * as TE from 'fp-ts/TaskEither';
import type { AttemptLog, AttemptLogEntry } from '../../ports/attemptLog';
import { METRICS, observedAttemptLog, recordAcceptedEvent, recordDeliveryAttempt, recordFanOutPage } from '../telemetry';

const entry = (over: Partial<AttemptLogEntry>): AttemptLogEntry => ({
  eventId: 'evt-1',
  deliveryId: 'msg_0123456789abcdef0123456789abcdef',
  webhookId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C2',
  attempt: 1,
  at: '2026-11-23T10:00:00.000Z',
  decision: 'Delivered',
  result: { kind: 'Response', status: 200, latencyMs: 12, excerpt: '', bodyRead: 'Complete' },
  ...over,
});

describe('telemetry', () => {
  let exporter: InMemoryMetricExporter;
  let reader: PeriodicExportingMetricReader;
  let provider: MeterProvider;
  beforeEach(() => {
    exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
  });
  afterEach(async () => {
    await provider.shutdown();
    metrics.disable();
  });

  const collected = async (): Promise<Map<string, { value: unknown; attributes: Record<string, unknown> }[]>> => {
    await reader.forceFlush();
    const result = new Map<string, { value: unknown; attributes: Record<string, unknown> }[]>();
    for (const rm of exporter.getMetrics() as ResourceMetrics[]) {
      for (const scope of rm.scopeMetrics) {
        for (const metric of scope.metrics) {
          result.set(
            metric.descriptor.name,
            metric.dataPoints.map((p) => ({ value: p.value, attributes: p.attributes as Record<string, unknown> })),
          );
        }
      }
    }
    return result;
  };

  it('carries the event, delivery and webhook ids in every delivery trace line', () => {
    const line = recordDeliveryAttempt(
      entry({ decision: 'RetryLater', attempt: 2, result: { kind: 'NetworkError', error: 'Timeout', message: 'timed out', latencyMs: 1000 }, nextAttemptAt: '2026-11-23T10:05:00.000Z' }),
    );
    expect(line.startsWith('delivery.attempt ')).toBe(true);
    expect(JSON.parse(line.slice('delivery.attempt '.length))).toEqual({
      eventId: 'evt-1',
      deliveryId: 'msg_0123456789abcdef0123456789abcdef',
      webhookId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C2',
      attempt: 2,
      outcome: 'RetryLater',
      error: 'Timeout',
      latencyMs: 1000,
      nextAttemptAt: '2026-11-23T10:05:00.000Z',
    });
    expect(recordAcceptedEvent({ id: 'evt-9', name: 'ping:all', repeated: false })).toContain('"eventId":"evt-9"');
    expect(recordFanOutPage({ eventId: 'evt-9', planIndex: 0, deliveries: 3, messages: 1, more: false })).toContain('"eventId":"evt-9"');
  });

  it('counts accepted events, fanned-out deliveries, attempts by outcome and attempt number, and the retry depth', async () => {
    recordAcceptedEvent({ id: 'a', name: 'ping', repeated: false });
    recordAcceptedEvent({ id: 'a', name: 'ping', repeated: true });
    recordFanOutPage({ eventId: 'a', planIndex: 0, deliveries: 7, messages: 1, more: false });
    recordDeliveryAttempt(entry({ decision: 'RetryLater', attempt: 1 }));
    recordDeliveryAttempt(entry({ decision: 'Delivered', attempt: 2 }));
    recordDeliveryAttempt(entry({ decision: 'SkippedDisabledWebhook', attempt: 0, result: undefined }));
    const found = await collected();
    expect(found.get(METRICS.acceptedEvents)).toEqual(
      expect.arrayContaining([
        { value: 1, attributes: { event: 'ping', repeated: false } },
        { value: 1, attributes: { event: 'ping', repeated: true } },
      ]),
    );
    expect(found.get(METRICS.fannedOutDeliveries)?.[0]?.value).toBe(7);
    expect(found.get(METRICS.deliveryAttempts)).toEqual(
      expect.arrayContaining([
        { value: 1, attributes: { outcome: 'RetryLater', attempt: 1 } },
        { value: 1, attributes: { outcome: 'Delivered', attempt: 2 } },
        { value: 1, attributes: { outcome: 'SkippedDisabledWebhook', attempt: 0 } },
      ]),
    );
    const depth = found.get(METRICS.deliveryDepth);
    expect(depth).toHaveLength(1);
    expect(depth?.[0]?.attributes).toEqual({ outcome: 'Delivered' });
    expect((depth?.[0]?.value as { sum: number; count: number }).sum).toBe(2);
  });

  it('reports every entry given to the attempt log, even when storage refuses it', async () => {
    const seen: AttemptLogEntry[] = [];
    const failing: AttemptLog = {
      record: () => TE.left({ kind: 'Transient', message: 'storage down' }),
      forEvent: () => TE.right([]),
      problemsForWebhook: () => TE.right([]),
      problemsBetween: () => TE.right({ items: [] }),
      removeForEvent: () => TE.right(0),
    };
    const result = await observedAttemptLog(failing, (e) => seen.push(e)).record([entry({}), entry({ attempt: 2 })])();
    expect(E.isLeft(result)).toBe(true);
    expect(seen.map((e) => e.attempt)).toEqual([1, 2]);
  });
});
