import { staticPage } from '../web/staticPage';
import { CONSOLE_SCRIPT } from './script';

/*
 * The ops console: one static page, served by the function app at GET /api/console. It holds no
 * data, so it is served without a key; it asks for the keys and sends them on its own API calls.
 * The inline script and style are allowed by hash in the Content-Security-Policy, and nothing else.
 */

const STYLE = `
:root { --bg: #f6f7f9; --card: #fff; --ink: #1d2430; --muted: #6b7280; --line: #e3e6ea; --accent: #2456d3;
  --ok: #1f7a3f; --ok-bg: #e4f4e9; --warn: #8a5a00; --warn-bg: #fdf1d8; --bad: #a4262c; --bad-bg: #fbe4e4; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 16px; padding: 12px 24px; background: #17233b; color: #fff; flex-wrap: wrap; }
header h1 { font-size: 17px; margin: 0 auto 0 0; font-weight: 600; }
main { padding: 16px 24px 40px; max-width: 1280px; margin: 0 auto; }
form#key-form { display: flex; gap: 8px; align-items: center; }
form#key-form.set input { width: 150px; }
input { padding: 6px 8px; border: 1px solid #9aa4b5; border-radius: 4px; font: inherit; width: 210px; }
button { padding: 6px 12px; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; font: inherit; cursor: pointer; }
button.secondary { background: transparent; color: inherit; border-color: #9aa4b5; }
button.small { padding: 2px 8px; font-size: 12px; }
button:disabled { opacity: .45; cursor: default; }
.toolbar { display: flex; gap: 8px; align-items: center; margin-bottom: 12px; }
#status { margin-left: 8px; }
#status.error { color: var(--bad); font-weight: 600; }
#status.ok { color: var(--ok); }
#updated { margin-left: auto; color: var(--muted); font-size: 12px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; margin-bottom: 16px; }
section h2 { font-size: 15px; margin: 0; padding: 10px 14px; border-bottom: 1px solid var(--line); display: flex; align-items: center; gap: 8px; }
section h2 .hint { font-weight: 400; color: var(--muted); font-size: 12px; }
section h2 button { margin-left: auto; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 7px 14px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); font-weight: 600; }
tr:last-child td { border-bottom: 0; }
td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
td.url { word-break: break-all; }
td.num { white-space: nowrap; }
td.empty { color: var(--muted); text-align: center; padding: 16px; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; white-space: nowrap; }
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.bad { color: var(--bad); background: var(--bad-bg); }
.badge.muted { color: var(--muted); background: #eef0f3; }
.intro { color: var(--muted); }
td.portal input { width: 100%; max-width: 420px; font-size: 12px; }
td.portal a { margin-left: 6px; }
`;

const BODY = `
<header>
  <h1>Webhook dispatcher &middot; ops console</h1>
  <form id="key-form" autocomplete="off">
    <input id="admin-key" type="password" placeholder="admin key" aria-label="Admin key">
    <input id="ingest-key" type="password" placeholder="ingest key (for ping:all)" aria-label="Ingest key">
    <button type="submit" id="use-keys">Use keys</button>
    <button type="button" id="forget" class="secondary" hidden>Forget keys</button>
  </form>
</header>
<main>
  <div class="toolbar">
    <button id="ping-all" type="button">Send ping:all</button>
    <button id="refresh" type="button" class="secondary">Refresh</button>
    <span id="status" role="status">Enter the admin key to start; the keys stay in this tab only.</span>
    <span id="updated"></span>
  </div>
  <div id="app" hidden>
    <section>
      <h2>Webhooks <span class="hint">health from the deliveries of the last 20 events; last problem = newest attempt that was not a first-try success</span></h2>
      <table><thead><tr><th>Id</th><th>URL</th><th>Events</th><th>Health</th><th>Delivered / attempts (24 h)</th><th>Last problem</th></tr></thead><tbody id="webhooks"></tbody></table>
    </section>
    <section>
      <h2>Recent events <span class="hint">last 24 hours, newest first</span></h2>
      <table><thead><tr><th>Id</th><th>Event</th><th>Received (UTC)</th><th>Fan-out</th><th>Delivered</th><th>Deliveries</th></tr></thead><tbody id="events"></tbody></table>
    </section>
    <section>
      <h2>Tenants <span class="hint">a portal link opens that tenant's own view (its webhooks, tests, replays); it ends at its expiry or when the tenant's links are revoked</span></h2>
      <table><thead><tr><th>Id</th><th>Name</th><th>Routing values</th><th>Portal</th></tr></thead><tbody id="tenants"></tbody></table>
    </section>
    <section>
      <h2>Poison <span class="hint">deliveries given up on; redrive sends them again with a fresh attempt count</span><button id="redrive-all" type="button" class="small">Redrive all</button></h2>
      <table><thead><tr><th>Message</th><th>Poisoned (UTC)</th><th>Event</th><th>Webhook</th><th>Reason</th><th></th></tr></thead><tbody id="poison"></tbody></table>
    </section>
  </div>
</main>
`;

const PAGE = staticPage({ title: 'Webhook dispatcher - ops console', style: STYLE, body: BODY, script: CONSOLE_SCRIPT });

export const CONSOLE_HTML = PAGE.html;
/** Only this page's own script and style run; API calls go to this origin only; no framing; no referrer carries the URL. */
export const CONSOLE_HEADERS = PAGE.headers;
