import { TableClient } from '@azure/data-tables';
import { asciiRequestBodies } from './asciiRequestBodies';
import { STORAGE_CLIENT_OPTIONS } from './storageErrors';
import { onceUntilFailure } from '../onceUntilFailure';
import { tableDeadline } from '../storageDeadline';
import { type StorageConnection, tableClientFor } from '../storageConnection';

/** A table client that creates its table on first use (once per process, again after a failure). */
export type EnsuredTable = { readonly client: TableClient; ready(): Promise<TableClient> };

export { isPlainHttp } from '../storageConnection';

/**
 * `timeoutMs` (STORAGE_TIMEOUT_MS) bounds each call, the SDK's retries included; `connectionString` may
 * also be an identity-based connection (AzureWebJobsStorage__accountName).
 */
export const ensuredTable = (options: { connectionString: StorageConnection; tableName: string; timeoutMs?: number }): EnsuredTable => {
  const client = tableClientFor(options.connectionString, options.tableName, {
    ...STORAGE_CLIENT_OPTIONS,
    additionalPolicies: [asciiRequestBodies, ...(options.timeoutMs === undefined ? [] : [tableDeadline(options.timeoutMs)])],
  });
  // createTable answers success when the table already exists.
  return {
    client,
    ready: onceUntilFailure(async () => {
      await client.createTable();
      return client;
    }),
  };
};

/** Collects up to `max` entities of a query, across the pages the service returns. */
export const queryUpTo = async <T extends object>(client: TableClient, options: { filter: string; max: number }): Promise<T[]> => {
  const found: T[] = [];
  const pages = client.listEntities<T>({ queryOptions: { filter: options.filter } }).byPage({ maxPageSize: Math.min(options.max, 1000) });
  for await (const page of pages) {
    found.push(...page);
    if (found.length >= options.max) break;
  }
  return found.slice(0, options.max);
};
