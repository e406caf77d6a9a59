import * as E from 'fp-ts/Either';
import { PUBLIC_EVENT_NAMES } from '../catalogue';
import { deliveriesFor, matches } from '../mapping';
import { hashKey, mayAccess, sameHash, tenantKey, type TenantId } from '../tenant';
import { coversEvent, isActive, signingSecrets, Subscription, type WebhookSecret } from '../webhook';
import { aWebhook, FISCAL_CODE } from './fixtures';

describe('subscription patterns', () => {
  it('decode: names, patterns and * pass; non-public names and malformed patterns do not', () => {
    for (const ok of ['ping', 'service:subscribed', 'service:*', 'a:b:*', '*']) expect(E.isRight(Subscription.decode(ok))).toBe(true);
    for (const bad of ['ping:all', 'service*', ':*', 'Service:*', 'service:**', 'a:*:b', 'service:', '**']) expect(E.isRight(Subscription.decode(bad))).toBe(false);
  });

  it('cover events by prefix of whole segments', () => {
    expect(coversEvent('service:*' as Subscription, 'service:subscribed')).toBe(true);
    expect(coversEvent('service:*' as Subscription, 'services:x')).toBe(false);
    expect(coversEvent('service:*' as Subscription, 'ping')).toBe(false);
    expect(coversEvent('*', 'ping')).toBe(true);
    expect(coversEvent('a:*' as Subscription, 'a:b:c')).toBe(true);
    expect(coversEvent('a:b:*' as Subscription, 'a:c')).toBe(false);
  });

  it('a pattern subscriber matches the events under it', () => {
    const webhook = aWebhook({ subscriptions: ['service:*' as Subscription], attributes: { serviceId: 's1' } });
    expect(matches('service:subscribed', { serviceId: 's1', fiscalCode: FISCAL_CODE }, webhook)).toBe(true);
    expect(matches('ping', { name: 'x' }, { ...webhook, attributes: { name: 'x' } })).toBe(false);
    expect(PUBLIC_EVENT_NAMES.filter((n) => coversEvent('service:*' as Subscription, n))).toEqual(['service:subscribed']);
  });
});

describe('payload projection', () => {
  const plan = { publicEventName: 'service:subscribed' as const, basePayload: { fiscalCode: FISCAL_CODE }, fromAttributes: ['serviceId'] };
  it('without fields: the payload minus attributes; with fields: only the listed ones', () => {
    const plain = aWebhook({ attributes: { serviceId: 's1' } });
    const listed = aWebhook({ attributes: { serviceId: 's1' }, fields: ['fiscalCode'] });
    const other = aWebhook({ attributes: { serviceId: 's1' }, fields: ['somethingElse'] });
    expect(deliveriesFor(plan, [plain, listed, other]).map((d) => d.body.payload)).toEqual([{ fiscalCode: FISCAL_CODE }, { fiscalCode: FISCAL_CODE }, {}]);
  });
});

describe('leases, verification, rotation overlap', () => {
  const now = new Date('2024-05-01T10:00:00.000Z');
  it('a webhook is active unless disabled, unverified or past its lease', () => {
    expect(isActive(aWebhook(), now)).toBe(true);
    expect(isActive(aWebhook({ expiresAt: '2024-05-01T10:00:01.000Z' }), now)).toBe(true);
    expect(isActive(aWebhook({ expiresAt: '2024-05-01T10:00:00.000Z' }), now)).toBe(false);
    expect(isActive(aWebhook({ verified: false }), now)).toBe(false);
    expect(isActive(aWebhook({ verified: true }), now)).toBe(true);
    expect(isActive(aWebhook({ disabled: true }), now)).toBe(false);
    expect(matches('ping', { name: 'n' }, aWebhook({ attributes: { name: 'n' }, verified: false }))).toBe(false);
  });

  it('signs with the current secret and the previous ones still in their overlap', () => {
    const old = 'whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xk' as WebhookSecret;
    const older = 'whsec_b2xkZXJvbGRlcm9sZGVyb2xkZXJvbGRlcm9s' as WebhookSecret;
    const webhook = aWebhook({
      previousSecrets: [
        { secret: old, expiresAt: '2024-05-01T10:05:00.000Z' },
        { secret: older, expiresAt: '2024-05-01T09:00:00.000Z' },
      ],
    });
    expect(signingSecrets(webhook, now)).toEqual([webhook.secret, old]);
    expect(signingSecrets(webhook, new Date('2024-05-01T10:05:00.000Z'))).toEqual([webhook.secret]);
  });
});

describe('tenant keys', () => {
  it('are long random strings; storage keeps only their SHA-256', () => {
    const key = tenantKey(new Uint8Array(32).fill(7));
    expect(key).toMatch(/^whtk_[A-Za-z0-9_-]{43}$/);
    expect(hashKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashKey(key)).not.toContain(key.slice(5));
    expect(() => tenantKey(new Uint8Array(8))).toThrow();
    expect(sameHash(hashKey(key), hashKey(key))).toBe(true);
    expect(sameHash(hashKey(key), hashKey(`${key}x`))).toBe(false);
  });

  it('the admin may access everything; a tenant only its own', () => {
    const a = 'AAAAAAAAAAAAAAAAAAAAAAAAAA' as TenantId;
    expect(mayAccess({ kind: 'Admin' }, undefined)).toBe(true);
    expect(mayAccess({ kind: 'Admin' }, a)).toBe(true);
    expect(mayAccess({ kind: 'Tenant', tenantId: a }, a)).toBe(true);
    expect(mayAccess({ kind: 'Tenant', tenantId: a }, undefined)).toBe(false);
    expect(mayAccess({ kind: 'Tenant', tenantId: a }, 'BBBBBBBBBBBBBBBBBBBBBBBBBB')).toBe(false);
  });
});
