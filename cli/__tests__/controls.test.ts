import type { Client } from '../client';
import { CliFailure } from '../client';
import type { CommandContext } from '../commands';
import { controlsCommand, controlsPatch } from '../controlsCommand';

/* dispatcher-ops controls: the PATCH it sends for each option, "none" as null, usage errors before any call. */

const WEBHOOK = {
  id: '01HZZZZZZZZZZZZZZZZZZZ0001',
  url: 'https://r.example/h',
  subscriptions: ['ping'],
  attributes: {},
  headerNames: [],
  disabled: false,
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
};

const contextWith = (answer: Record<string, unknown>) => {
  const calls: { method: string; path: string; body?: unknown }[] = [];
  const client = {
    baseUrl: 'http://127.0.0.1:1',
    call: async (request: { method: string; path: string; body?: unknown }) => {
      calls.push({ method: request.method, path: request.path, ...(request.body === undefined ? {} : { body: request.body }) });
      return answer;
    },
  } as unknown as Client;
  const ctx: CommandContext = { client, stderr: { write: () => true, isTTY: false } as unknown as CommandContext['stderr'], sleep: async () => undefined, now: () => 0 };
  return { ctx, calls };
};

describe('dispatcher-ops controls', () => {
  it('sends only the controls given, "none" as null (back to the default)', async () => {
    const { ctx, calls } = contextWith({ ...WEBHOOK, rateLimitPerSecond: 20, format: 'cloudevents' });
    const out = await controlsCommand(ctx, WEBHOOK.id, { rateLimit: '20', format: 'cloudevents', maxAttempts: 'none' });
    expect(calls).toEqual([{ method: 'PATCH', path: `/api/webhooks/${WEBHOOK.id}`, body: { rateLimitPerSecond: 20, maxAttempts: null, format: 'cloudevents' } }]);
    expect(out.json).toEqual({ id: WEBHOOK.id, rateLimitPerSecond: 20, format: 'cloudevents' });
    expect(out.text).toContain('rate limit     20 deliveries/s');
    expect(out.text).toContain('body format    cloudevents');
  });

  it('without options it only reads the webhook and shows the defaults', async () => {
    const { ctx, calls } = contextWith(WEBHOOK);
    const out = await controlsCommand(ctx, WEBHOOK.id, {});
    expect(calls).toEqual([{ method: 'GET', path: `/api/webhooks/${WEBHOOK.id}` }]);
    expect(out.text).toContain('rate limit     none');
    expect(out.text).toContain('max attempts   the retry schedule');
    expect(out.text).toContain('body format    pagopa (default)');
  });

  it('refuses a value of the wrong shape before calling the dispatcher', () => {
    expect(() => controlsPatch({ rateLimit: 'fast' })).toThrow(CliFailure);
    expect(() => controlsPatch({ format: 'xml' })).toThrow(/--format takes pagopa, standard, cloudevents or none/);
    expect(controlsPatch({ timeoutMs: '5000' })).toEqual({ timeoutMs: 5000 });
  });
});
