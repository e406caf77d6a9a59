import { staticPage } from '../web/staticPage';
import { PORTAL_SCRIPT } from './script';

/*
 * The subscriber portal: one static page served at GET /api/portal, for a tenant's own webhooks
 * (docs/portal.md). Same discipline as the ops console: it holds no data, so it is served without a
 * key; its inline script and style are allowed by hash in the Content-Security-Policy, nothing else
 * runs, and it talks to this origin only.
 */

const STYLE = `
:root { --bg: #f6f7f9; --card: #fff; --ink: #1d2430; --muted: #5f6673; --line: #e3e6ea; --accent: #2456d3;
  --ok: #1f7a3f; --ok-bg: #e4f4e9; --warn: #8a5a00; --warn-bg: #fdf1d8; --bad: #a4262c; --bad-bg: #fbe4e4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: center; gap: 8px 16px; padding: 12px 20px; background: #17233b; color: #fff; flex-wrap: wrap; }
header h1 { font-size: 17px; margin: 0 auto 0 0; font-weight: 600; }
header #session-info { font-size: 12px; opacity: .8; }
main { padding: 16px 20px 40px; max-width: 1100px; margin: 0 auto; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; margin-bottom: 16px; padding: 12px 14px; }
section h2 { font-size: 15px; margin: 0 0 10px; display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
section h2 .push { margin-left: auto; display: flex; gap: 8px; }
input, select, textarea { padding: 6px 8px; border: 1px solid #9aa4b5; border-radius: 4px; font: inherit; width: 100%; max-width: 100%; }
textarea { min-height: 3.4em; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
label { display: block; margin-bottom: 10px; font-weight: 600; font-size: 13px; }
label span.hint, .hint { font-weight: 400; color: var(--muted); font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 0 12px; }
button { padding: 6px 12px; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; font: inherit; cursor: pointer; }
button.secondary { background: transparent; color: inherit; border-color: #9aa4b5; }
header button.secondary { color: #fff; }
button.small { padding: 3px 9px; font-size: 13px; }
.webhook { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; margin-bottom: 10px; }
.webhook .row { display: flex; gap: 8px; align-items: baseline; flex-wrap: wrap; justify-content: space-between; }
.webhook .url, .mono, code { word-break: break-all; }
.table-wrap { margin-bottom: 14px; }
.webhook .meta { color: var(--muted); font-size: 13px; margin-top: 4px; overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.mono, code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
pre { background: #f0f2f5; padding: 10px; border-radius: 4px; white-space: pre; overflow-x: auto; margin: 0; }
code#secret-value { display: block; background: var(--warn-bg); padding: 8px; border-radius: 4px; font-size: 14px; margin: 8px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; white-space: nowrap; }
.badge.ok { color: var(--ok); background: var(--ok-bg); }
.badge.warn { color: var(--warn); background: var(--warn-bg); }
.badge.bad { color: var(--bad); background: var(--bad-bg); }
.badge.muted { color: var(--muted); background: #eef0f3; }
.ok { color: var(--ok); }
.error { color: var(--bad); font-weight: 600; }
#status { display: block; margin: 0 0 12px; min-height: 1.4em; }
#updated { color: var(--muted); font-size: 12px; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; font-size: 13px; }
th { font-size: 12px; text-transform: uppercase; color: var(--muted); }
td.num { white-space: nowrap; }
.empty { color: var(--muted); }
#key-form { display: flex; gap: 8px; flex-wrap: wrap; max-width: 520px; }
#key-form input { flex: 1 1 220px; }
label.check { font-weight: 400; }
label.check input { width: auto; margin-right: 6px; }
.inline { display: flex; gap: 8px; flex-wrap: wrap; align-items: end; }
.inline label { flex: 1 1 180px; margin: 0; }
@media (max-width: 520px) { main { padding: 10px 8px 30px; } header { padding: 10px 12px; } section { padding: 10px; } }
`;

// Double quotes on the package name: a single-quoted one reads as an import of this file to infra's deploy-package check.
const SNIPPET = `// npm install standardwebhooks
import { Webhook } from "standardwebhooks";

// The whsec_... secret shown once when the webhook was created or its secret rotated.
const webhook = new Webhook(process.env.WEBHOOK_SECRET);

// Express: verify the raw body, before any JSON parsing changes it.
app.post('/webhooks', express.raw({ type: '*/*' }), (req, res) => {
  let event;
  try {
    // Checks webhook-signature over "{webhook-id}.{webhook-timestamp}.{body}" and a timestamp within 5 minutes.
    event = webhook.verify(req.body.toString('utf8'), req.headers);
  } catch {
    return res.status(400).send('bad signature');
  }
  // webhook-id is the same on every retry of one delivery: drop the ones already handled.
  if (alreadyHandled(req.headers['webhook-id'])) return res.sendStatus(200);
  handle(event); // {"name": "...", "payload": {...}}
  res.sendStatus(200);
});`;

const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const BODY = `
<header>
  <h1>Webhook portal <span id="tenant-name"></span></h1>
  <span id="session-info"></span>
  <button type="button" id="sign-out" class="secondary small" hidden>Sign out</button>
</header>
<main>
  <section id="gate">
    <h2>Open your portal</h2>
    <p id="gate-message" role="alert">Open this page from the portal link your operator sent you, or enter your tenant key.</p>
    <form id="key-form" autocomplete="off">
      <input id="tenant-key" type="password" placeholder="tenant key (whtk_...)" aria-label="Tenant key">
      <button type="submit" id="use-key">Open portal</button>
    </form>
  </section>
  <div id="app" hidden>
    <span id="status" role="status"></span>
    <section>
      <h2>Your webhooks <span id="updated"></span><span class="push"><button type="button" id="new-webhook">New webhook</button><button type="button" id="refresh" class="secondary">Refresh</button></span></h2>
      <p id="grants" class="hint"></p>
      <div id="webhooks"></div>
    </section>
    <section id="secret-box" hidden>
      <h2>Signing secret</h2>
      <p id="secret-intro"></p>
      <code id="secret-value"></code>
      <p id="verification" class="hint" hidden></p>
      <div class="actions"><button type="button" id="copy-secret">Copy</button><button type="button" id="secret-done" class="secondary">I have stored it</button></div>
    </section>
    <section id="editor" hidden>
      <h2 id="editor-title">New webhook</h2>
      <form id="webhook-form" autocomplete="off">
        <label>URL <span class="hint">https, where deliveries are POSTed</span><input id="wh-url" type="url" required></label>
        <label>Events <span class="hint">comma-separated: ping, service:subscribed, service:*, *</span><input id="wh-subscriptions" required></label>
        <label>Attributes <span class="hint">one name=value a line; routing values (name, serviceId) must be among yours</span><textarea id="wh-attributes"></textarea></label>
        <label>Headers <span class="hint">one Name: value a line, added to every delivery; values are never shown again (a blank value keeps the stored one, a removed line removes the header)</span><textarea id="wh-headers"></textarea></label>
        <div class="grid">
          <label>Timeout (ms) <span class="hint">optional</span><input id="wh-timeoutMs" inputmode="numeric"></label>
          <label>Rate limit (/s) <span class="hint">optional</span><input id="wh-rateLimitPerSecond" inputmode="numeric"></label>
          <label>Max attempts <span class="hint">optional</span><input id="wh-maxAttempts" inputmode="numeric"></label>
          <label>Body format <span class="hint">optional</span><select id="wh-format"><option value="">(default)</option><option value="pagopa">pagopa</option><option value="standard">standard</option><option value="cloudevents">cloudevents</option></select></label>
        </div>
        <label class="check"><input id="wh-verify" type="checkbox"> Verify the endpoint first <span class="hint">it receives nothing until its URL answers a verification challenge (some deployments always ask)</span></label>
        <p id="form-error" class="error" role="alert"></p>
        <div class="actions"><button type="submit" id="save-webhook">Save</button><button type="button" id="cancel-edit" class="secondary">Cancel</button></div>
      </form>
    </section>
    <section id="detail" hidden>
      <h2><span id="detail-title"></span><span class="push"><button type="button" id="close-detail" class="secondary small">Close</button></span></h2>
      <p id="detail-url" class="mono"></p>
      <p id="test-result" role="status"></p>
      <h2>Failed and retried attempts <span class="hint">newest first; first-try successes are only counted</span></h2>
      <div class="table-wrap"><table><thead><tr><th>At</th><th>Event</th><th>Attempt</th><th>Result</th><th>Time</th></tr></thead><tbody id="attempts"></tbody></table></div>
      <h2>Replay</h2>
      <form id="replay-form" class="inline" autocomplete="off">
        <label>Since (UTC) <input id="replay-since" required></label>
        <label>Until (UTC) <input id="replay-until" placeholder="now"></label>
        <label>Deliveries <select id="replay-only"><option value="failed">failed only</option><option value="all">all</option></select></label>
        <button type="submit" id="start-replay">Replay</button>
      </form>
      <p id="replay-progress" role="status"></p>
    </section>
    <section>
      <h2>Verifying signatures</h2>
      <p class="hint">Every delivery is signed the Standard Webhooks way (headers webhook-id, webhook-timestamp, webhook-signature). With the <code>standardwebhooks</code> package:</p>
      <pre id="snippet">${escapeHtml(SNIPPET)}</pre>
    </section>
  </div>
</main>
`;

const PAGE = staticPage({ title: 'Webhook portal', style: STYLE, body: BODY, script: PORTAL_SCRIPT });

export const PORTAL_HTML = PAGE.html;
/** Only this page's own script and style run; API calls go to this origin only; no framing; no referrer carries the URL. */
export const PORTAL_HEADERS = PAGE.headers;
