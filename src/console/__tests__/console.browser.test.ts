import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { ADMIN_KEY, INGEST_KEY, type OpsEnvironment, startOpsEnvironment } from '../../../cli/__tests__/opsEnvironment';

/*
 * The ops console end to end in headless Chromium (Debian's package, driven by playwright-core; no
 * browser is ever downloaded) against the embedded host and loopback receivers: load the page,
 * enter the keys, send ping:all, see the deliveries appear, redrive from the poison list, and
 * leave a screenshot in test-output/console.png. Without Chromium this fails, it does not skip:
 * .ci/run installs it.
 */

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT_DIR = path.resolve(__dirname, '..', '..', '..', 'test-output');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('the ops console in headless Chromium', () => {
  let env: OpsEnvironment;
  let browser: Browser;
  let goodId: string;
  let badId: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: install Debian's package (apt-get install -y chromium), as .ci/run does`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    env = await startOpsEnvironment('console');
    const ok = await env.receiver(200);
    const refusing = await env.receiver(400);
    goodId = (await env.createWebhook({ url: ok.url('/orders'), subscriptions: ['ping'], attributes: { name: 'orders' } })).id as string;
    await env.createWebhook({ url: ok.url('/billing'), subscriptions: ['ping', 'service:subscribed'], attributes: { name: 'billing' } });
    badId = (await env.createWebhook({ url: refusing.url('/legacy'), subscriptions: ['ping'], attributes: { name: 'legacy' } })).id as string;
  });
  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  it('loads, takes the keys, sends ping:all, shows deliveries and redrives poison', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });

    const response = await page.goto(`${env.host.baseUrl}/api/console`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    await expect(page.locator('#app').isHidden()).resolves.toBe(true);

    await page.fill('#admin-key', ADMIN_KEY);
    await page.fill('#ingest-key', INGEST_KEY);
    await page.click('#use-keys');
    await page.locator(`tr[data-webhook="${goodId}"]`).waitFor();
    // Runs in the page (no DOM types here: the project compiles for Node).
    const kept = await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('dispatcher.adminKey'));
    expect(kept).toBe(ADMIN_KEY);
    expect(await page.locator('#admin-key').inputValue()).toBe('');

    await page.click('#ping-all');
    await page.locator('#status', { hasText: 'ping:all sent as event' }).waitFor();
    const eventId = /event (\S+)$/.exec((await page.textContent('#status')) ?? '')?.[1] as string;
    const row = page.locator(`tr[data-event="${eventId}"]`);
    await row.locator('td.deliveries', { hasText: '2 / 3' }).waitFor({ timeout: 40_000 });
    await row.locator('.badge', { hasText: 'legacy poisoned' }).waitFor({ timeout: 40_000 });
    expect(await row.locator('.badge', { hasText: 'delivered' }).allTextContents()).toEqual(expect.arrayContaining(['orders delivered', 'billing delivered']));
    await page.locator(`tr[data-webhook="${badId}"] .badge`, { hasText: 'failing' }).waitFor();
    await page.locator(`tr[data-webhook="${goodId}"] .badge`, { hasText: 'healthy' }).waitFor();
    await page.locator('#poison td', { hasText: 'Rejected 400' }).first().waitFor({ timeout: 20_000 });

    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT_DIR, 'console.png'), fullPage: true });

    await page.locator('#poison button', { hasText: 'Redrive' }).first().click();
    await page.locator('#status', { hasText: 'Redriven: 1' }).waitFor();

    // A wrong key is said plainly, on the page.
    await page.click('#forget');
    await page.fill('#admin-key', 'not-the-admin-key-0123');
    await page.click('#use-keys');
    await page.locator('#status', { hasText: 'The admin key was refused (401)' }).waitFor();

    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
    await page.close();
  });
});
