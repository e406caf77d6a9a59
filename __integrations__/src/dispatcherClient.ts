import * as E from 'fp-ts/Either';
import * as t from 'io-ts';

/*
 * The dispatcher as an outside client sees it: the wire contracts of DESIGN.md section 5 and
 * nothing else. Every answer is decoded; an unexpected status fails with the body, for diagnosis.
 */

const StringRecord = t.record(t.string, t.string);

/** A webhook as the registry shows it (GET, PATCH, PUT); extra fields are allowed. Header values are write-only: only their names come back. */
export const WebhookView = t.type({ id: t.string, url: t.string, subscriptions: t.array(t.string), attributes: StringRecord, headerNames: t.array(t.string), disabled: t.boolean }, 'WebhookView');
export type WebhookView = t.TypeOf<typeof WebhookView>;

/** The create answer: the only one holding the signing secret. */
export const RegisteredWebhook = t.intersection([WebhookView, t.type({ secret: t.string })], 'RegisteredWebhook');
export type RegisteredWebhook = t.TypeOf<typeof RegisteredWebhook>;

export const AcceptedEvent = t.type({ id: t.string }, 'AcceptedEvent');
export type AcceptedEvent = t.TypeOf<typeof AcceptedEvent>;

export type WebhookInput = {
  url: string;
  subscriptions: readonly string[];
  attributes?: Readonly<Record<string, string>>;
  headers?: Readonly<Record<string, string>>;
  disabled?: boolean;
};

export type EventInput = { name: string; payload?: unknown; id?: string };

export type RawAnswer = { status: number; headers: Headers; text: string; json: unknown };

export type DispatcherClient = {
  readonly baseUrl: string;
  /** Any request, for contract checks; `key` is sent as a bearer token when given. */
  request(options: { method: string; path: string; key?: string; body?: unknown }): Promise<RawAnswer>;
  health(): Promise<RawAnswer>;
  createWebhook(input: WebhookInput): Promise<RegisteredWebhook>;
  getWebhook(id: string): Promise<WebhookView>;
  patchWebhook(id: string, patch: Partial<WebhookInput>): Promise<WebhookView>;
  deleteWebhook(id: string): Promise<void>;
  postEvent(event: EventInput): Promise<AcceptedEvent>;
};

/** A request that takes longer is a failure of the dispatcher, not something to wait out. */
export const REQUEST_TIMEOUT_MS = 30_000;

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

export const createDispatcherClient = (options: { baseUrl: string; ingestApiKey: string; adminApiKey: string }): DispatcherClient => {
  const request: DispatcherClient['request'] = async ({ method, path, key, body }) => {
    const headers: Record<string, string> = {};
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${options.baseUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: parseJson(text) };
  };

  const expect = async <A>(options: { what: string; answer: Promise<RawAnswer>; status: number; codec: t.Decoder<unknown, A> }): Promise<A> => {
    const answer = await options.answer;
    if (answer.status !== options.status) throw new Error(`${options.what}: expected status ${options.status}, got ${answer.status}: ${answer.text.slice(0, 2000)}`);
    const decoded = options.codec.decode(answer.json);
    if (E.isLeft(decoded)) throw new Error(`${options.what}: the answer does not match the contract (${options.codec.name}): ${answer.text.slice(0, 2000)}`);
    return decoded.right;
  };

  const admin = (method: string, path: string, body?: unknown): Promise<RawAnswer> => request({ method, path, key: options.adminApiKey, body });
  const webhookPath = (id: string): string => `/api/webhooks/${encodeURIComponent(id)}`;

  return {
    baseUrl: options.baseUrl,
    request,
    health: () => request({ method: 'GET', path: '/api/health' }),
    createWebhook: (input) => expect({ what: 'POST /api/webhooks', answer: admin('POST', '/api/webhooks', input), status: 201, codec: RegisteredWebhook }),
    getWebhook: (id) => expect({ what: `GET /api/webhooks/${id}`, answer: admin('GET', webhookPath(id)), status: 200, codec: WebhookView }),
    patchWebhook: (id, patch) => expect({ what: `PATCH /api/webhooks/${id}`, answer: admin('PATCH', webhookPath(id), patch), status: 200, codec: WebhookView }),
    deleteWebhook: async (id) => {
      const answer = await admin('DELETE', webhookPath(id));
      if (answer.status !== 204) throw new Error(`DELETE /api/webhooks/${id}: expected status 204, got ${answer.status}: ${answer.text.slice(0, 2000)}`);
    },
    postEvent: (event) =>
      expect({ what: `POST /api/events (${event.name})`, answer: request({ method: 'POST', path: '/api/events', key: options.ingestApiKey, body: event }), status: 202, codec: AcceptedEvent }),
  };
};
