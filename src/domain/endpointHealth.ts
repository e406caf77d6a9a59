import * as t from 'io-ts';
import { IsoTimestamp } from './codecs';
import type { Webhook } from './webhook';

/*
 * Auto-disable of dead endpoints (docs/delivery.md, "Endpoint health"). The state lives on the
 * webhook row and is written only when it changes: a streak starts at a first failure and ends at a
 * success (both rare), its count is kept exact up to the minimum and then refreshed at most once
 * per COUNT_REFRESH_SECONDS, so a dead endpoint costs a bounded number of writes, never a scan.
 */

/** Why the dispatcher disabled a webhook; absent when a person did (or nobody did). */
export const DisabledReason = t.union([t.type({ kind: t.literal('FailingSince'), since: IsoTimestamp, failures: t.number }), t.type({ kind: t.literal('Gone') })], 'DisabledReason');
export type DisabledReason = t.TypeOf<typeof DisabledReason>;

/** The current streak of failed attempts: since its first failure, and how many were counted. */
export const FailingStreak = t.type({ since: IsoTimestamp, failures: t.number, countedAt: IsoTimestamp }, 'FailingStreak');
export type FailingStreak = t.TypeOf<typeof FailingStreak>;

/** AUTO_DISABLE_AFTER_SECONDS (0 = never) and AUTO_DISABLE_MIN_FAILURES. */
export type AutoDisablePolicy = { readonly afterSeconds: number; readonly minFailures: number };

/** Past the minimum, the stored count is refreshed at most this often (it only feeds `failures`). */
export const COUNT_REFRESH_SECONDS = 3600;

/** What one message's attempts to one webhook came to. */
export type HealthObservation = { readonly succeeded: boolean; readonly failures: number; readonly firstFailureAt?: string };

export type HealthChange = { readonly kind: 'Recovered' } | { readonly kind: 'Failing'; readonly streak: FailingStreak } | { readonly kind: 'Disable'; readonly reason: DisabledReason };

/** The change to store, or undefined when the row may stay as it is (the common case). */
export const healthChange = (input: {
  readonly current: Pick<Webhook, 'failing' | 'disabled'>;
  readonly observed: HealthObservation;
  readonly now: Date;
  readonly policy: AutoDisablePolicy;
}): HealthChange | undefined => {
  const { current, observed, now, policy } = input;
  if (policy.afterSeconds === 0 || current.disabled) return undefined;
  if (observed.succeeded) return current.failing === undefined ? undefined : { kind: 'Recovered' };
  if (observed.failures === 0) return undefined;
  const at = now.toISOString();
  const streak = current.failing;
  if (streak === undefined) {
    const started: FailingStreak = { since: observed.firstFailureAt ?? at, failures: observed.failures, countedAt: at };
    return longEnough(started, now, policy) ? { kind: 'Disable', reason: { kind: 'FailingSince', since: started.since, failures: started.failures } } : { kind: 'Failing', streak: started };
  }
  const next: FailingStreak = { since: streak.since, failures: streak.failures + observed.failures, countedAt: at };
  if (longEnough(next, now, policy)) return { kind: 'Disable', reason: { kind: 'FailingSince', since: next.since, failures: next.failures } };
  const stale = now.getTime() - Date.parse(streak.countedAt) >= COUNT_REFRESH_SECONDS * 1000;
  return streak.failures < policy.minFailures || stale ? { kind: 'Failing', streak: next } : undefined;
};

const longEnough = (streak: FailingStreak, now: Date, policy: AutoDisablePolicy): boolean =>
  streak.failures >= policy.minFailures && now.getTime() - Date.parse(streak.since) >= policy.afterSeconds * 1000;

/** The webhook after a change; `updatedAt` stays: it records the owner's writes. */
export const applyHealthChange = (webhook: Webhook, change: HealthChange): Webhook => {
  const { failing: _failing, disabledReason: _reason, ...rest } = webhook;
  switch (change.kind) {
    case 'Recovered':
      return rest as Webhook;
    case 'Failing':
      return { ...rest, failing: change.streak } as Webhook;
    case 'Disable':
      return { ...rest, disabled: true, disabledReason: change.reason } as Webhook;
  }
};

/**
 * After an owner's write: a reason stays only while the webhook stays disabled, and re-enabling
 * (or disabling by hand) starts without a streak.
 */
export const afterOwnerWrite = (previous: Webhook, next: Webhook): Webhook => {
  const { failing, disabledReason, ...rest } = next;
  const keepReason = previous.disabled && next.disabled && disabledReason !== undefined;
  const keepStreak = previous.disabled === next.disabled && failing !== undefined;
  return { ...rest, ...(keepReason ? { disabledReason } : {}), ...(keepStreak ? { failing } : {}) } as Webhook;
};
