import * as T from 'fp-ts/Task';
import { decide, type AttemptResult } from '../../../domain/outcome';
import type { HttpSender, OutgoingRequest } from '../../../ports/httpSender';
import { withTimeoutBreaker } from '../timeoutBreaker';

const TIMEOUT: AttemptResult = { kind: 'NetworkError', error: 'Timeout', message: 'no answer within 10000 ms', latencyMs: 10_000 };
const OK: AttemptResult = { kind: 'Response', status: 204, latencyMs: 3, excerpt: '', bodyRead: 'Complete' };
const REFUSED: AttemptResult = { kind: 'NetworkError', error: 'ConnectionRefused', message: 'ECONNREFUSED', latencyMs: 1 };

/** An inner sender that answers each origin from a script, and counts what it was asked to send. */
const scripted = (script: Record<string, AttemptResult>) => {
  const sent: string[] = [];
  const sender: HttpSender = {
    send: (request: OutgoingRequest) => {
      sent.push(request.url);
      return T.of(script[new URL(request.url).origin] ?? OK);
    },
  };
  return { sender, sent };
};

const post = (url: string): OutgoingRequest => ({ url, headers: {}, body: '{}' });

describe('timeout breaker', () => {
  let clock = 0;
  const now = (): number => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('pauses an endpoint after the threshold of timeouts in a row, and only that endpoint', async () => {
    const inner = scripted({ 'https://slow.example': TIMEOUT, 'https://slow.example:8443': TIMEOUT });
    const breaker = withTimeoutBreaker(inner.sender, { threshold: 3, cooldownMs: 30_000, now });
    for (let i = 0; i < 3; i++) expect(await breaker.send(post('https://slow.example/hook'))()).toEqual(TIMEOUT);

    const paused = await breaker.send(post('https://slow.example/hook'))();
    expect(paused).toMatchObject({ kind: 'NetworkError', error: 'CircuitOpen', latencyMs: 0 });
    expect(paused.kind === 'NetworkError' && paused.message).toContain('the last 3 requests to https://slow.example/hook timed out');
    expect(inner.sent).toHaveLength(3);

    // Another receiver on the same origin (another path), another host, or the same host on another
    // port is another endpoint: a tenant's hanging hook does not pause its neighbours on a shared host.
    expect(await breaker.send(post('https://slow.example/other'))()).toEqual(TIMEOUT);
    expect(await breaker.send(post('https://fast.example/hook'))()).toEqual(OK);
    expect(await breaker.send(post('https://slow.example:8443/hook'))()).toEqual(TIMEOUT);
    expect(inner.sent).toHaveLength(6);
  });

  it('counts timeouts in a row only: an answer or another error in between starts over', async () => {
    const script: Record<string, AttemptResult> = { 'https://flaky.example': TIMEOUT };
    const inner = scripted(script);
    const breaker = withTimeoutBreaker(inner.sender, { threshold: 3, cooldownMs: 30_000, now });
    const send = () => breaker.send(post('https://flaky.example/hook'))();
    await send();
    await send();
    script['https://flaky.example'] = REFUSED;
    await send();
    script['https://flaky.example'] = TIMEOUT;
    await send();
    await send();
    expect((await send()).kind === 'NetworkError').toBe(true);
    expect(inner.sent).toHaveLength(6);
  });

  it('after the pause, lets one probe through: a timeout pauses again, an answer resumes', async () => {
    const script: Record<string, AttemptResult> = { 'https://down.example': TIMEOUT };
    const inner = scripted(script);
    const breaker = withTimeoutBreaker(inner.sender, { threshold: 2, cooldownMs: 30_000, now });
    const send = () => breaker.send(post('https://down.example/hook'))();
    await send();
    await send();
    clock += 29_999;
    expect(await send()).toMatchObject({ error: 'CircuitOpen' });
    expect(inner.sent).toHaveLength(2);

    clock += 1;
    expect(await send()).toEqual(TIMEOUT);
    expect(inner.sent).toHaveLength(3);
    expect(await send()).toMatchObject({ error: 'CircuitOpen' });

    clock += 30_000;
    script['https://down.example'] = OK;
    expect(await send()).toEqual(OK);
    expect(await send()).toEqual(OK);
    expect(inner.sent).toHaveLength(5);
  });

  it('sends nothing else while the probe is out', async () => {
    let release: (r: AttemptResult) => void = () => undefined;
    const sent: string[] = [];
    let hang = false;
    const inner: HttpSender = {
      send: (request) => () => {
        sent.push(request.url);
        return hang ? new Promise<AttemptResult>((resolve) => (release = resolve)) : Promise.resolve(TIMEOUT);
      },
    };
    const breaker = withTimeoutBreaker(inner, { threshold: 1, cooldownMs: 1_000, now });
    await breaker.send(post('https://down.example/hook'))();
    clock += 1_000;
    hang = true;
    const probe = breaker.send(post('https://down.example/hook'))();
    expect(await breaker.send(post('https://down.example/hook'))()).toMatchObject({ error: 'CircuitOpen' });
    release(OK);
    expect(await probe).toEqual(OK);
    expect(sent).toEqual(['https://down.example/hook', 'https://down.example/hook']);
  });

  it('is off with a threshold of 0', async () => {
    const inner = scripted({ 'https://slow.example': TIMEOUT });
    const breaker = withTimeoutBreaker(inner.sender, { threshold: 0, cooldownMs: 30_000, now });
    for (let i = 0; i < 5; i++) await breaker.send(post('https://slow.example/hook'))();
    expect(inner.sent).toHaveLength(5);
  });

  it('a paused attempt is retried on the schedule like any network error', () => {
    const decision = decide({
      result: { kind: 'NetworkError', error: 'CircuitOpen', message: 'not sent', latencyMs: 0 },
      attempt: 2,
      policy: { scheduleSeconds: [5, 300], jitterRatio: 0 },
      now: new Date(0),
    });
    expect(decision).toEqual({ kind: 'RetryLater', delaySeconds: 300 });
  });
});
