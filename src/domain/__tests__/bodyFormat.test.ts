import { CloudEvent, HTTP } from 'cloudevents';
import { Webhook as Receiver } from 'standardwebhooks';
import { aWebhook } from './fixtures';
import { CLOUDEVENTS_SOURCE, formatBody } from '../bodyFormat';
import { BODY_FORMATS, type BodyFormat } from '../endpointControls';
import { signedRequest } from '../../usecases/deliverMessage';

/*
 * The three body formats as receivers read them: the cloudevents SDK's HTTP binding takes our
 * request unchanged, and the standardwebhooks package verifies the signature over the bytes sent,
 * whatever the format.
 */

const AT = new Date('2026-12-05T10:00:00.123Z');
const DELIVERY_ID = 'msg_0123456789abcdef0123456789abcdef';
const BODY = { name: 'service:subscribed', payload: { fiscalCode: 'AAABBB00A00A000B' } };

const requestFor = (format: BodyFormat | undefined) => {
  const webhook = aWebhook(format === undefined ? {} : { format });
  return { webhook, request: signedRequest({ webhook, deliveryId: DELIVERY_ID, body: BODY, at: AT }) };
};

describe('body formats', () => {
  it('pagopa (and no format) is the body of today, as application/json', () => {
    for (const format of [undefined, 'pagopa'] as const) {
      const { request } = requestFor(format);
      expect(request.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request.body)).toEqual(BODY);
    }
  });

  it('standard is the Standard Webhooks recommended {type, timestamp, data}', () => {
    const { request } = requestFor('standard');
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({ type: 'service:subscribed', timestamp: AT.toISOString(), data: BODY.payload });
  });

  it('cloudevents: the SDK HTTP binding reads a structured-mode CloudEvents 1.0 event with our id, type, source, time and data', () => {
    const { request } = requestFor('cloudevents');
    expect(request.headers['content-type']).toBe('application/cloudevents+json');
    expect(HTTP.isEvent({ headers: request.headers, body: request.body })).toBe(true);
    const event = HTTP.toEvent({ headers: request.headers, body: request.body }) as CloudEvent<unknown>;
    expect(event.specversion).toBe('1.0');
    expect(event.id).toBe(request.headers['webhook-id']);
    expect(event.id).toBe(DELIVERY_ID);
    expect(event.type).toBe('service:subscribed');
    expect(event.source).toBe(CLOUDEVENTS_SOURCE);
    expect(event.time).toBe(AT.toISOString());
    expect(event.datacontenttype).toBe('application/json');
    expect(event.data).toEqual(BODY.payload);
    // The SDK's own validation (required attributes, formats) passes.
    expect(event.validate()).toBe(true);
  });

  it.each(BODY_FORMATS)('%s: signed the Standard Webhooks way over the exact bytes sent (standardwebhooks verifies)', (format) => {
    // standardwebhooks checks the timestamp against its own clock: this request is signed now.
    const webhook = aWebhook({ format });
    const request = signedRequest({ webhook, deliveryId: DELIVERY_ID, body: BODY, at: new Date() });
    const receiver = new Receiver(webhook.secret.slice('whsec_'.length));
    const headers = {
      'webhook-id': request.headers['webhook-id'] ?? '',
      'webhook-timestamp': request.headers['webhook-timestamp'] ?? '',
      'webhook-signature': request.headers['webhook-signature'] ?? '',
    };
    expect(receiver.verify(request.body, headers)).toEqual(JSON.parse(request.body));
    // One byte more and it fails: the signature covers these bytes.
    expect(() => receiver.verify(`${request.body} `, headers)).toThrow();
  });

  it('a body that is not {name, payload} goes unchanged whatever the format', () => {
    expect(formatBody({ format: 'cloudevents', deliveryId: DELIVERY_ID, body: [1, 2], at: AT })).toEqual({ contentType: 'application/json', text: '[1,2]' });
  });
});
