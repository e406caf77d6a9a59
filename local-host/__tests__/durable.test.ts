import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { type SpawnedHost, spawnHost } from '../testing/spawnHost';

const appDir = path.join(__dirname, 'fixtures', 'durable-app');

type Status = {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  history?: { EventType: number }[];
};

describe('local host: durable orchestrations', () => {
  let host: SpawnedHost;
  const hub = `dt${randomUUID().slice(0, 8)}`;
  const id = (prefix: string): string => `${prefix}-${randomUUID()}`;
  const systemKey = `key-${randomUUID()}`;

  beforeAll(async () => {
    host = await spawnHost({
      appDir,
      env: { DURABLE_TEST_HUB: hub, LOCAL_HOST_DURABLE_MAX_POLLING_INTERVAL_MS: '200', LOCAL_HOST_LOG_LEVEL: 'information', LOCAL_HOST_DURABLE_SYSTEM_KEY: systemKey },
    });
  });
  afterAll(async () => {
    await host.stop();
  });

  const start = async (name: string, instanceId: string, input?: unknown): Promise<Response> =>
    fetch(`${host.baseUrl}/api/start/${name}/${instanceId}`, { method: 'POST', body: input === undefined ? '' : JSON.stringify(input) });

  const status = async (instanceId: string, history = false): Promise<{ code: number; body: Status }> => {
    const res = await fetch(`${host.baseUrl}/api/status/${instanceId}${history ? '?history=true' : ''}`);
    return { code: res.status, body: (await res.json()) as Status };
  };

  /** Polls the status through the durable client until `done` holds (or the deadline passes). */
  const waitFor = async (instanceId: string, done: (s: Status) => boolean, timeoutMs = 30_000): Promise<Status> => {
    const deadline = Date.now() + timeoutMs;
    let last: Status | undefined;
    while (Date.now() < deadline) {
      const { code, body } = await status(instanceId);
      if (code === 200) {
        last = body;
        if (done(body)) return body;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`instance ${instanceId} did not reach the expected state; last status: ${JSON.stringify(last)}`);
  };
  const finished = (s: Status): boolean => ['Completed', 'Failed', 'Terminated'].includes(s.runtimeStatus);

  it('runs a chain of activities and reports input, output and timestamps', async () => {
    const instanceId = id('chain');
    const res = await start('chain', instanceId, 'Paris');
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ id: instanceId });
    const s = await waitFor(instanceId, finished);
    expect(s).toMatchObject({ name: 'chain', instanceId, runtimeStatus: 'Completed', input: 'Paris', output: ['Hello Tokyo', 'Hello Seattle', 'Hello Paris'] });
    expect(Date.parse(s.lastUpdatedTime)).toBeGreaterThanOrEqual(Date.parse(s.createdTime));
  });

  it('keeps every non-ASCII character of large inputs and outputs, inline or in a payload row', async () => {
    // Bodies this large reach Azurite in several chunks; the prefixes move every chunk boundary by a
    // byte. 1 500 repeats fit a work-item message inline, 12 000 go through a payload row.
    const inputs = ['', 'a', 'ab', 'abc'].flatMap((prefix) => [1_500, 12_000].map((n) => `${prefix}${'é€😀'.repeat(n)}`));
    const ids = inputs.map(() => id('utf8'));
    for (const [i, input] of inputs.entries()) expect((await start('chain', ids[i] as string, input)).status).toBe(202);
    for (const [i, input] of inputs.entries()) {
      const s = await waitFor(ids[i] as string, finished);
      const [input_, output] = [s.input as string, (s.output as string[])[2] ?? ''];
      // A summary, not the strings: a diff of 50 000 characters helps nobody.
      const summary = (text: string, expected: string) => ({ length: text.length, replaced: text.split('\ufffd').length - 1, same: text === expected });
      expect({ status: s.runtimeStatus, input: summary(input_, input), output: summary(output, `Hello ${input}`) }).toEqual({
        status: 'Completed',
        input: summary(input, input),
        output: summary(`Hello ${input}`, `Hello ${input}`),
      });
    }
  });

  it('generates an instance id when none is given', async () => {
    const res = await fetch(`${host.baseUrl}/api/start/chain`, { method: 'POST', body: '"Rome"' });
    const { id: generated } = (await res.json()) as { id: string };
    expect(generated).toMatch(/^[0-9a-f]{32}$/);
    expect((await waitFor(generated, finished)).output).toEqual(['Hello Tokyo', 'Hello Seattle', 'Hello Rome']);
  });

  it('fans out over 100 activities and in again with Task.all, with custom status and history', async () => {
    const instanceId = id('fan');
    await start('fanOut', instanceId, { n: 100 });
    const s = await waitFor(instanceId, finished);
    expect(s.runtimeStatus).toBe('Completed');
    expect(s.output).toBe(Array.from({ length: 100 }, (_, i) => i * i).reduce((a, b) => a + b, 0));
    expect(s.customStatus).toEqual({ scheduled: 100 });
    const { body } = await status(instanceId, true);
    const history = body.history ?? [];
    expect(history.filter((e) => e.EventType === 4)).toHaveLength(100);
    expect(history.filter((e) => e.EventType === 5)).toHaveLength(100);
  });

  it('retries a failing activity under retry options until it succeeds', async () => {
    const instanceId = id('retry');
    await start('retry', instanceId, { key: instanceId, failures: 2, maxAttempts: 3 });
    const s = await waitFor(instanceId, finished);
    expect(s).toMatchObject({ runtimeStatus: 'Completed', output: 3 });
  });

  it('fails the orchestration when the retries are exhausted', async () => {
    const instanceId = id('exhausted');
    await start('retryExhausted', instanceId);
    const s = await waitFor(instanceId, finished);
    expect(s.runtimeStatus).toBe('Failed');
    expect(String(s.output)).toContain('this activity always fails');
    const attempts = host.logs.filter((l) => l.function === 'AlwaysFails' && l.outcome === 'failed');
    expect(attempts.length).toBeGreaterThanOrEqual(2);
  });

  it('waits for a durable timer, and currentUtcDateTime moves by at least its delay', async () => {
    const instanceId = id('timer');
    await start('timer', instanceId, 1500);
    const s = await waitFor(instanceId, finished);
    const output = s.output as { before: string; after: string };
    expect(s.runtimeStatus).toBe('Completed');
    expect(Date.parse(output.after) - Date.parse(output.before)).toBeGreaterThanOrEqual(1500);
  });

  it('resolves Task.any with the first task to finish', async () => {
    const instanceId = id('race');
    await start('race', instanceId);
    expect((await waitFor(instanceId, finished)).output).toBe('timeout');
  });

  it('restarts an instance with new input on continueAsNew', async () => {
    const instanceId = id('counter');
    await start('counter', instanceId, 0);
    const s = await waitFor(instanceId, finished);
    expect(s).toMatchObject({ runtimeStatus: 'Completed', output: 'counted to 3', input: 3, customStatus: { count: 3 } });
  });

  it('reports custom status while waiting for an external event, then completes with its data', async () => {
    const instanceId = id('approval');
    await start('approval', instanceId);
    await waitFor(instanceId, (s) => s.runtimeStatus === 'Running' && JSON.stringify(s.customStatus) === '{"stage":"waiting"}');
    const raised = await fetch(`${host.baseUrl}/api/raise/${instanceId}/decision`, { method: 'POST', body: JSON.stringify({ approved: true }) });
    expect(raised.status).toBe(202);
    const s = await waitFor(instanceId, finished);
    expect(s).toMatchObject({ runtimeStatus: 'Completed', output: { approved: true }, customStatus: { stage: 'decided' } });
  });

  it('marks an orchestrator that throws as Failed, with the error', async () => {
    const instanceId = id('fails');
    await start('fails', instanceId);
    const s = await waitFor(instanceId, finished);
    expect(s.runtimeStatus).toBe('Failed');
    expect(s.output).toBe("Orchestrator function 'fails' failed: orchestrator exploded");
  });

  it('refuses to start a running instance id again, and overwrites it once terminated', async () => {
    const instanceId = id('dup');
    expect((await start('approval', instanceId)).status).toBe(202);
    const first = await waitFor(instanceId, (s) => s.runtimeStatus === 'Running');
    const duplicate = await start('approval', instanceId);
    expect(duplicate.status).toBe(409);
    expect(((await duplicate.json()) as { error: string }).error).toContain('409');
    expect((await fetch(`${host.baseUrl}/api/terminate/${instanceId}`, { method: 'POST' })).status).toBe(202);
    const terminated = await waitFor(instanceId, finished);
    expect(terminated).toMatchObject({ runtimeStatus: 'Terminated', output: 'stopped by test' });
    // Raising an event on a terminated instance: the client accepts Azure's 410 silently.
    expect((await fetch(`${host.baseUrl}/api/raise/${instanceId}/decision`, { method: 'POST', body: '1' })).status).toBe(202);
    expect((await start('approval', instanceId)).status).toBe(202);
    const second = await waitFor(instanceId, (s) => s.runtimeStatus === 'Running');
    expect(Date.parse(second.createdTime)).toBeGreaterThan(Date.parse(first.createdTime));
  });

  it('answers 404 for an unknown instance, lists instances by status, and purges', async () => {
    expect((await status(id('nobody'))).code).toBe(404);
    const instanceId = id('purge');
    await start('chain', instanceId, 'Oslo');
    await waitFor(instanceId, finished);
    const listed = (await (await fetch(`${host.baseUrl}/api/list?status=Completed`)).json()) as Status[];
    expect(listed.map((s) => s.instanceId)).toContain(instanceId);
    expect(listed.every((s) => s.runtimeStatus === 'Completed')).toBe(true);
    const all = (await (await fetch(`${host.baseUrl}/api/list`)).json()) as Status[];
    expect(all.length).toBeGreaterThan(listed.length);
    const purged = await fetch(`${host.baseUrl}/api/purge/${instanceId}`, { method: 'DELETE' });
    expect(await purged.json()).toEqual({ instancesDeleted: 1 });
    expect((await status(instanceId)).code).toBe(404);
    const again = await fetch(`${host.baseUrl}/api/purge/${instanceId}`, { method: 'DELETE' });
    expect(await again.json()).toEqual({ instancesDeleted: 0 });
  });

  it('gives createCheckStatusResponse URLs that the host serves', async () => {
    const instanceId = id('check');
    await start('chain', instanceId, 'Lima');
    await waitFor(instanceId, finished);
    const res = await fetch(`${host.baseUrl}/api/check/${instanceId}`);
    expect(res.status).toBe(202);
    const payload = (await res.json()) as { id: string; statusQueryGetUri: string };
    expect(payload.id).toBe(instanceId);
    expect(payload.statusQueryGetUri.startsWith(host.baseUrl)).toBe(true);
    const direct = await fetch(payload.statusQueryGetUri);
    expect(direct.status).toBe(200);
    expect(((await direct.json()) as Status).output).toEqual(['Hello Tokyo', 'Hello Seattle', 'Hello Lima']);
  });

  describe('durable HTTP API failure paths', () => {
    const unkeyed = (p: string): string => `${host.baseUrl}/runtime/webhooks/durabletask/${p}`;
    const api = (p: string): string => `${unkeyed(p)}${p.includes('?') ? '&' : '?'}code=${encodeURIComponent(systemKey)}`;

    it('401 without the system key, as Azure: nothing is started, read or changed', async () => {
      const instanceId = id('keyed');
      await start('chain', instanceId, 'Oslo');
      const done = await waitFor(instanceId, finished);
      const attempts: [string, RequestInit][] = [
        [unkeyed(`orchestrators/chain/${id('forged')}`), { method: 'POST', body: '"x"' }],
        [`${unkeyed(`orchestrators/chain/${id('forged')}`)}?code=wrong`, { method: 'POST', body: '"x"' }],
        [unkeyed(`instances/${instanceId}`), {}],
        [unkeyed('instances'), {}],
        [unkeyed(`instances/${instanceId}/terminate?reason=x`), { method: 'POST' }],
        [unkeyed(`instances/${instanceId}/raiseEvent/e`), { method: 'POST', body: '1' }],
        [unkeyed(`instances/${instanceId}`), { method: 'DELETE' }],
      ];
      for (const [url, init] of attempts) {
        const res = await fetch(url, init);
        expect(res.status).toBe(401);
        expect(await res.text()).not.toContain(systemKey);
      }
      expect(host.logs.some((l) => JSON.stringify(l).includes(systemKey))).toBe(false);
      const after = await fetch(api(`instances/${instanceId}`));
      expect(after.status).toBe(200);
      expect(((await after.json()) as Status).output).toEqual(done.output);
      expect((await fetch(api('instances?runtimeStatus=Pending,Running'))).status).toBe(200);
      const header = await fetch(unkeyed(`instances/${instanceId}`), { headers: { 'x-functions-key': systemKey } });
      expect(header.status).toBe(200);
    });

    it('404 for an unknown orchestrator, 400 for a bad body or instance id', async () => {
      expect((await fetch(api('orchestrators/nothing'), { method: 'POST' })).status).toBe(404);
      expect((await fetch(api(`orchestrators/chain/${id('bad')}`), { method: 'POST', body: '{not json' })).status).toBe(400);
      expect((await fetch(api(`orchestrators/chain/${'x'.repeat(101)}`), { method: 'POST' })).status).toBe(400);
      expect((await fetch(api('instances?runtimeStatus=Sleeping'))).status).toBe(400);
      expect((await fetch(api('instances?createdTimeFrom=yesterday'))).status).toBe(400);
      expect((await fetch(api('instances/%E0%A4%A'))).status).toBe(400);
      expect((await fetch(unkeyed('instances/%E0%A4%A'))).status).toBe(401);
    });

    it('404 to terminate or raise on an unknown instance, 410 on a finished one, 501 for suspend', async () => {
      expect((await fetch(api(`instances/${id('none')}/terminate?reason=x`), { method: 'POST' })).status).toBe(404);
      expect((await fetch(api(`instances/${id('none')}/raiseEvent/e`), { method: 'POST', body: '1' })).status).toBe(404);
      const instanceId = id('done');
      await start('chain', instanceId, 'Bern');
      await waitFor(instanceId, finished);
      expect((await fetch(api(`instances/${instanceId}/terminate?reason=x`), { method: 'POST' })).status).toBe(410);
      expect((await fetch(api(`instances/${instanceId}/raiseEvent/e`), { method: 'POST', body: '{bad' })).status).toBe(400);
      expect((await fetch(api(`instances/${instanceId}/suspend?reason=x`), { method: 'POST' })).status).toBe(501);
      expect((await fetch(api(`instances/${instanceId}`), { method: 'PUT' })).status).toBe(405);
      expect((await fetch(api('entities/counter/1'))).status).toBe(404);
    });

    it('answers Azure status codes: 200 completed, 400 failed', async () => {
      const ok = id('ok');
      const bad = id('bad');
      await start('chain', ok, 'Kyiv');
      await start('fails', bad);
      await waitFor(ok, finished);
      await waitFor(bad, finished);
      expect((await fetch(api(`instances/${ok}`))).status).toBe(200);
      expect((await fetch(api(`instances/${bad}`))).status).toBe(400);
    });
  });
});
