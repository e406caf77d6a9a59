import type { BodyFormat } from './endpointControls';

/*
 * The bytes a delivery carries, per webhook `format` (docs/api.md, "Body formats"). Every format is
 * signed the same Standard Webhooks way over exactly these bytes; only the shape differs:
 * - pagopa (default): `{"name", "payload"}`, the body receivers have always had;
 * - standard: the Standard Webhooks recommended `{"type", "timestamp", "data"}`;
 * - cloudevents: a CloudEvents 1.0 structured-mode JSON event (application/cloudevents+json).
 */

/** CloudEvents `source` of every delivery: a fixed URN of this dispatcher, so it needs no setting and never changes with the host name. */
export const CLOUDEVENTS_SOURCE = 'urn:pagopa:webhook-dispatcher';
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';
export const JSON_CONTENT_TYPE = 'application/json';

export type FormattedBody = { readonly contentType: string; readonly text: string };

export type FormatInput = {
  readonly format: BodyFormat | undefined;
  /** The `webhook-id`: also the CloudEvents `id`, so both dedup keys agree. */
  readonly deliveryId: string;
  /** `{name, payload}` as the fan-out made it (a test send's `webhook.test` too). */
  readonly body: unknown;
  /** When this attempt is sent: `timestamp` / `time` (the message carries no event time). */
  readonly at: Date;
};

type Named = { readonly name: string; readonly payload: unknown };
const isNamed = (u: unknown): u is Named => typeof u === 'object' && u !== null && typeof (u as { name?: unknown }).name === 'string' && 'payload' in u;

const assertNever = (x: never): never => {
  throw new Error(`unknown body format: ${String(x)}`);
};

export const formatBody = ({ format, deliveryId, body, at }: FormatInput): FormattedBody => {
  // Anything but {name, payload} (never made by the fan-out) goes as it is.
  if (format === undefined || format === 'pagopa' || !isNamed(body)) return { contentType: JSON_CONTENT_TYPE, text: JSON.stringify(body) };
  switch (format) {
    case 'standard':
      return { contentType: JSON_CONTENT_TYPE, text: JSON.stringify({ type: body.name, timestamp: at.toISOString(), data: body.payload }) };
    case 'cloudevents':
      return {
        contentType: CLOUDEVENTS_CONTENT_TYPE,
        text: JSON.stringify({
          specversion: '1.0',
          id: deliveryId,
          source: CLOUDEVENTS_SOURCE,
          type: body.name,
          time: at.toISOString(),
          datacontenttype: JSON_CONTENT_TYPE,
          data: body.payload,
        }),
      };
    default:
      return assertNever(format);
  }
};
