import { randomBytes, randomInt } from 'node:crypto';
import { canonicalJson, type DeliveredBody, type Delivery, deliveryProblems, groupDeliveries, arrivalProblems } from './deliveries';
import { type AcceptedEvent, createDispatcherClient, type DispatcherClient, type EventInput, type RegisteredWebhook, type WebhookInput } from './dispatcherClient';
import { always, answer, type Receiver, type ReceiverScript, startReceiver } from './receiver';
import { type AgentSettings, decodeAgentSettings, decodeExternalDispatcherSettings, orThrow } from './settings';
import { expectQuietFor, waitFor } from './waitFor';

/*
 * One scenario: its own receivers and webhooks (so scenarios never see each other's deliveries),
 * the backend's side (posting events) and the one assertion path every mode and scenario uses.
 */

/** A registered webhook and the receiver behind its URL. */
/** `webhook.headers`: the custom headers the scenario registered (answers show only their names). */
export type Endpoint = { readonly name: string; readonly receiver: Receiver; readonly webhook: RegisteredWebhook & { readonly headers: Readonly<Record<string, string>> } };

/** `count` deliveries of `body` to `endpoint`, each taking `attempts` requests (1 unless retried). */
export type ExpectedDelivery = { readonly endpoint: Endpoint; readonly body: DeliveredBody; readonly count?: number; readonly attempts?: number };

export type Scenario = {
  readonly client: DispatcherClient;
  readonly settings: AgentSettings;
  /** A value no other scenario or run uses, for webhook names and service ids. */
  unique(label: string): string;
  /** Starts a receiver (answering 204 unless scripted) and registers a webhook pointing at it. */
  endpoint(options: { name: string; script?: ReceiverScript } & Omit<WebhookInput, 'url'>): Promise<Endpoint>;
  post(event: EventInput): Promise<AcceptedEvent>;
  /** Posts events a few at a time, as a backend under load would. */
  postAll(events: readonly EventInput[]): Promise<AcceptedEvent[]>;
  /**
   * Waits until the expected deliveries arrived, watches the grace period for anything more at any
   * endpoint of the scenario, then checks every request: signature, headers, body, retries.
   * Endpoints not named expect nothing.
   */
  expectDeliveries(expected: readonly ExpectedDelivery[]): Promise<void>;
  /** Deletes the scenario's webhooks and closes its receivers. */
  dispose(): Promise<void>;
};

/** Concurrent posts of postAll: enough to overlap, few enough to stay polite on two cores. */
export const POST_CONCURRENCY = 8;

const RUN_ID = randomBytes(4).toString('hex');
let scenarioCount = 0;

const pick = (alphabet: string, n: number): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
/** The letters a fiscal code uses for the month of birth. */
const MONTHS = 'ABCDEHLMPRST';

/** A random fiscal code of the usual pattern (e.g. AAABBB00A00A000B). */
export const randomFiscalCode = (): string => `${pick(LETTERS, 6)}${pick(DIGITS, 2)}${pick(MONTHS, 1)}${pick(DIGITS, 2)}${pick(LETTERS, 1)}${pick(DIGITS, 3)}${pick(LETTERS, 1)}`;

const describeArrivals = (endpoint: Endpoint): string =>
  endpoint.receiver.arrivals.length === 0
    ? '      (nothing)'
    : groupDeliveries(endpoint.receiver.arrivals)
        .map(
          (d) =>
            `      webhook-id ${d.webhookId}: ${d.attempts.length} request(s) [${d.attempts.map((a) => (a.reply.kind === 'hang' ? 'hang' : a.reply.status)).join(', ')}] ${d.attempts[0]?.body.slice(0, 200) ?? ''}`,
        )
        .join('\n');

type Want = { readonly body: string; readonly attempts: number };

const wantedBy = (endpoint: Endpoint, expected: readonly ExpectedDelivery[]): Want[] =>
  expected.filter((e) => e.endpoint === endpoint).flatMap((e) => Array.from({ length: e.count ?? 1 }, () => ({ body: canonicalJson(e.body), attempts: e.attempts ?? 1 })));

const requestsWanted = (wants: readonly Want[]): number => wants.reduce((sum, w) => sum + w.attempts, 0);

const describeWants = (wants: readonly Want[]): string => {
  const counts = new Map<string, number>();
  for (const w of wants) counts.set(`${w.body} in ${w.attempts} request(s)`, (counts.get(`${w.body} in ${w.attempts} request(s)`) ?? 0) + 1);
  return counts.size === 0 ? 'nothing' : [...counts.entries()].map(([k, n]) => `${n} x ${k}`).join('; ');
};

/** Compares what one endpoint got with what it should have got; empty when they agree. */
const endpointProblems = (endpoint: Endpoint, wants: readonly Want[]): string[] => {
  const problems: string[] = [];
  for (const arrival of endpoint.receiver.arrivals) for (const p of arrivalProblems(arrival, endpoint.webhook)) problems.push(`request #${arrival.index}: ${p}`);
  const deliveries: Delivery[] = groupDeliveries(endpoint.receiver.arrivals);
  for (const d of deliveries) problems.push(...deliveryProblems(d));
  const got = deliveries.map((d) => `${d.body === undefined ? '(unreadable body)' : canonicalJson(d.body)} in ${d.attempts.length} request(s)`).sort();
  const want = wants.map((w) => `${w.body} in ${w.attempts} request(s)`).sort();
  if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`deliveries differ: expected ${describeWants(wants)}; got:\n${describeArrivals(endpoint)}`);
  return problems;
};

/** A scenario against the dispatcher whose address and keys are in the environment (set by the global setup). */
export const createScenario = (): Scenario => {
  const settings = orThrow(decodeAgentSettings(process.env));
  const dispatcher = orThrow(decodeExternalDispatcherSettings(process.env));
  const client = createDispatcherClient({ baseUrl: dispatcher.DISPATCHER_URL, ingestApiKey: dispatcher.INGEST_API_KEY, adminApiKey: dispatcher.ADMIN_API_KEY });
  const scenarioId = `${RUN_ID}-${++scenarioCount}`;
  let uniqueCount = 0;
  const endpoints: Endpoint[] = [];
  const receivers: Receiver[] = [];

  const post = (event: EventInput): Promise<AcceptedEvent> => client.postEvent(event);

  return {
    client,
    settings,
    unique: (label) => `${label}-${scenarioId}-${++uniqueCount}`,
    endpoint: async ({ name, script, ...input }) => {
      const receiver = await startReceiver({ name, script: script ?? always(answer(204)), bindHost: settings.RECEIVER_BIND_HOST, publicHost: settings.RECEIVER_HOST });
      receivers.push(receiver);
      const webhook = await client.createWebhook({ ...input, url: receiver.url });
      const endpoint = { name, receiver, webhook: { ...webhook, headers: input.headers ?? {} } };
      endpoints.push(endpoint);
      return endpoint;
    },
    post,
    postAll: async (events) => {
      const accepted: AcceptedEvent[] = new Array(events.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < events.length) {
          const i = next++;
          accepted[i] = await post(events[i] as EventInput);
        }
      };
      await Promise.all(Array.from({ length: Math.min(POST_CONCURRENCY, events.length) }, worker));
      return accepted;
    },
    expectDeliveries: async (expected) => {
      for (const e of expected) if (!endpoints.includes(e.endpoint)) throw new Error(`expectDeliveries: ${e.endpoint.name} is not an endpoint of this scenario`);
      const wants = new Map(endpoints.map((endpoint) => [endpoint, wantedBy(endpoint, expected)] as const));
      const report = (): string =>
        endpoints
          .map((endpoint) => {
            const w = wants.get(endpoint) ?? [];
            return `  ${endpoint.name}: expected ${requestsWanted(w)} request(s) (${describeWants(w)}), got ${endpoint.receiver.arrivals.length}:\n${describeArrivals(endpoint)}`;
          })
          .join('\n');
      await waitFor({
        what: 'the expected deliveries',
        timeoutMs: settings.DELIVERY_WAIT_MS,
        condition: () => endpoints.every((endpoint) => endpoint.receiver.arrivals.length >= requestsWanted(wants.get(endpoint) ?? [])),
        missing: report,
      });
      await expectQuietFor({
        what: 'nothing more to arrive',
        periodMs: settings.GRACE_PERIOD_MS,
        unexpected: () => (endpoints.some((endpoint) => endpoint.receiver.arrivals.length > requestsWanted(wants.get(endpoint) ?? [])) ? report() : undefined),
      });
      const problems = endpoints.flatMap((endpoint) => endpointProblems(endpoint, wants.get(endpoint) ?? []).map((p) => `  ${endpoint.name}: ${p}`));
      if (problems.length > 0) throw new Error(`The deliveries do not match the contract:\n${problems.join('\n')}`);
    },
    dispose: async () => {
      const failures: string[] = [];
      for (const endpoint of endpoints) {
        try {
          await client.deleteWebhook(endpoint.webhook.id);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
      await Promise.all(receivers.map((r) => r.close()));
      if (failures.length > 0) throw new Error(`Cleaning up the scenario failed:\n${failures.join('\n')}`);
    },
  };
};
