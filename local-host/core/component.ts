import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Invoker } from './invoke';
import type { Logger } from './logger';

/** host.json, as far as the local host reads it. */
export type HostJson = {
  extensions?: {
    queues?: {
      batchSize?: number;
      newBatchThreshold?: number;
      maxPollingInterval?: string;
      visibilityTimeout?: string;
      maxDequeueCount?: number;
      messageEncoding?: 'base64' | 'none';
    };
    durableTask?: { hubName?: string };
    http?: { routePrefix?: string };
  };
};

/** Serves requests under a path prefix that is not a function route (for example the durable client API). */
export type RawHttpHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void>;

/** Undefined when the request may go on; otherwise the message of its 401. */
export type RawHttpAuthorize = (req: IncomingMessage, url: URL) => string | undefined;

export type HostContext = {
  readonly invoker: Invoker;
  readonly hostJson: HostJson;
  /** Connection string of the storage account (`AzureWebJobsStorage`, resolved). */
  readonly storageConnectionString: string;
  readonly log: Logger;
  /** Base URL at which this host's HTTP server answers, e.g. `http://127.0.0.1:7071/`. */
  readonly baseUrl: () => string;
  /**
   * Adds a handler for every request whose path starts with `prefix`. `authorize`, when given, is
   * asked before the body is read: a refused request gets its 401 without uploading its body.
   */
  readonly mountHttp: (prefix: string, handler: RawHttpHandler, authorize?: RawHttpAuthorize) => void;
};

/** A part of the host (HTTP server, queue listeners, timers, durable runner) with a life cycle. */
export type HostComponent = {
  readonly name: string;
  start(): Promise<void>;
  /** Stops taking new work and waits for work in flight. */
  stop(): Promise<void>;
};
