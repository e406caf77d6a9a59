import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type SpawnedHost, spawnHost } from '../testing/spawnHost';

const appDir = path.join(__dirname, 'fixtures', 'durable-app');
const ACTIVITIES = 200;
/** Activities running at once: at most this many are cut off by the kill (and run again). */
const MAX_CONCURRENT_ACTIVITIES = 8;

const runsIn = (file: string): number[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map(Number)
    : [];

const waitUntil = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('local host: durable orchestrations survive SIGKILL', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'durable-kill-'));
  const runLog = path.join(dir, 'runs.txt');
  // Short timeouts so that the messages and the lease of the killed host lapse soon after the kill,
  // yet long enough that a renewal (at half of them) cannot come too late on a loaded machine: this
  // test shares one Azurite with the whole suite, whose requests can stall for seconds, and with 3 s
  // a late renewal lets a live host's running work item be received again (a CI run counted 40
  // runs again where the kill cuts off at most 8).
  const env = {
    DURABLE_TEST_HUB: `kill${randomUUID().slice(0, 8)}`,
    RUN_LOG_FILE: runLog,
    LOCAL_HOST_DURABLE_VISIBILITY_TIMEOUT_SECONDS: '10',
    LOCAL_HOST_DURABLE_LEASE_SECONDS: '10',
    LOCAL_HOST_DURABLE_MAX_POLLING_INTERVAL_MS: '200',
    LOCAL_HOST_DURABLE_MAX_CONCURRENT_ACTIVITIES: String(MAX_CONCURRENT_ACTIVITIES),
    LOCAL_HOST_LOG_LEVEL: 'information',
  };
  let host: SpawnedHost | undefined;
  afterAll(async () => {
    await host?.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it(`completes a fan-out of ${ACTIVITIES} activities after the host is killed in the middle`, async () => {
    const instanceId = `kill-${randomUUID()}`;
    host = await spawnHost({ appDir, env });
    const started = await fetch(`${host.baseUrl}/api/start/fanOut/${instanceId}`, { method: 'POST', body: JSON.stringify({ n: ACTIVITIES, delayMs: 100 }) });
    expect(started.status).toBe(202);
    // 8 activities at a time, 100 ms each: the 200 need 2.5 s, so the kill after 30 lands mid-way.
    await waitUntil('some activities to run', () => runsIn(runLog).length >= 30, 30_000);
    await host.stop('SIGKILL');
    const runsBeforeKill = runsIn(runLog).length;
    expect(runsBeforeKill).toBeLessThan(ACTIVITIES);

    host = await spawnHost({ appDir, env });
    const baseUrl = host.baseUrl;
    let last: { runtimeStatus?: string; output?: unknown } = {};
    await waitUntil(
      'the orchestration to finish after the restart',
      async () => {
        const res = await fetch(`${baseUrl}/api/status/${instanceId}`);
        last = (await res.json()) as typeof last;
        return last.runtimeStatus === 'Completed' || last.runtimeStatus === 'Failed';
      },
      90_000,
    );
    expect(last).toMatchObject({ runtimeStatus: 'Completed', output: Array.from({ length: ACTIVITIES }, (_, i) => i * i).reduce((a, b) => a + b, 0) });
    const runs = runsIn(runLog);
    const distinct = new Set(runs);
    expect([...distinct].sort((a, b) => a - b)).toEqual(Array.from({ length: ACTIVITIES }, (_, i) => i));
    // Only what was running at the kill runs again: a result stored before it is not redone.
    expect(runs.length - ACTIVITIES).toBeLessThanOrEqual(MAX_CONCURRENT_ACTIVITIES);
  }, 150_000);
});
