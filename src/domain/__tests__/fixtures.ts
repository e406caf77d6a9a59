import type { Webhook, WebhookWithoutSecrets } from '../webhook';
import { keyring } from '../secretBox';

let counter = 0;

/** A valid webhook; ids increase so that sorting is stable. */
export const aWebhook = (overrides: Partial<Webhook> = {}): Webhook =>
  ({
    id: `01HZZZZZZZZZZZZZZZZZZZ${String(counter++).padStart(4, '0')}`,
    url: 'https://receiver.example/hook',
    subscriptions: ['*'],
    attributes: {},
    headers: {},
    disabled: false,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...overrides,
  }) as Webhook;

export const FISCAL_CODE = 'AAABBB00A00A000B';

/** A SECRETS_KEY for tests (never an example key): 32 bytes of 0x01, id `test`; as a setting, TEST_SECRETS_KEY. */
export const testKeyring = keyring({ id: 'test', key: Buffer.alloc(32, 1) });
export const TEST_SECRETS_KEY = `test:${Buffer.alloc(32, 1).toString('base64')}`;

/** A webhook as the fan-out's index rows hold it: without its secrets. */
export const withoutSecrets = ({ secret: _secret, previousSecrets: _previous, ...rest }: Webhook): WebhookWithoutSecrets => rest;
