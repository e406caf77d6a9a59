import { TableClient } from '@azure/data-tables';
import { asciiRequestBodies } from './asciiRequestBodies';
import { STORAGE_CLIENT_OPTIONS } from './storageErrors';
import { onceUntilFailure } from '../onceUntilFailure';
import { tableDeadline } from '../storageDeadline';

/** A table client that creates its table on first use (once per process, again after a failure). */
export type EnsuredTable = { readonly client: TableClient; ready(): Promise<TableClient> };

/** Plain http is allowed only where the connection string asks for it (Azurite). */
export const isPlainHttp = (connectionString: string, endpoint: 'Table' | 'Queue'): boolean => {
  const explicit = new RegExp(`(?:^|;)\\s*${endpoint}Endpoint=([^;]*)`, 'i').exec(connectionString)?.[1];
  return explicit !== undefined ? /^http:/i.test(explicit.trim()) : /(?:^|;)\s*DefaultEndpointsProtocol=http\s*(?:;|$)/i.test(connectionString);
};

/** `timeoutMs` (STORAGE_TIMEOUT_MS) bounds each call, the SDK's retries included. */
export const ensuredTable = (options: { connectionString: string; tableName: string; timeoutMs?: number }): EnsuredTable => {
  const client = TableClient.fromConnectionString(options.connectionString, options.tableName, {
    ...STORAGE_CLIENT_OPTIONS,
    allowInsecureConnection: isPlainHttp(options.connectionString, 'Table'),
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
