import * as E from 'fp-ts/Either';
import type { AppError } from '../../domain/errors';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import { createWebhook } from '../createWebhook';
import { patchWebhook } from '../patchWebhook';
import { replaceWebhook } from '../replaceWebhook';

/*
 * The per-endpoint controls through the registry use cases: stored when given, defaults when absent,
 * a bad value refused naming the field and its range with nothing stored, maxAttempts within the
 * configured schedule, and a merge patch's null going back to the default.
 */

const setup = () => {
  const webhooks = memoryWebhookStore();
  let time = Date.parse('2024-05-01T10:00:00.000Z');
  let seed = 0;
  const deps = { webhooks, clock: { now: () => new Date((time += 1000)) }, randomBytes: (size: number) => new Uint8Array(size).fill(++seed), maxAttemptsAllowed: 8 };
  return { webhooks, deps };
};

const right = <A>(result: E.Either<unknown, A>): A => {
  if (E.isLeft(result)) throw new Error(`expected success, got ${JSON.stringify(result.left)}`);
  return result.right;
};
const detailsOf = (result: E.Either<AppError, unknown>): readonly string[] | undefined => (E.isLeft(result) && result.left.kind === 'Invalid' ? result.left.details : undefined);

const body = { url: 'https://receiver.example/hook', subscriptions: ['ping'], attributes: { name: 'wh1' } };
const controls = { rateLimitPerSecond: 20, maxAttempts: 3, format: 'cloudevents', timeoutMs: 5000 } as const;

describe('per-endpoint controls in the registry', () => {
  it("create stores every control; without them the webhook has none (today's defaults)", async () => {
    const { webhooks, deps } = setup();
    const limited = right(await createWebhook(deps)({ ...body, ...controls })());
    expect(webhooks.rows.get(limited.id)).toMatchObject(controls);
    const plain = right(await createWebhook(deps)(body)());
    for (const field of ['rateLimitPerSecond', 'maxAttempts', 'format', 'timeoutMs']) expect(plain).not.toHaveProperty(field);
  });

  it.each([
    [{ rateLimitPerSecond: 0 }, 'rateLimitPerSecond: must be a rate in whole deliveries per second from 1 to 1000'],
    [{ rateLimitPerSecond: 2.5 }, 'rateLimitPerSecond: must be a rate in whole deliveries per second from 1 to 1000'],
    [{ rateLimitPerSecond: '20' }, 'rateLimitPerSecond: must be a rate in whole deliveries per second from 1 to 1000'],
    [{ maxAttempts: 0 }, "maxAttempts: must be a whole number of attempts from 1 to the retry schedule's attempts (RETRY_SCHEDULE_SECONDS delays + 1; never more than 51)"],
    [{ maxAttempts: 9 }, "maxAttempts: must be a whole number of attempts from 1 to 8 (the retry schedule's attempts)"],
    [{ format: 'json' }, 'format: must be one of pagopa, standard, cloudevents'],
    [{ timeoutMs: 10 }, 'timeoutMs: must be a timeout in whole milliseconds from 1000 to 30000'],
  ])('create refuses %j naming the field and the allowed values, storing nothing', async (bad, detail) => {
    const { webhooks, deps } = setup();
    const result = await createWebhook(deps)({ ...body, ...bad })();
    expect(E.isLeft(result) && result.left.kind).toBe('Invalid');
    expect(detailsOf(result)).toEqual([detail]);
    expect(webhooks.rows.size).toBe(0);
  });

  it('PATCH sets one control and keeps the others; null goes back to the default; a bad value changes nothing', async () => {
    const { webhooks, deps } = setup();
    const created = right(await createWebhook(deps)({ ...body, ...controls })());
    const patched = right(await patchWebhook(deps)({ id: created.id, body: { rateLimitPerSecond: 5, format: null } })());
    expect(patched).toMatchObject({ rateLimitPerSecond: 5, maxAttempts: 3, timeoutMs: 5000 });
    expect(patched).not.toHaveProperty('format');
    const refused = await patchWebhook(deps)({ id: created.id, body: { maxAttempts: 9 } })();
    expect(detailsOf(refused)).toEqual(["maxAttempts: must be a whole number of attempts from 1 to 8 (the retry schedule's attempts)"]);
    expect(webhooks.rows.get(created.id)).toEqual(patched);
  });

  it('PUT without the controls resets them (PUT replaces), and with them sets them', async () => {
    const { deps } = setup();
    const created = right(await createWebhook(deps)({ ...body, ...controls })());
    const replaced = right(await replaceWebhook(deps)({ id: created.id, body })());
    for (const field of ['rateLimitPerSecond', 'maxAttempts', 'format', 'timeoutMs']) expect(replaced).not.toHaveProperty(field);
    const again = right(await replaceWebhook(deps)({ id: created.id, body: { ...body, format: 'standard' } })());
    expect(again.format).toBe('standard');
  });
});
