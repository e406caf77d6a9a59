import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { decodeMessage, encodeMessage, outputMessages } from '../outputs';
import { parseTimeSpanMs, queueOptionsFrom } from '../queues';
import { createPollingBackoff } from '../worker';
import { type LogLine, type SpawnedHost, spawnHost, storageConnectionString } from '../testing/spawnHost';

const appDir = path.join(__dirname, 'fixtures', 'queue-app');

const uniqueQueue = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const queueClient = (name: string) => QueueServiceClient.fromConnectionString(storageConnectionString()).getQueueClient(name);
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

const enqueue = async (queueName: string, texts: string[], encode = true): Promise<string[]> => {
  const queue = queueClient(queueName);
  await queue.createIfNotExists();
  const ids: string[] = [];
  for (const text of texts) ids.push((await queue.sendMessage(encode ? b64(text) : text)).messageId);
  return ids;
};

const waitFor = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** Every message left in a queue (made invisible for a minute, so only for queues no host reads any more). */
const drain = async (queueName: string): Promise<string[]> => {
  const queue = queueClient(queueName);
  if (!(await queue.exists())) return [];
  const texts: string[] = [];
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
    if (receivedMessageItems.length === 0) return texts;
    texts.push(...receivedMessageItems.map((m) => m.messageText));
  }
};

const messageCount = async (queueName: string): Promise<number> => {
  const queue = queueClient(queueName);
  return (await queue.exists()) ? ((await queue.getProperties()).approximateMessagesCount ?? 0) : 0;
};

type Report = { fn: string; message?: unknown; messageType?: string; dequeueCount?: number; dequeueCountType?: string; phase?: string; [k: string]: unknown };

/** What the fixture functions reported through context.log (JSON lines in the host log). */
const reports = (logs: LogLine[], fn: string): Report[] => logs.filter((l) => l.category === fn && l.message.startsWith('{')).map((l) => JSON.parse(l.message) as Report);

describe('queue trigger semantics (pure parts)', () => {
  it('parses host.json TimeSpans and rejects what is not one', () => {
    expect(parseTimeSpanMs('00:00:02')).toBe(2_000);
    expect(parseTimeSpanMs('00:01:00')).toBe(60_000);
    expect(parseTimeSpanMs('1.02:03:04.5')).toBe(((26 * 60 + 3) * 60 + 4) * 1000 + 500);
    expect(parseTimeSpanMs('00:30')).toBe(30 * 60_000);
    expect(parseTimeSpanMs('2s')).toBeUndefined();
    expect(parseTimeSpanMs('00:61:00')).toBeUndefined();
  });

  it('applies the Azure defaults and derives newBatchThreshold from batch size and cores', () => {
    expect(queueOptionsFrom({ hostJson: undefined, cores: 2 })).toEqual({
      batchSize: 16,
      newBatchThreshold: 16,
      maxPollingIntervalMs: 60_000,
      visibilityTimeoutSeconds: 0,
      maxDequeueCount: 5,
      messageEncoding: 'base64',
      leaseSeconds: 600,
    });
    const custom = queueOptionsFrom({ hostJson: { batchSize: 4, maxPollingInterval: '00:00:02', visibilityTimeout: '00:00:01.200', messageEncoding: 'none' }, cores: 4 });
    expect(custom).toMatchObject({ batchSize: 4, newBatchThreshold: 8, maxPollingIntervalMs: 2_000, visibilityTimeoutSeconds: 2, messageEncoding: 'none' });
  });

  it('rejects out-of-range or mistyped host.json queue settings with a message naming the setting', () => {
    expect(() => queueOptionsFrom({ hostJson: { batchSize: 33 }, cores: 1 })).toThrow(/batchSize must be an integer from 1 to 32/);
    expect(() => queueOptionsFrom({ hostJson: { maxDequeueCount: 0 }, cores: 1 })).toThrow(/maxDequeueCount/);
    expect(() => queueOptionsFrom({ hostJson: { maxPollingInterval: '2 seconds' }, cores: 1 })).toThrow(/maxPollingInterval must be a TimeSpan/);
    expect(() => queueOptionsFrom({ hostJson: { maxPollingInterval: '00:00:00.050' }, cores: 1 })).toThrow(/at least 100 ms/);
    expect(() => queueOptionsFrom({ hostJson: { messageEncoding: 'utf8' }, cores: 1 })).toThrow(/messageEncoding/);
    expect(() => queueOptionsFrom({ hostJson: {}, cores: 1, leaseSeconds: 1 })).toThrow(/LOCAL_HOST_QUEUE_LEASE_SECONDS/);
  });

  it('backs off exponentially with jitter from about 100 ms up to the cap, and starts over on reset', () => {
    const mid = createPollingBackoff({ minMs: 100, maxMs: 1_000, random: () => 0.5 });
    expect([mid.next(), mid.next(), mid.next(), mid.next(), mid.next(), mid.next()]).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    mid.reset();
    expect(mid.next()).toBe(100);
    expect(createPollingBackoff({ minMs: 100, maxMs: 1_000, random: () => 0 }).next()).toBe(80);
    expect(createPollingBackoff({ minMs: 100, maxMs: 1_000, random: () => 0.999 }).next()).toBe(120);
  });

  it('decodes base64 strictly, as .NET does, and passes text through with encoding "none"', () => {
    expect(decodeMessage(b64('héllo {"a":1}'), 'base64')?.toString('utf8')).toBe('héllo {"a":1}');
    expect(decodeMessage('aGVs\nbG8=', 'base64')?.toString('utf8')).toBe('hello');
    expect(decodeMessage('not base64!', 'base64')).toBeUndefined();
    expect(decodeMessage('aGVsbG8', 'base64')).toBeUndefined();
    expect(decodeMessage('not base64!', 'none')?.toString('utf8')).toBe('not base64!');
    expect(encodeMessage(Buffer.from('hi'), 'base64')).toBe('aGk=');
    expect(encodeMessage(Buffer.from('hi'), 'none')).toBe('hi');
  });

  it('turns each kind of output value into messages: arrays split, strings as they are, the rest as JSON', () => {
    const texts = (data: Parameters<typeof outputMessages>[0]) => outputMessages(data).map((b) => b.toString('utf8'));
    expect(texts({ json: JSON.stringify(['a', { b: 1 }, 2, null]) })).toEqual(['a', '{"b":1}', '2', 'null']);
    expect(texts({ json: '{"b":1}' })).toEqual(['{"b":1}']);
    expect(texts({ string: '[not json' })).toEqual(['[not json']);
    expect(texts({ int: 7 })).toEqual(['7']);
    expect(texts({ bytes: new Uint8Array([104, 105]) })).toEqual(['hi']);
    expect(texts({ json: '[]' })).toEqual([]);
  });
});

describe('local host: queue triggers and queue outputs', () => {
  const queues = { flaky: uniqueQueue('flaky'), record: uniqueQueue('record'), relay: uniqueQueue('relay') };
  let host: SpawnedHost;
  beforeAll(async () => {
    host = await spawnHost({
      appDir,
      env: { QA_FLAKY_QUEUE: queues.flaky, QA_RECORD_QUEUE: queues.record, QA_OUT_QUEUE: queues.record, QA_RELAY_QUEUE: queues.relay },
    });
  });
  afterAll(async () => {
    await host.stop();
  });

  it('tries a failing message exactly maxDequeueCount (3) times, then moves its original text to -poison', async () => {
    const body = JSON.stringify({ fails: 'always', tag: 'poison-me' });
    const [id] = await enqueue(queues.flaky, [body]);
    const poisoned = await waitFor('the poison message', async () => {
      const texts = await drain(`${queues.flaky}-poison`);
      return texts.length > 0 ? texts : undefined;
    });
    expect(poisoned).toEqual([b64(body)]);
    const seen = reports(host.logs, 'flaky').filter((r) => (r.message as { tag?: string }).tag === 'poison-me');
    expect(seen.map((r) => r.dequeueCount)).toEqual([1, 2, 3]);
    expect(seen.every((r) => r.dequeueCountType === 'number' && r.id === id)).toBe(true);
    expect(await messageCount(queues.flaky)).toBe(0);
    const failures = host.logs.filter((l) => l.function === 'flaky' && l.outcome === 'failed' && l.trigger === 'queue');
    expect(failures).toHaveLength(3);
    expect(String(failures[0]?.error)).toContain('flaky failure on attempt 1');
  });

  it('retries a message that fails twice and deletes it when the third attempt succeeds', async () => {
    const [id] = await enqueue(queues.flaky, [JSON.stringify({ fails: 2, tag: 'recovers' })]);
    await waitFor('the successful attempt', () => host.logs.find((l) => l.function === 'flaky' && l.outcome === 'succeeded'));
    const seen = reports(host.logs, 'flaky').filter((r) => (r.message as { tag?: string }).tag === 'recovers');
    expect(seen.map((r) => r.dequeueCount)).toEqual([1, 2, 3]);
    expect(seen[0]).toMatchObject({ id, messageType: 'object', message: { fails: 2, tag: 'recovers' } });
    expect(
      seen.every(
        (r) =>
          typeof r.popReceipt === 'string' &&
          !Number.isNaN(Date.parse(String(r.insertionTime))) &&
          !Number.isNaN(Date.parse(String(r.expirationTime))) &&
          !Number.isNaN(Date.parse(String(r.nextVisibleTime))),
      ),
    ).toBe(true);
    await waitFor('the message to be deleted', async () => ((await messageCount(queues.flaky)) === 0 ? true : undefined));
    expect(await drain(`${queues.flaky}-poison`)).toEqual([]);
  });

  it('reads back what an HTTP function enqueues through an output binding, one message per array element', async () => {
    const res = await fetch(`${host.baseUrl}/api/enqueue`, { method: 'POST', body: JSON.stringify({ messages: ['plain text', { kind: 'object', n: 1 }, 42] }) });
    expect(res.status).toBe(202);
    const seen = await waitFor('three recorded messages', () => {
      const found = reports(host.logs, 'record');
      return found.length >= 3 ? found : undefined;
    });
    expect(seen.map((r) => [r.message, r.messageType]).sort()).toEqual(
      [
        [42, 'number'],
        ['plain text', 'string'],
        [{ kind: 'object', n: 1 }, 'object'],
      ].sort(),
    );
    await waitFor('the recorded messages to be deleted', async () => ((await messageCount(queues.record)) === 0 ? true : undefined));
  });

  it("delivers a queue function's return value through its $return queue output", async () => {
    await enqueue(queues.relay, [JSON.stringify({ n: 7 })]);
    const relayed = await waitFor('the relayed message', () => reports(host.logs, 'record').find((r) => (r.message as { relayed?: unknown }).relayed !== undefined));
    expect(relayed.message).toEqual({ relayed: { n: 7 } });
  });

  it('moves a message that is not valid base64 straight to -poison without invoking the function', async () => {
    // The function's own reports, not the host's invocation lines: an earlier test's last line may still be on its way.
    const before = reports(host.logs, 'record').length;
    await enqueue(queues.record, ['this is {not} base64!'], false);
    const poisoned = await waitFor('the poison message', async () => {
      const texts = await drain(`${queues.record}-poison`);
      return texts.length > 0 ? texts : undefined;
    });
    expect(poisoned).toEqual(['this is {not} base64!']);
    // The host logs the move once the original is deleted, after the poison copy is visible: waited for.
    await host.waitForLog((l) => /moved to .*-poison: its text is not valid base64/.test(l.message));
    expect(reports(host.logs, 'record')).toHaveLength(before);
  });

  it('fails the invocation (HTTP 500) when an output message cannot be enqueued', async () => {
    const res = await fetch(`${host.baseUrl}/api/enqueue`, { method: 'POST', body: JSON.stringify({ messages: ['x'.repeat(70_000)] }) });
    expect(res.status).toBe(500);
    const { invocationId } = (await res.json()) as { invocationId: string };
    await host.waitForLog((l) => l.invocationId === invocationId && l.outcome === 'failed');
  });
});

describe('local host: queue listener life cycle', () => {
  it('finishes messages in flight on SIGTERM and leaves the rest for the next host: none lost', async () => {
    const queueName = uniqueQueue('slow');
    const bodies = Array.from({ length: 12 }, (_, i) => `m${i}`);
    await enqueue(queueName, bodies);
    const env = { QA_SLOW_QUEUE: queueName, QA_SLOW_MS: '400' };
    const first = await spawnHost({ appDir, env });
    await first.waitForLog((l) => l.category === 'slow' && l.message.includes('"phase":"done"'));
    expect(await first.stop('SIGTERM')).toBe(0);
    const firstReports = reports(first.logs, 'slow');
    const started = firstReports.filter((r) => r.phase === 'start').map((r) => r.message);
    const finished = firstReports.filter((r) => r.phase === 'done').map((r) => r.message);
    expect(finished.sort()).toEqual(started.sort());
    expect(finished.length).toBeLessThan(bodies.length);

    const second = await spawnHost({ appDir, env });
    try {
      await waitFor('every message to be processed', () => {
        const done = new Set([
          ...finished,
          ...reports(second.logs, 'slow')
            .filter((r) => r.phase === 'done')
            .map((r) => r.message),
        ]);
        return bodies.every((b) => done.has(b)) ? true : undefined;
      });
      await waitFor('the queue to be empty', async () => ((await messageCount(queueName)) === 0 ? true : undefined));
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
    }
    expect(await messageCount(`${queueName}-poison`)).toBe(0);
  });

  it('lets two hosts compete for one queue, each message handled once, holding messages longer than the lease', async () => {
    const queueName = uniqueQueue('compete');
    const bodies = Array.from({ length: 8 }, (_, i) => `c${i}`);
    // Invocations (3 s) outlast the 2 s lease: only renewing it keeps the other host off the message.
    const env = { QA_SLOW_QUEUE: queueName, QA_SLOW_MS: '3000', LOCAL_HOST_QUEUE_LEASE_SECONDS: '2' };
    const hosts = await Promise.all([spawnHost({ appDir, env }), spawnHost({ appDir, env })]);
    try {
      await enqueue(queueName, bodies);
      const allDone = () => hosts.flatMap((h) => reports(h.logs, 'slow')).filter((r) => r.phase === 'done');
      await waitFor('every message to be processed', () => (new Set(allDone().map((r) => r.message)).size === bodies.length ? true : undefined), 45_000);
      await waitFor('the queue to be empty', async () => ((await messageCount(queueName)) === 0 ? true : undefined));
      const starts = hosts.flatMap((h) => reports(h.logs, 'slow')).filter((r) => r.phase === 'start');
      expect(starts.map((r) => r.message).sort()).toEqual([...bodies].sort());
      expect(starts.every((r) => r.dequeueCount === 1)).toBe(true);
    } finally {
      await Promise.all(hosts.map((h) => h.stop()));
    }
  });

  it('poisons without invoking a message already dequeued maxDequeueCount times (by hosts that crashed)', async () => {
    const queueName = uniqueQueue('crashed');
    const body = JSON.stringify({ tag: 'crashed' });
    await enqueue(queueName, [body]);
    const queue = queueClient(queueName);
    for (let i = 0; i < 3; i++) {
      const [m] = (await queue.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems;
      if (m === undefined) throw new Error('the message should be visible');
      await queue.updateMessage(m.messageId, m.popReceipt, undefined, 0);
    }
    const host = await spawnHost({ appDir, env: { QA_RECORD_QUEUE: queueName } });
    try {
      await host.waitForLog((l) => l.message.includes(`moved to ${queueName}-poison: dequeued 4 times (maxDequeueCount 3)`));
      expect(host.logs.filter((l) => l.function === 'record' && l.trigger === 'queue')).toHaveLength(0);
    } finally {
      await host.stop();
    }
    expect(await drain(`${queueName}-poison`)).toEqual([b64(body)]);
  });

  it('exits non-zero with a message naming the function when a queue name is invalid', async () => {
    await expect(spawnHost({ appDir, env: { QA_RECORD_QUEUE: 'Bad_Name' }, startTimeoutMs: 15_000 })).rejects.toThrow(
      /host exited \(code 1\)[\s\S]*Function "record", queue trigger: "bad_name" is not a valid queue name/,
    );
  });
});
