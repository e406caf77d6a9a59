import { TableClient, TableServiceClient, type TableServiceClientOptions } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient, type StoragePipelineOptions as BlobPipelineOptions } from '@azure/storage-blob';
import { QueueClient, QueueServiceClient, type StoragePipelineOptions } from '@azure/storage-queue';

/*
 * The storage account as the app settings name it, the way the Functions host reads them: a
 * connection string (local runs, Azurite), or an identity-based connection (`AzureWebJobsStorage__accountName`,
 * optional `__credential: managedidentity` and `__clientId`), which Azure recommends for Flex
 * Consumption: no account key anywhere, access by the app's managed identity and its storage roles.
 */

/** An identity-based account (config.ts decodes it from `AzureWebJobsStorage__*`). */
export type IdentityStorage = { readonly accountName: string; readonly credential?: 'managedidentity'; readonly clientId?: string };
/** A connection string, or an identity-based account. */
export type StorageConnection = string | IdentityStorage;

/** Plain http is allowed only where the connection string asks for it (Azurite). */
export const isPlainHttp = (connectionString: string, endpoint: 'Table' | 'Queue' | 'Blob'): boolean => {
  const explicit = new RegExp(`(?:^|;)\\s*${endpoint}Endpoint=([^;]*)`, 'i').exec(connectionString)?.[1];
  return explicit !== undefined ? /^http:/i.test(explicit.trim()) : /(?:^|;)\s*DefaultEndpointsProtocol=http\s*(?:;|$)/i.test(connectionString);
};

const credentials = new Map<string, TokenCredential>();

/** One credential per identity and process (they cache their tokens). `managedidentity` as the host means it; otherwise the default chain. */
export const credentialFor = (identity: IdentityStorage): TokenCredential => {
  const key = `${identity.credential ?? ''}|${identity.clientId ?? ''}`;
  let credential = credentials.get(key);
  if (credential === undefined) {
    credential =
      identity.credential === 'managedidentity'
        ? new ManagedIdentityCredential(identity.clientId === undefined ? {} : { clientId: identity.clientId })
        : new DefaultAzureCredential(identity.clientId === undefined ? {} : { managedIdentityClientId: identity.clientId });
    credentials.set(key, credential);
  }
  return credential;
};

/** The public-cloud endpoint of a service of the account. */
export const serviceUrl = (accountName: string, service: 'table' | 'queue' | 'blob'): string => `https://${accountName}.${service}.core.windows.net`;

export const tableClientFor = (connection: StorageConnection, tableName: string, options: TableServiceClientOptions = {}): TableClient =>
  typeof connection === 'string'
    ? TableClient.fromConnectionString(connection, tableName, { ...options, allowInsecureConnection: isPlainHttp(connection, 'Table') })
    : new TableClient(serviceUrl(connection.accountName, 'table'), tableName, credentialFor(connection), options);

export const tableServiceClientFor = (connection: StorageConnection, options: TableServiceClientOptions = {}): TableServiceClient =>
  typeof connection === 'string'
    ? TableServiceClient.fromConnectionString(connection, { ...options, allowInsecureConnection: isPlainHttp(connection, 'Table') })
    : new TableServiceClient(serviceUrl(connection.accountName, 'table'), credentialFor(connection), options);

export const queueClientFor = (connection: StorageConnection, queueName: string, options: StoragePipelineOptions = {}): QueueClient =>
  typeof connection === 'string' ? new QueueClient(connection, queueName, options) : new QueueClient(`${serviceUrl(connection.accountName, 'queue')}/${queueName}`, credentialFor(connection), options);

export const queueServiceClientFor = (connection: StorageConnection, options: StoragePipelineOptions = {}): QueueServiceClient =>
  typeof connection === 'string'
    ? QueueServiceClient.fromConnectionString(connection, options)
    : new QueueServiceClient(serviceUrl(connection.accountName, 'queue'), credentialFor(connection), options);

/** Large event payloads (the claim check): the same account, its blob service. */
export const blobServiceClientFor = (connection: StorageConnection, options: BlobPipelineOptions = {}): BlobServiceClient =>
  typeof connection === 'string' ? BlobServiceClient.fromConnectionString(connection, options) : new BlobServiceClient(serviceUrl(connection.accountName, 'blob'), credentialFor(connection), options);
