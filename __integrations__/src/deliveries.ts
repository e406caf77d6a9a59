import { Webhook as StandardWebhook } from 'standardwebhooks';
import type { Arrival } from './receiver';

/*
 * What a receiver got, read the way an integrated project reads it: requests grouped into deliveries
 * by `webhook-id` (stable across retries), each request checked against the delivery contract.
 */

export type DeliveredBody = { readonly name: string; readonly payload: unknown };

/** One delivery: every attempt that carried the same `webhook-id`. */
export type Delivery = { readonly webhookId: string; readonly attempts: readonly Arrival[]; readonly body: DeliveredBody | undefined };

/** JSON with sorted keys: two bodies are the same delivery content when these strings are equal. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
};

const parseBody = (text: string): DeliveredBody | undefined => {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const record = parsed as Record<string, unknown>;
    return typeof record.name === 'string' && 'payload' in record ? { name: record.name, payload: record.payload } : undefined;
  } catch {
    return undefined;
  }
};

export const groupDeliveries = (arrivals: readonly Arrival[]): Delivery[] => {
  const byId = new Map<string, Arrival[]>();
  for (const arrival of [...arrivals].sort((a, b) => a.index - b.index)) {
    const id = arrival.headers['webhook-id'] ?? '(no webhook-id)';
    byId.set(id, [...(byId.get(id) ?? []), arrival]);
  }
  return [...byId.entries()].map(([webhookId, attempts]) => ({ webhookId, attempts, body: parseBody(attempts[0]?.body ?? '') }));
};

/** Verifies a request's Standard Webhooks signature with the library integrated projects use. */
export const signatureProblem = (arrival: Arrival, secret: string): string | undefined => {
  try {
    new StandardWebhook(secret).verify(arrival.body, arrival.headers);
    return undefined;
  } catch (e) {
    return `signature does not verify with the webhook's secret: ${(e as Error).message}`;
  }
};

/**
 * Everything wrong with one request against the delivery contract (DESIGN.md section 5): a POST of
 * a JSON `{"name","payload"}` body, signed with this webhook's secret, carrying its custom headers.
 */
export const arrivalProblems = (arrival: Arrival, webhook: { readonly secret: string; readonly headers: Readonly<Record<string, string>> }): string[] => {
  const problems: string[] = [];
  if (arrival.method !== 'POST') problems.push(`method is ${arrival.method}, expected POST`);
  if (!/^application\/json\b/i.test(arrival.headers['content-type'] ?? '')) problems.push(`content-type is ${JSON.stringify(arrival.headers['content-type'])}, expected application/json`);
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) if (arrival.headers[name] === undefined) problems.push(`header ${name} is missing`);
  if (!/^[0-9]+$/.test(arrival.headers['webhook-timestamp'] ?? '')) problems.push(`webhook-timestamp ${JSON.stringify(arrival.headers['webhook-timestamp'])} is not whole seconds`);
  const signature = signatureProblem(arrival, webhook.secret);
  if (signature !== undefined) problems.push(signature);
  for (const [name, value] of Object.entries(webhook.headers)) {
    const got = arrival.headers[name.toLowerCase()];
    if (got !== value) problems.push(`custom header ${name} is ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
  }
  if (parseBody(arrival.body) === undefined) problems.push(`body is not a JSON {"name","payload"} object: ${arrival.body.slice(0, 300)}`);
  return problems;
};

/** Problems across the attempts of one delivery: a retry must carry the very same body. */
export const deliveryProblems = (delivery: Delivery): string[] => {
  const first = delivery.attempts[0]?.body;
  return delivery.attempts.some((a) => a.body !== first) ? [`webhook-id ${delivery.webhookId}: the attempts carried different bodies`] : [];
};
