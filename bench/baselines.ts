import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueueClient } from '@azure/storage-queue';
import { Agent, request } from 'undici';

export type Rate = { count: number; seconds: number; perSecond: number };

const rate = (count: number, startedMs: number): Rate => {
  const seconds = (performance.now() - startedMs) / 1000;
  return { count, seconds: Number(seconds.toFixed(3)), perSecond: Number((count / seconds).toFixed(1)) };
};

/** Runs `task` `total` times with `concurrency` workers. */
export const runConcurrently = async (total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> => {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
};

/** Round trips run before the measured ones, so the client's code is compiled as it is in a long run. */
const QUEUE_WARM_UP_MESSAGES = 200;

/** Raw Azurite queue round trip: send + receive + delete per message, same library the app uses. */
export const queueRoundTrip = async (options: { connectionString: string; messages: number; concurrency: number }): Promise<Rate> => {
  const queue = new QueueClient(options.connectionString, `bench-baseline-${Date.now()}`);
  await queue.create();
  const roundTrip = async (i: number): Promise<void> => {
    await queue.sendMessage(Buffer.from(JSON.stringify({ i })).toString('base64'));
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 30 });
    for (const m of receivedMessageItems) await queue.deleteMessage(m.messageId, m.popReceipt);
  };
  try {
    // Warmed first, as the host is before its fan-out 1 is measured: the yardstick is a warm client too.
    await runConcurrently(Math.min(options.messages, QUEUE_WARM_UP_MESSAGES), options.concurrency, roundTrip);
    const started = performance.now();
    await runConcurrently(options.messages, options.concurrency, roundTrip);
    return rate(options.messages, started);
  } finally {
    await queue.delete();
  }
};

/** A loopback receiver that answers 204 to every request and counts them. */
export const startCountingReceiver = async (): Promise<{ url: string; count: () => number; close: () => Promise<void> }> => {
  let count = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    count: () => count,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** Raw HTTP POST rate to a loopback receiver with undici keep-alive, same concurrency. */
export const httpPostRate = async (options: { url: string; posts: number; concurrency: number }): Promise<Rate> => {
  const agent = new Agent({ connections: options.concurrency, keepAliveTimeout: 10_000 });
  const body = JSON.stringify({ name: 'ping', payload: {} });
  try {
    const started = performance.now();
    await runConcurrently(options.posts, options.concurrency, async () => {
      const res = await request(options.url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
      await res.body.dump();
    });
    return rate(options.posts, started);
  } finally {
    await agent.close();
  }
};
