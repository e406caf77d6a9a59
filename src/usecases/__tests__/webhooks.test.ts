import * as E from 'fp-ts/Either';
import { memoryWebhookStore } from '../../adapters/__tests__/memory/memoryWebhookStore';
import type { Webhook } from '../../domain/webhook';
import { createWebhook } from '../createWebhook';
import { deleteWebhook } from '../deleteWebhook';
import { getWebhook } from '../getWebhook';
import { listWebhooks } from '../listWebhooks';
import { patchWebhook } from '../patchWebhook';
import { replaceWebhook } from '../replaceWebhook';

const setup = () => {
  const webhooks = memoryWebhookStore();
  let time = Date.parse('2024-05-01T10:00:00.000Z');
  let seed = 0;
  const deps = {
    webhooks,
    clock: { now: () => new Date((time += 1000)) },
    randomBytes: (size: number) => new Uint8Array(size).fill(++seed),
  };
  return { webhooks, deps };
};

const right = <A>(result: E.Either<unknown, A>): A => {
  if (E.isLeft(result)) throw new Error(`expected success, got ${JSON.stringify(result.left)}`);
  return result.right;
};

const body = { url: 'https://receiver.example/hook', subscriptions: ['ping', 'ping'], attributes: { name: 'wh1' }, headers: { Authorization: 'Bearer abc' } };

describe('webhook registry use cases', () => {
  it('create: fresh id and secret, defaults, repeated subscriptions folded, stored', async () => {
    const { webhooks, deps } = setup();
    const created = right(await createWebhook(deps)(body)());
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      url: body.url,
      subscriptions: ['ping'],
      attributes: { name: 'wh1' },
      headers: { Authorization: 'Bearer abc' },
      disabled: false,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      createdAt: '2024-05-01T10:00:01.000Z',
      updatedAt: '2024-05-01T10:00:01.000Z',
    });
    expect(Buffer.from(created.secret.slice(6), 'base64')).toHaveLength(32);
    expect(webhooks.rows.get(created.id)).toEqual(created);
  });

  it('create: an invalid body is Invalid and stores nothing', async () => {
    const { webhooks, deps } = setup();
    const result = await createWebhook(deps)({ url: 'http://u:p@x.example/', subscriptions: ['nope'] })();
    expect(E.isLeft(result) && result.left).toEqual({
      kind: 'Invalid',
      message: 'The webhook is invalid',
      details: [
        'url: must be an absolute http or https URL, without credentials or fragment, at most 2048 characters',
        'subscriptions.0: must be a public event name (ping, service:subscribed), a pattern such as service:*, *, or an alert (webhook.disabled, delivery.exhausted)',
      ],
    });
    expect(webhooks.rows.size).toBe(0);
  });

  it('get: found, unknown and malformed ids', async () => {
    const { webhooks, deps } = setup();
    const created = right(await createWebhook(deps)(body)());
    expect(right(await getWebhook(webhooks)(created.id)())).toEqual(created);
    expect(await getWebhook(webhooks)('01HZZZZZZZZZZZZZZZZZZZZZZZ')()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
    expect(await getWebhook(webhooks)('not-an-id')()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
  });

  it('replace: every field but id, secret and createdAt; omitted optional fields reset to defaults', async () => {
    const { deps } = setup();
    const created = right(await createWebhook(deps)(body)());
    const replaced = right(await replaceWebhook(deps)({ id: created.id, body: { url: 'https://other.example/', subscriptions: ['*'] } })());
    expect(replaced).toEqual({ ...created, url: 'https://other.example/', subscriptions: ['*'], attributes: {}, headers: {}, updatedAt: '2024-05-01T10:00:02.000Z' });
  });

  it('patch: merges, validates the result, and leaves the webhook alone when invalid', async () => {
    const { webhooks, deps } = setup();
    const created = right(await createWebhook(deps)(body)());
    const patched = right(await patchWebhook(deps)({ id: created.id, body: { disabled: true, attributes: { serviceId: 's1' } } })());
    expect(patched).toEqual({ ...created, disabled: true, attributes: { name: 'wh1', serviceId: 's1' }, updatedAt: '2024-05-01T10:00:02.000Z' });
    const tooMany = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`a${i}`, 'v']));
    const result = await patchWebhook(deps)({ id: created.id, body: { attributes: tooMany } })();
    expect(E.isLeft(result) && result.left).toEqual({ kind: 'Invalid', message: 'The patched webhook is invalid', details: ['attributes: must be an object of at most 16 string attributes'] });
    expect(webhooks.rows.get(created.id)).toEqual(patched);
  });

  it('replace/patch of an unknown webhook is NotFound', async () => {
    const { deps } = setup();
    expect(await replaceWebhook(deps)({ id: '01HZZZZZZZZZZZZZZZZZZZZZZZ', body })()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
    expect(await patchWebhook(deps)({ id: '01HZZZZZZZZZZZZZZZZZZZZZZZ', body: {} })()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
  });

  it('delete: gone afterwards; a second delete is NotFound', async () => {
    const { webhooks, deps } = setup();
    const created = right(await createWebhook(deps)(body)());
    expect(await deleteWebhook(webhooks)(created.id)()).toEqual(E.right(undefined));
    expect(await deleteWebhook(webhooks)(created.id)()).toEqual(E.left(expect.objectContaining({ kind: 'NotFound' })));
  });

  it('list: pages with a limit and a continuation token', async () => {
    const { webhooks, deps } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(right(await createWebhook(deps)(body)()).id);
    const first = right(await listWebhooks(webhooks)({ limit: 2 })());
    expect(first.items.map((w: Webhook) => w.id)).toEqual(ids.slice(0, 2));
    const second = right(await listWebhooks(webhooks)({ limit: 2, continuationToken: first.continuationToken })());
    const third = right(await listWebhooks(webhooks)({ limit: 2, continuationToken: second.continuationToken })());
    expect([...second.items, ...third.items].map((w) => w.id)).toEqual(ids.slice(2));
    expect(third.continuationToken).toBeUndefined();
  });

  it('passes a store failure on', async () => {
    const { webhooks, deps } = setup();
    webhooks.failWith = { kind: 'Transient', message: 'down' };
    expect(await createWebhook(deps)(body)()).toEqual(E.left({ kind: 'Transient', message: 'down' }));
  });
});
