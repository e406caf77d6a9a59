import * as t from 'io-ts';
import { PUBLIC_EVENT_NAMES, PUBLIC_EVENTS, type PublicEventName } from '../domain/catalogue';
import { DeliveryExhaustedPayload, type OpsEvent, type OpsEventName, ReplayCompletedPayload, WebhookDisabledPayload } from '../domain/opsEvents';
import { ANNOTATIONS } from './annotations';
import { type JsonSchema, toJsonSchema } from './jsonSchema';

/*
 * The bodies receivers get, as codecs: GET /api/event-types and the OpenAPI document's `webhooks`
 * section are generated from them, and the e2e tests decode real deliveries with them.
 */

/**
 * A public event as delivered: the event's payload without the fields that are the webhook's own
 * attributes (or outside its projection), so every payload field is optional here.
 */
export const deliveredBody = (name: PublicEventName) => {
  const payload = PUBLIC_EVENTS[name].payload as unknown as t.ExactC<t.TypeC<t.Props> | t.IntersectionC<[t.TypeC<t.Props>, t.PartialC<t.Props>]>>;
  const props = 'types' in payload.type ? { ...payload.type.types[0].props, ...payload.type.types[1].props } : payload.type.props;
  return t.type({ name: t.literal(name), payload: t.exact(t.partial(props)) }, `Delivered ${name}`);
};

/** The test send (POST /api/webhooks/{id}/test): the same body shape, no payload. */
export const TestBody = t.type({ name: t.literal('webhook.test'), payload: t.exact(t.type({})) }, 'Delivered webhook.test');

const opsBody = <N extends OpsEventName, P extends t.Mixed>(name: N, payload: P) => t.type({ name: t.literal(name), payload }, `Operational ${name}`);
export const OPS_BODIES = {
  'webhook.disabled': opsBody('webhook.disabled', WebhookDisabledPayload),
  'delivery.exhausted': opsBody('delivery.exhausted', DeliveryExhaustedPayload),
  'replay.completed': opsBody('replay.completed', ReplayCompletedPayload),
} as const;

const WEBHOOK_ID = '01J0Z7X3V1F6Q8R2T4W6Y8A0C3';
const AT = '2025-01-15T10:30:00.000Z';

const PUBLIC_EXAMPLES: Record<PublicEventName, unknown> = {
  ping: { name: 'ping', payload: {} },
  'service:subscribed': { name: 'service:subscribed', payload: { fiscalCode: 'AAABBB00A00A000B' } },
};
const PUBLIC_DESCRIPTIONS: Record<PublicEventName, string> = {
  ping: 'A ping to the webhook named by the attribute `name` (sent by `ping:all` to every named webhook).',
  'service:subscribed': 'A citizen subscribed to the service of the webhook attribute `serviceId`.',
};

const OPS_EXAMPLES: Record<OpsEventName, OpsEvent> = {
  'webhook.disabled': { name: 'webhook.disabled', payload: { webhookId: WEBHOOK_ID, reason: { kind: 'FailingSince', since: '2025-01-10T10:30:00.000Z', failures: 42 }, at: AT } },
  'delivery.exhausted': {
    name: 'delivery.exhausted',
    payload: {
      webhookId: WEBHOOK_ID,
      eventId: '01J0Z7X3V1F6Q8R2T4W6Y8A0C2',
      deliveryId: 'msg_3f1c9a0e5b7d4c2a8e6f1b3d5a7c9e0f',
      attempts: 8,
      reason: { kind: 'AttemptsExhausted', attempts: 8 },
      at: AT,
    },
  },
  'replay.completed': {
    name: 'replay.completed',
    payload: { webhookId: WEBHOOK_ID, replayId: 'rpl_01J0Z7X3V1F6Q8R2T4W6Y8A0C5', status: 'Completed', deliveries: 17, since: '2025-01-14T00:00:00.000Z', until: AT, only: 'failed', at: AT },
  },
};
const OPS_DESCRIPTIONS: Record<OpsEventName, string> = {
  'webhook.disabled': 'The dispatcher disabled a webhook: its receiver answered 410 Gone, or failed every attempt for AUTO_DISABLE_AFTER_SECONDS.',
  'delivery.exhausted': 'A delivery went to the poison queue; the reason, never the payload.',
  'replay.completed': 'A replay (POST /api/webhooks/{id}/replay) finished.',
};

export const EventType = t.type(
  {
    name: t.string,
    /** `webhooks`: delivered to subscribed webhooks; `ops`: sent to OPS_WEBHOOK_URL; `test`: the test send. */
    audience: t.keyof({ webhooks: null, ops: null, test: null }),
    description: t.string,
    schema: t.record(t.string, t.unknown),
    example: t.unknown,
  },
  'EventType',
);
export type EventType = t.TypeOf<typeof EventType>;
export const EventTypeList = t.type({ items: t.array(EventType) }, 'EventTypeList');

const schemaOf = (codec: t.Mixed): JsonSchema => toJsonSchema(codec, ANNOTATIONS);

let cached: EventType[] | undefined;

/** Every body the dispatcher sends, with its JSON Schema (2020-12) and an example. */
export const eventTypes = (): EventType[] =>
  (cached ??= [
    ...PUBLIC_EVENT_NAMES.map((name): EventType => ({ name, audience: 'webhooks', description: PUBLIC_DESCRIPTIONS[name], schema: schemaOf(deliveredBody(name)), example: PUBLIC_EXAMPLES[name] })),
    {
      name: 'webhook.test',
      audience: 'test',
      description: 'The test send (POST /api/webhooks/{id}/test): to that webhook only, whatever its attributes.',
      schema: schemaOf(TestBody),
      example: { name: 'webhook.test', payload: {} },
    },
    ...(Object.keys(OPS_BODIES) as OpsEventName[]).map((name): EventType => ({
      name,
      audience: 'ops',
      description: OPS_DESCRIPTIONS[name],
      schema: schemaOf(OPS_BODIES[name]),
      example: OPS_EXAMPLES[name],
    })),
  ]);

/** The OpenAPI 3.1 `webhooks` section: one POST per body the dispatcher sends, signed the Standard Webhooks way. */
export const openApiWebhooks = (): JsonSchema =>
  Object.fromEntries(
    eventTypes().map((e) => [
      e.name,
      {
        post: {
          summary: e.description,
          operationId: `receive-${e.name.replace(/[^A-Za-z0-9]+/g, '-')}`,
          parameters: ['webhook-id', 'webhook-timestamp', 'webhook-signature'].map((name) => ({ name, in: 'header', required: true, schema: { type: 'string' } })),
          requestBody: { required: true, content: { 'application/json': { schema: e.schema, examples: { example: { value: e.example } } } } },
          responses: { '2XX': { description: 'Received; any other answer is retried (410 disables the webhook)' } },
        },
      },
    ]),
  );
