import type { HealthProbe } from '../../ports/healthProbe';
import { blobServiceClientFor, queueServiceClientFor, type StorageConnection, tableServiceClientFor } from '../storageConnection';
import { STORAGE_CLIENT_OPTIONS } from './storageErrors';

/** A probe gives up after this long, so that /api/health answers even when storage hangs. */
export const HEALTH_PROBE_TIMEOUT_MS = 5_000;

/** One cheap read per storage service: list at most one table, one queue, one container (large payloads). */
export const storageHealthProbes = (connectionString: StorageConnection): HealthProbe[] => {
  const tables = tableServiceClientFor(connectionString, STORAGE_CLIENT_OPTIONS);
  const queues = queueServiceClientFor(connectionString, STORAGE_CLIENT_OPTIONS);
  const blobs = blobServiceClientFor(connectionString, { retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1000 } });
  return [
    {
      name: 'tables',
      check: async () => {
        await tables
          .listTables({ abortSignal: AbortSignal.timeout(HEALTH_PROBE_TIMEOUT_MS) })
          .byPage({ maxPageSize: 1 })
          .next();
      },
    },
    {
      name: 'queues',
      check: async () => {
        await queues
          .listQueues({ abortSignal: AbortSignal.timeout(HEALTH_PROBE_TIMEOUT_MS) })
          .byPage({ maxPageSize: 1 })
          .next();
      },
    },
    {
      name: 'blobs',
      check: async () => {
        await blobs
          .listContainers({ abortSignal: AbortSignal.timeout(HEALTH_PROBE_TIMEOUT_MS) })
          .byPage({ maxPageSize: 1 })
          .next();
      },
    },
  ];
};
