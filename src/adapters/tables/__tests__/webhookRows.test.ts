import * as E from 'fp-ts/Either';
import { aWebhook, testKeyring } from '../../../domain/__tests__/fixtures';
import { keyring } from '../../../domain/secretBox';
import { fromMainRow, rowsOf, SECRET_COLUMNS, secretsOfMainRow } from '../webhookRows';

/*
 * The secrets-only reading of a main row (the whole-registry preload of the worker's secret cache):
 * it must open and check the secrets exactly as the full reading does, from the columns it selects.
 */

const selected = (row: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(SECRET_COLUMNS.flatMap((c) => (c in row ? [[c, row[c]]] : [])));

describe('secretsOfMainRow', () => {
  const rotated = aWebhook({ previousSecrets: [{ secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' as never, expiresAt: '2030-01-01T00:00:00.000Z' as never }] });

  it('reads from the selected columns the same secrets and version as the whole row gives', () => {
    for (const webhook of [aWebhook(), rotated]) {
      const row = rowsOf(testKeyring, webhook).main();
      const whole = fromMainRow(testKeyring)(row);
      if (E.isLeft(whole)) throw new Error('the whole row did not read');
      expect(secretsOfMainRow(testKeyring)(selected(row))).toEqual(
        E.right({
          id: webhook.id,
          version: whole.right.secretVersion,
          secrets: { secret: whole.right.secret, ...(whole.right.previousSecrets ? { previousSecrets: whole.right.previousSecrets } : {}) },
        }),
      );
    }
  });

  it('fails, saying so, on a secret the keys cannot open, and on one that is not a signing secret', () => {
    const row = selected(rowsOf(testKeyring, aWebhook()).main());
    const otherKeys = keyring({ id: 'other', key: Buffer.alloc(32, 7) });
    const unopened = secretsOfMainRow(otherKeys)(row);
    expect(E.isLeft(unopened) && unopened.left.secretUnopened).toBe(true);
    const plainButWrong = secretsOfMainRow(testKeyring)({ ...row, secret: 'not-a-secret' });
    expect(E.isLeft(plainButWrong) && plainButWrong.left.secretUnopened).toBe(false);
    expect(E.isLeft(secretsOfMainRow(testKeyring)({ secret: 'whsec_x' }))).toBe(true);
  });

  it('reads a secret stored before encryption as it is', () => {
    const webhook = aWebhook();
    expect(secretsOfMainRow(testKeyring)({ webhookId: webhook.id, secret: webhook.secret })).toEqual(E.right({ id: webhook.id, version: '', secrets: { secret: webhook.secret } }));
  });
});
