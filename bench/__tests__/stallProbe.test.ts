import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEV_ACCOUNT_KEY } from '../../local-host/azurite';
import { STALL_MS, startStallProbe } from '../stallProbe';

/*
 * The probe decides which latency windows ran again (bench/run.ts), so its record must hold exactly
 * the requests storage held: a stand-in queue service answers at once (404, which the SDK does not
 * retry) except while a test holds it.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the probe of storage pauses', () => {
  let holdUntil = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    const wait = Math.max(0, holdUntil - performance.now());
    setTimeout(() => res.writeHead(404, { 'content-type': 'application/xml' }).end(), wait);
  });
  let connectionString = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    connectionString = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${DEV_ACCOUNT_KEY};QueueEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('records a request held past its threshold, in the windows it overlaps only, and nothing while storage answers', async () => {
    // A threshold well above the hiccups of a test process on a loaded machine (the bench uses STALL_MS).
    const threshold = 4 * STALL_MS;
    const probe = startStallProbe(connectionString, threshold);
    try {
      await sleep(1000); // the client's first requests compile and connect
      const quietFrom = performance.now();
      await sleep(1000);
      const quietTo = performance.now();
      expect(probe.stallsBetween(quietFrom, quietTo)).toEqual([]);

      holdUntil = performance.now() + threshold + 1000;
      const heldFrom = performance.now();
      await sleep(threshold + 1500);
      const stalls = probe.stallsBetween(heldFrom, performance.now());
      expect(stalls).toHaveLength(1);
      expect(stalls[0]?.ms).toBeGreaterThanOrEqual(threshold);
      // A window that ended before the pause began does not carry it.
      expect(probe.stallsBetween(quietFrom, quietTo)).toEqual([]);
    } finally {
      await probe.stop();
    }
  });
});
