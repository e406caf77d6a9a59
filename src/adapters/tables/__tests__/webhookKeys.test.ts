import * as E from 'fp-ts/Either';
import { aWebhook } from '../../../domain/__tests__/fixtures';
import { DeliveryMessage, type LookupHint } from '../../../domain/delivery';
import { indexKeys, lookupHintOf, mainKey, rangeOfHint } from '../webhookKeys';

/*
 * The key grammar is the stored data's shape: rows written by earlier deploys must still be found,
 * and a message's hint, made here, must be read back here, from messages of both shapes.
 */

const ID = '01J0000000000000000000WHK1';
const keyA = `sub|ping|a|${ID}`;
const keyB = 'sub|ping|b|01J0000000000000000000WHK2';
const keyC = 'sub|ping|c|01J0000000000000000000WHK3';

describe('webhook keys', () => {
  it('keep the grammar rows were written with', () => {
    expect(mainKey(ID)).toBe(`webhook|${ID}`);
    const webhook = aWebhook({ id: ID as never, subscriptions: ['*'], attributes: { name: 'wh 1/x', serviceId: 'svc' } });
    expect(indexKeys(webhook, ['ping', 'service:subscribed'])).toEqual([`sub|ping|wh%201%2Fx|${ID}`, `sub|service:subscribed|svc|${ID}`]);
    expect(indexKeys({ ...webhook, disabled: true }, ['ping'])).toEqual([]);
  });

  it('a lookup hint stands for the range from the first to the last key given, in any order', () => {
    expect(rangeOfHint(lookupHintOf([keyC, keyA, keyB]))).toEqual({ from: keyA, to: keyC });
    expect(lookupHintOf([keyA])).toBeUndefined();
  });

  it('a message enqueued before the hint was opaque (lookupRange) reads as the same range', () => {
    const legacy = DeliveryMessage.decode({ v: 1, eventId: '01J0000000000000000000EVNT', items: [], lookupRange: { from: keyA, to: keyC } });
    expect(E.isRight(legacy)).toBe(true);
    const hint = E.isRight(legacy) ? legacy.right.lookupHint : undefined;
    expect(rangeOfHint(hint)).toEqual({ from: keyA, to: keyC });
    expect(hint).toBe(lookupHintOf([keyA, keyC]));
    // A message of the new shape keeps its own hint, even beside a stray old field.
    const both = DeliveryMessage.decode({ v: 1, eventId: '01J0000000000000000000EVNT', items: [], lookupHint: 'mine', lookupRange: { from: keyA, to: keyC } });
    expect(E.isRight(both) && both.right.lookupHint).toBe('mine');
  });

  it.each([
    ['not JSON', 'sub|ping|a'],
    ['not a range', '{"from":1}'],
    ['main rows', JSON.stringify({ from: 'webhook|', to: 'webhook}' })],
    ['two events', JSON.stringify({ from: keyA, to: 'sub|service:subscribed|x|1' })],
    ['a reversed range', JSON.stringify({ from: keyC, to: keyA })],
  ])('a hint that is %s gives no range (read by id instead)', (_name, text) => {
    expect(rangeOfHint(text as LookupHint)).toBeUndefined();
  });
});
