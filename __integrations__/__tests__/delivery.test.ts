import { TEST_APP_SETTINGS } from '../src/embeddedHost';
import { always, answer, failTimesThenAnswer, hang } from '../src/receiver';
import { createScenario, type Scenario } from '../src/scenario';
import { waitFor } from '../src/waitFor';

/*
 * Delivery behaviour seen from a receiver: retries of a failing receiver with a stable webhook-id,
 * giving up, and 410 Gone disabling the webhook. The dispatcher runs with TEST_APP_SETTINGS (the
 * embedded modes pass them, docker-compose.yml sets the same): retries after 1 s, 1 s and 1 s.
 */

let scenario: Scenario;
beforeEach(() => {
  scenario = createScenario();
});
afterEach(async () => {
  await scenario.dispose();
});

const ping = { name: 'ping', payload: {} };
/** The first attempt and one per entry of the retry schedule. */
const ATTEMPTS_BEFORE_GIVING_UP = (TEST_APP_SETTINGS.RETRY_SCHEDULE_SECONDS ?? '').split(',').length + 1;

describe('a failing receiver', () => {
  test('that answers 503 twice and then 204 gets the same delivery three times, with one webhook-id', async () => {
    const name = scenario.unique('flaky');
    const flaky = await scenario.endpoint({
      name: 'flaky',
      subscriptions: ['ping'],
      attributes: { name },
      headers: { 'X-Retry-Check': 'yes' },
      script: failTimesThenAnswer({ times: 2, failure: answer(503) }),
    });
    await scenario.post({ name: 'ping', payload: { name } });
    // expectDeliveries groups requests by webhook-id: three requests in one group prove the id is stable.
    await scenario.expectDeliveries([{ endpoint: flaky, body: ping, attempts: 3 }]);
    expect(flaky.receiver.arrivals.map((a) => (a.reply.kind === 'answer' ? a.reply.status : 'hang'))).toEqual([503, 503, 204]);
  });

  test('that does not answer the first time is retried after the delivery timeout', async () => {
    const name = scenario.unique('slow');
    const slow = await scenario.endpoint({ name: 'slow', subscriptions: ['ping'], attributes: { name }, script: { first: [hang], then: answer(200) } });
    await scenario.post({ name: 'ping', payload: { name } });
    await scenario.expectDeliveries([{ endpoint: slow, body: ping, attempts: 2 }]);
  });

  test('that never recovers gets one attempt per retry of the schedule, then nothing more', async () => {
    const name = scenario.unique('down');
    const down = await scenario.endpoint({ name: 'down', subscriptions: ['ping'], attributes: { name }, script: always(answer(500)) });
    await scenario.post({ name: 'ping', payload: { name } });
    await scenario.expectDeliveries([{ endpoint: down, body: ping, attempts: ATTEMPTS_BEFORE_GIVING_UP }]);
    // Giving up on one delivery is not a reason to disable the webhook.
    expect((await scenario.client.getWebhook(down.webhook.id)).disabled).toBe(false);
  });
});

describe('a receiver that answers 410 Gone', () => {
  test('gets the delivery once, and its webhook is disabled and gets nothing more', async () => {
    const name = scenario.unique('gone');
    const gone = await scenario.endpoint({ name: 'gone', subscriptions: ['ping'], attributes: { name }, script: always(answer(410)) });
    const stayName = scenario.unique('stays');
    const stays = await scenario.endpoint({ name: 'stays', subscriptions: ['ping'], attributes: { name: stayName } });

    await scenario.post({ name: 'ping', payload: { name } });
    await scenario.expectDeliveries([{ endpoint: gone, body: ping }]);

    let shown = gone.webhook.disabled;
    await waitFor({
      what: `GET /api/webhooks/${gone.webhook.id} to show the webhook disabled`,
      timeoutMs: scenario.settings.DELIVERY_WAIT_MS,
      condition: async () => {
        shown = (await scenario.client.getWebhook(gone.webhook.id)).disabled;
        return shown;
      },
      missing: () => `last seen: disabled = ${shown}`,
    });

    await scenario.post({ name: 'ping', payload: { name } });
    await scenario.post({ name: 'ping', payload: { name: stayName } });
    await scenario.expectDeliveries([
      { endpoint: gone, body: ping },
      { endpoint: stays, body: ping },
    ]);
  });
});
