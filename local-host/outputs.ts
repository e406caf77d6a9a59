import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { connectionStringFor, DEFAULT_PORTS } from './azurite';
import type { HostContext } from './core/component';
import type { OutputHandler } from './core/invoke';
import { AppLoadError } from './core/loadApp';
import type { TypedData } from './core/types';

/** A binding the host cannot serve as configured: start fails with this message (the CLI prints it alone). */
export class BindingConfigError extends AppLoadError {}

export type QueueMessageEncoding = 'base64' | 'none';

const DEFAULT_CONNECTION_SETTING = 'AzureWebJobsStorage';
const DEVELOPMENT_STORAGE = 'UseDevelopmentStorage=true';
// Azure's rule: 3-63 characters, lower-case letters, digits and single dashes, not at either end.
const QUEUE_NAME = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;

/** Resolves `%Setting%` binding expressions from the app settings, as the Azure host does for names and schedules. */
export const resolveSettingExpressions = (value: string, where: string): string =>
  value.replace(/%([^%]+)%/g, (_, name: string) => {
    const setting = process.env[name];
    if (setting === undefined || setting === '') throw new BindingConfigError(`${where}: the app setting "${name}" (used as %${name}%) is not set`);
    return setting;
  });

/** The queue a binding names: settings resolved, lower-cased and validated as the queues extension does. */
export const resolveQueueName = (raw: unknown, where: string): string => {
  if (typeof raw !== 'string' || raw.trim() === '') throw new BindingConfigError(`${where}: the binding has no queueName`);
  const name = resolveSettingExpressions(raw.trim(), where).toLowerCase();
  if (!QUEUE_NAME.test(name)) {
    throw new BindingConfigError(`${where}: "${name}" is not a valid queue name (3-63 characters: lower-case letters, digits, single dashes inside)`);
  }
  return name;
};

/**
 * The connection string a binding's `connection` setting names (default AzureWebJobsStorage). Like
 * the Azure host, a name `X` is also looked up as `AzureWebJobsX`.
 */
export const resolveStorageConnection = (ctx: HostContext, connection: unknown, where: string): string => {
  const name = typeof connection === 'string' && connection.trim() !== '' ? connection.trim() : DEFAULT_CONNECTION_SETTING;
  if (name === DEFAULT_CONNECTION_SETTING) return ctx.storageConnectionString;
  const value = process.env[name] ?? process.env[`AzureWebJobs${name}`];
  if (value === undefined || value.trim() === '') {
    throw new BindingConfigError(`${where}: the connection setting "${name}" is not set (nor "AzureWebJobs${name}")`);
  }
  if (value.trim() !== DEVELOPMENT_STORAGE) return value;
  // The host resolved AzureWebJobsStorage to the emulator it uses; otherwise the emulator is on its usual ports.
  return process.env[DEFAULT_CONNECTION_SETTING]?.trim() === DEVELOPMENT_STORAGE ? ctx.storageConnectionString : connectionStringFor(DEFAULT_PORTS);
};

export const encodeMessage = (body: Buffer, encoding: QueueMessageEncoding): string => (encoding === 'base64' ? body.toString('base64') : body.toString('utf8'));

// .NET's Convert.FromBase64String skips white space and demands whole 4-character groups.
const BASE64_WHITESPACE = /[ \t\r\n]/g;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The message body, or undefined when the text is not valid base64 and the encoding says it must be. */
export const decodeMessage = (text: string, encoding: QueueMessageEncoding): Buffer | undefined => {
  if (encoding === 'none') return Buffer.from(text, 'utf8');
  const compact = text.replace(BASE64_WHITESPACE, '');
  return STRICT_BASE64.test(compact) ? Buffer.from(compact, 'base64') : undefined;
};

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/**
 * The messages an output value stands for: an array (it comes back as `{json: '[...]'}`) is one
 * message per element; strings go as they are, anything else as JSON.
 */
export const outputMessages = (data: TypedData): Buffer[] => {
  if (data.string != null) return [utf8(data.string)];
  if (data.bytes != null) return [Buffer.from(data.bytes)];
  if (data.int != null) return [utf8(String(data.int))];
  if (data.double != null) return [utf8(String(data.double))];
  if (data.json != null) {
    const value: unknown = JSON.parse(data.json);
    if (!Array.isArray(value)) return [utf8(data.json)];
    return value.map((element: unknown) => utf8(typeof element === 'string' ? element : JSON.stringify(element)));
  }
  return [];
};

/** Queue clients per (connection, queue); each queue is created once, on first use. */
export type QueueClients = {
  get(connectionString: string, queueName: string): Promise<QueueClient>;
};

export const createQueueClients = (): QueueClients => {
  const services = new Map<string, QueueServiceClient>();
  const ready = new Map<string, Promise<QueueClient>>();
  return {
    get: (connectionString, queueName) => {
      const key = `${queueName}\n${connectionString}`;
      const existing = ready.get(key);
      if (existing !== undefined) return existing;
      let service = services.get(connectionString);
      if (service === undefined) {
        // Few, short SDK retries: the host's own polling retries, and an outage must not stall start-up.
        service = QueueServiceClient.fromConnectionString(connectionString, { retryOptions: { maxTries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000 } });
        services.set(connectionString, service);
      }
      const client = service.getQueueClient(queueName);
      const created = client.createIfNotExists().then(() => client);
      // A failed creation is retried on the next use instead of being cached.
      created.catch(() => ready.delete(key));
      ready.set(key, created);
      return created;
    },
  };
};

/**
 * The `queue` output binding: after a successful invocation, each message is enqueued (the queue is
 * created if missing) in the host's message encoding. `onEnqueued` lets a trigger on the same queue
 * in this host poll at once, as the Azure host's shared queue watcher does.
 */
export const createQueueOutputHandler =
  (options: { ctx: HostContext; clients: QueueClients; encoding: QueueMessageEncoding; onEnqueued: (queueName: string) => void }): OutputHandler =>
  async ({ binding, data, fn }) => {
    const where = `Function "${fn.metadata.name}", queue output`;
    const queueName = resolveQueueName(binding.queueName, where);
    const queue = await options.clients.get(resolveStorageConnection(options.ctx, binding.connection, where), queueName);
    // One by one, so the messages enter the queue in the order the function gave them.
    for (const body of outputMessages(data)) await queue.sendMessage(encodeMessage(body, options.encoding));
    options.onEnqueued(queueName);
  };
