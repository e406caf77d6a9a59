import http from 'node:http';
import fc from 'fast-check';
import type { RunningAzurite } from '../../../local-host/azurite';
import type { SpawnedHost } from '../../../local-host/testing/spawnHost';
import { ADMIN_KEY, type Answer, appSettings, call, INGEST_KEY, ownAzurite, startApp } from './harness';

/*
 * Bad input through HTTP, hand-picked and generated: every one gets a 4xx whose body names the
 * problem, and nothing stored changes (the registry and the newest stored events listed, before and
 * after). Well-formed Unicode, however odd, is stored and read back exactly. The host refuses
 * private destinations, as in production.
 */

const NUM_RUNS = 40;

describe('faults: bad input through HTTP', () => {
  let azurite: RunningAzurite;
  let host: SpawnedHost;
  let baseUrl: string;

  beforeAll(async () => {
    azurite = await ownAzurite();
    host = await startApp(appSettings({ storage: azurite.connectionString, tag: 'bad', extra: { ALLOW_PRIVATE_DESTINATIONS: 'false', MAX_EVENT_BODY_BYTES: '32768' } }));
    baseUrl = host.baseUrl;
  });
  afterAll(async () => {
    await host?.stop('SIGKILL');
    await azurite?.stop();
  });

  const postEvent = (raw: string | Buffer): Promise<Answer> => call(baseUrl, 'POST', 'events', { key: INGEST_KEY, raw });
  const registry = async (): Promise<unknown[]> => {
    const res = await call(baseUrl, 'GET', 'webhooks?limit=100', { key: ADMIN_KEY });
    expect(res.status).toBe(200);
    return res.body?.items as unknown[];
  };
  /** The newest stored events (the list's limit): an event stored by mistake would be among them. */
  const storedEvents = async (): Promise<unknown[]> => {
    const res = await call(baseUrl, 'GET', 'events?limit=100', { key: ADMIN_KEY });
    expect(res.status).toBe(200);
    return res.body?.items as unknown[];
  };
  /** Runs `refused` and checks that the stored events are the same after it. */
  const unchangedEvents = async <A>(refused: () => Promise<A>): Promise<A> => {
    const before = await storedEvents();
    const result = await refused();
    expect(await storedEvents()).toEqual(before);
    return result;
  };
  const expectInvalid = (res: Answer, detail: RegExp): void => {
    expect({ status: res.status, error: res.body?.error }).toEqual({ status: 400, error: 'Invalid' });
    expect((res.body?.details as string[]).some((d) => detail.test(d))).toBe(true);
  };

  describe('POST /api/events', () => {
    it.each([
      ['malformed JSON', '{"name": "ping"', /^\(body\): is not valid JSON/],
      ['an empty body', '', /^\(body\): is required/],
      ['an array', '[]', /^\(body\)|must be/],
      ['a number', '123', /^\(body\)|must be/],
      ['null', 'null', /^\(body\)|must be/],
      ['a name of the wrong type', '{"name": 42}', /^name/],
      ['a payload of the wrong type', '{"name": "ping", "payload": "x"}', /^payload/],
      ['an unknown event name', '{"name": "user:deleted"}', /^name: unknown event "user:deleted"; known events: /],
      ['an empty ping name', '{"name": "ping", "payload": {"name": ""}}', /^payload\.name/],
      ['a bad fiscal code', '{"name": "profile:completed", "payload": {"fiscalCode": "bad", "servicePreferencesMode": "AUTO"}}', /^payload\.fiscalCode/],
      ['a bad id', '{"id": "has spaces and / slashes", "name": "ping:all"}', /^id/],
      ['an over-long id', JSON.stringify({ id: 'x'.repeat(129), name: 'ping:all' }), /^id/],
      // The Durable client puts the id in its URLs unencoded: `.` and `..` are path steps there.
      ['the id "."', '{"id": ".", "name": "ping:all"}', /^id: must be an event id .*not dots alone/],
      ['the id ".."', '{"id": "..", "name": "ping:all"}', /^id: must be an event id .*not dots alone/],
      ['a lone surrogate in the name', '{"name": "ping\\ud800"}', /^name: must be well-formed Unicode text/],
      ['a lone surrogate deep in the payload', `{"name": "ping", "payload": {"name": "x", "extra": [1, {"a\\udc00": 2}]}}`, /^payload\.extra\.1 \(a key\): must be well-formed Unicode text/],
      ['a NUL in the name', '{"name": "ping\\u0000"}', /^name: unknown event/],
      ['deep nesting', `{"name": "ping", "payload": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`, /^payload/],
    ])('400 for %s, and no event is stored', async (_what, raw, detail) => {
      expectInvalid(await unchangedEvents(() => postEvent(raw)), detail);
    });

    it('400 for bytes that are not UTF-8, and no event is stored', async () => {
      expectInvalid(await unchangedEvents(() => postEvent(Buffer.from([0x7b, 0x22, 0x6e, 0xff, 0xfe, 0x7d]))), /must be UTF-8/);
    });

    it('413 for a huge body, 431 for oversize headers, and no event is stored', async () => {
      const before = await storedEvents();
      const huge = await postEvent(JSON.stringify({ name: 'ping:all', payload: { pad: 'x'.repeat(1024 * 1024) } }));
      expect({ status: huge.status, error: huge.body?.error }).toEqual({ status: 413, error: 'TooLarge' });
      // fetch refuses to send such headers itself: a raw request.
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${baseUrl}/api/events`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_KEY}`, 'x-big': 'y'.repeat(64 * 1024) } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end('{"name":"ping:all"}');
      });
      expect(status).toBe(431);
      expect(await storedEvents()).toEqual(before);
    });

    it('409 for an id reused with another event, and the stored event stays as it was', async () => {
      const first = { id: 'dup-1', name: 'ping', payload: { name: 'a' } };
      expect((await call(baseUrl, 'POST', 'events', { key: INGEST_KEY, body: first })).status).toBe(202);
      const before = await call(baseUrl, 'GET', 'events/dup-1', { key: ADMIN_KEY });
      const again = await unchangedEvents(() => call(baseUrl, 'POST', 'events', { key: INGEST_KEY, body: { ...first, payload: { name: 'b' } } }));
      expect(again).toMatchObject({ status: 409, body: { error: 'Conflict', message: expect.stringContaining('dup-1') } });
      const after = await call(baseUrl, 'GET', 'events/dup-1', { key: ADMIN_KEY });
      expect(after.body?.payload).toEqual({ name: 'a' });
      expect(after.body?.receivedAt).toEqual(before.body?.receivedAt);
    });

    it('property: any JSON body is 202 or a 400 with details, and a refused event is not stored', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.record({ name: fc.oneof(fc.constantFrom('ping', 'ping:all', 'service:subscribed', 'profile:completed'), fc.string({ unit: 'binary' })), payload: fc.jsonValue() }, { requiredKeys: [] }),
          async (event) => {
            const id = `prop-${n++}`;
            const before = await storedEvents();
            const res = await call(baseUrl, 'POST', 'events', { key: INGEST_KEY, body: { ...event, id } });
            expect([202, 400]).toContain(res.status);
            const stored = await call(baseUrl, 'GET', `events/${id}`, { key: ADMIN_KEY });
            if (res.status === 400) {
              expect((res.body?.details as string[]).length).toBeGreaterThan(0);
              expect(stored.status).toBe(404);
              expect(await storedEvents()).toEqual(before);
            } else {
              expect(stored.status).toBe(200);
            }
          },
        ),
        { numRuns: NUM_RUNS },
      );
    }, 180_000);

    it('property: a name with a lone surrogate is refused, naming the field, and nothing is stored', async () => {
      let n = 0;
      const loneSurrogate = fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff');
      await fc.assert(
        fc.asyncProperty(fc.tuple(fc.string(), loneSurrogate, fc.string()), async ([head, lone, tail]) => {
          const event = { id: `bad-uni-${n++}`, name: 'ping', payload: { name: `${head}${lone}${tail}` } };
          const res = await unchangedEvents(() => call(baseUrl, 'POST', 'events', { key: INGEST_KEY, body: event }));
          expect({ status: res.status, detail: (res.body?.details as string[] | undefined)?.[0] }).toEqual({
            status: 400,
            detail: expect.stringMatching(/^payload\.name: must be well-formed Unicode text/),
          });
          expect((await call(baseUrl, 'GET', `events/${event.id}`, { key: ADMIN_KEY })).status).toBe(404);
        }),
        { numRuns: NUM_RUNS },
      );
    }, 180_000);

    it('property: well-formed Unicode names (RTL marks, emoji, combining marks, astral planes) are stored and read back exactly, and a repeat is idempotent', async () => {
      let n = 0;
      const odd = fc.constantFrom('\u202eevil\u202c', '\u200f\u05d0', 'e\u0301', '\ud83d\ude00\ud83d\udc4d\ud83c\udffd', '\ud800\udc00', '\u4e2d\u6587', '\ufeffbom', 'tab\there', 'quote " and \\');
      await fc.assert(
        fc.asyncProperty(fc.oneof(odd, fc.string({ unit: 'grapheme', minLength: 1 }), fc.string({ unit: 'binary', minLength: 1 })), async (name) => {
          const event = { id: `uni-${n++}`, name: 'ping', payload: { name } };
          const res = await call(baseUrl, 'POST', 'events', { key: INGEST_KEY, body: event });
          expect({ status: res.status, body: res.body }).toMatchObject({ status: 202 });
          const stored = await call(baseUrl, 'GET', `events/${event.id}`, { key: ADMIN_KEY });
          expect({ status: stored.status, payload: stored.body?.payload }).toEqual({ status: 200, payload: { name } });
          // Exactly: the same UTF-16 code units, not a normalised or repaired look-alike.
          expect([...String((stored.body?.payload as { name?: unknown } | undefined)?.name)].map((c) => c.codePointAt(0))).toEqual([...name].map((c) => c.codePointAt(0)));
          expect((await call(baseUrl, 'POST', 'events', { key: INGEST_KEY, body: event })).status).toBe(202);
        }),
        { numRuns: NUM_RUNS },
      );
    }, 180_000);
  });

  describe('the webhook registry', () => {
    const valid = { url: 'https://receiver.example/hook', subscriptions: ['ping'], attributes: { name: 'kept' } };

    it.each([
      ['credentials', 'https://user:pass@receiver.example/'],
      ['a non-http scheme', 'ftp://receiver.example/'],
      ['javascript:', 'javascript:alert(1)'],
      ['file:', 'file:///etc/passwd'],
      ['a fragment', 'https://receiver.example/#x'],
      ['a relative URL', '/hook'],
      ['an over-long URL', `https://receiver.example/${'a'.repeat(2100)}`],
      ['loopback', 'http://127.0.0.1:8080/hook'],
      ['loopback in hex', 'http://0x7f.1/hook'],
      ['loopback as a number', 'http://2130706433/hook'],
      ['IPv6 loopback', 'http://[::1]/hook'],
      ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/hook'],
      ['localhost', 'http://localhost:7071/hook'],
      ['a localhost subdomain', 'http://app.localhost./hook'],
      ['a private address', 'https://10.1.2.3/hook'],
      ['cloud metadata', 'http://169.254.169.254/latest/meta-data'],
      ['unique local IPv6', 'http://[fd00::1]/hook'],
    ])('400 naming the url for %s, on create, replace and patch, and nothing changes', async (_what, url) => {
      const created = await call(baseUrl, 'POST', 'webhooks', { key: ADMIN_KEY, body: valid });
      expect(created.status).toBe(201);
      const id = String(created.body?.id);
      const before = await registry();
      expectInvalid(await call(baseUrl, 'POST', 'webhooks', { key: ADMIN_KEY, body: { ...valid, url } }), /^url: /);
      expectInvalid(await call(baseUrl, 'PUT', `webhooks/${id}`, { key: ADMIN_KEY, body: { ...valid, url } }), /^url: /);
      expectInvalid(await call(baseUrl, 'PATCH', `webhooks/${id}`, { key: ADMIN_KEY, body: { url } }), /^url: /);
      expect(await registry()).toEqual(before);
      expect((await call(baseUrl, 'DELETE', `webhooks/${id}`, { key: ADMIN_KEY })).status).toBe(204);
    });

    it.each([
      ['an id of our choosing', { ...valid, id: '01HZZZZZZZZZZZZZZZZZZZZZZZ' }, /^id: is not a known field/],
      ['a misspelt field', { ...valid, disable: true }, /^disable: is not a known field/],
      ['subscriptions of the wrong type', { ...valid, subscriptions: 'ping' }, /^subscriptions/],
      ['an unknown subscription', { ...valid, subscriptions: ['user:deleted'] }, /^subscriptions\.0/],
      ['a reserved header', { ...valid, headers: { 'webhook-signature': 'forged' } }, /^headers/],
      ['a header value with a line break', { ...valid, headers: { 'x-a': 'a\r\nx-b: b' } }, /^headers/],
      ['a non-string attribute', { ...valid, attributes: { name: 1 } }, /^attributes\.name/],
    ])('400 for %s, and the registry does not change', async (_what, body, detail) => {
      const before = await registry();
      expectInvalid(await call(baseUrl, 'POST', 'webhooks', { key: ADMIN_KEY, body }), detail);
      expect(await registry()).toEqual(before);
    });

    it('property: any JSON body is a 201 or a 400 with details; only 201s change the registry', async () => {
      const before = await registry();
      const created: unknown[] = [];
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              url: fc.oneof(fc.webUrl(), fc.string({ unit: 'binary' })),
              subscriptions: fc.oneof(fc.constant(['ping']), fc.jsonValue()),
              attributes: fc.jsonValue(),
              headers: fc.dictionary(fc.string(), fc.string()),
            },
            { requiredKeys: [] },
          ),
          async (body) => {
            const res = await call(baseUrl, 'POST', 'webhooks', { key: ADMIN_KEY, body });
            expect([201, 400]).toContain(res.status);
            if (res.status === 201) created.push(res.body?.id);
            else expect((res.body?.details as string[]).length).toBeGreaterThan(0);
          },
        ),
        { numRuns: NUM_RUNS },
      );
      const after = (await registry()) as { id: string }[];
      expect(after.length).toBe(before.length + created.length);
      expect(after.filter((w) => !created.includes(w.id))).toEqual(before);
    });
  });
});
