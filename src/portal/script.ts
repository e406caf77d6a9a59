import { DOM_HELPERS } from '../web/staticPage';

/*
 * The subscriber portal's browser script, kept as a string so the plain `tsc` build ships it (as the
 * console's). ES2020, no modules, no template literals (this file is one). Every value from the API
 * goes in with textContent, never as HTML. The link token is read from the URL fragment, removed from
 * the address bar at once and exchanged for a session bearer, which lives in sessionStorage (gone
 * with the tab) and goes out only as a bearer header to this origin.
 */
export const PORTAL_SCRIPT = String.raw`
'use strict';
(function () {
  var BEARER = 'portal.bearer';
  var $ = function (id) { return document.getElementById(id); };
  var state = { me: undefined, webhooks: [], editing: undefined, detail: undefined, replayRound: 0 };

${DOM_HELPERS}  function when(iso) { return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') + ' UTC' : '-'; }
  function badge(text, kind) { return el('span', { class: 'badge ' + kind, text: text }); }
  function say(text, kind) { var s = $('status'); s.textContent = text; s.className = kind || ''; }
  /** The API's own words: its message, then one line per detail. */
  function words(e) { return e.message + (e.details && e.details.length ? ': ' + e.details.join('; ') : ''); }

  function ApiError(status, body) {
    this.status = status;
    this.message = body && body.message ? body.message : 'HTTP ' + status;
    this.details = body && body.details ? body.details : [];
  }

  function api(method, path, body) {
    var token = sessionStorage.getItem(BEARER);
    if (!token) return Promise.reject(new ApiError(401, { message: 'Open this page from a portal link, or enter your tenant key' }));
    var init = { method: method, headers: { authorization: 'Bearer ' + token } };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var json;
        try { json = text ? JSON.parse(text) : undefined; } catch (e) { json = undefined; }
        if (res.status === 401) { lockOut(json && json.message ? json.message : 'Your portal session has ended'); throw new ApiError(401, json); }
        if (!res.ok) throw new ApiError(res.status, json);
        return json;
      });
    });
  }

  /** An expired or revoked link or session: say so, forget it, show nothing of the tenant. */
  function lockOut(message) {
    sessionStorage.removeItem(BEARER);
    state.me = undefined;
    state.replayRound++;
    $('app').hidden = true;
    $('sign-out').hidden = true;
    $('tenant-name').textContent = '';
    $('webhooks').replaceChildren();
    $('gate').hidden = false;
    $('gate-message').textContent = message;
    $('gate-message').className = 'error';
  }

  // ---- webhooks ----

  function healthOf(w, s) {
    if (w.disabled) return badge(w.disabledReason ? (w.disabledReason.kind === 'Gone' ? 'disabled (410 Gone)' : 'disabled (failing since ' + when(w.disabledReason.since) + ')') : 'disabled', 'muted');
    if (w.verified === false) return badge('waiting for verification', 'warn');
    if (w.failing || (s && s.poisoned > 0)) return badge('failing', 'bad');
    if (s && s.failed > 0) return badge('had problems', 'warn');
    if (s && s.delivered > 0) return badge('healthy', 'ok');
    return badge('no recent deliveries', 'muted');
  }

  function statsLine(s) {
    if (!s) return 'statistics unavailable';
    var rate = s.successRate === null ? '-' : Math.round(s.successRate * 1000) / 10 + '%';
    return 'Last 24 h: ' + s.delivered + ' delivered, ' + s.failed + ' failed (' + s.poisoned + ' given up), success ' + rate +
      ', p50 ' + (s.p50Ms === null ? '-' : s.p50Ms + ' ms') + ', p99 ' + (s.p99Ms === null ? '-' : s.p99Ms + ' ms') +
      (s.lastSuccessAt ? ', last success ' + when(s.lastSuccessAt) : '') + (s.lastFailureAt ? ', last failure ' + when(s.lastFailureAt) : '');
  }

  function attributesText(map) { return Object.keys(map || {}).map(function (k) { return k + '=' + map[k]; }).join(', '); }

  function renderWebhooks(webhooks, stats) {
    var list = $('webhooks');
    list.replaceChildren();
    if (webhooks.length === 0) { list.appendChild(el('p', { class: 'empty', text: 'No webhook yet: create one with "New webhook".' })); return; }
    webhooks.forEach(function (w, i) {
      var s = stats[i];
      var actions = [
        el('button', { type: 'button', class: 'small edit', text: 'Edit', onclick: function () { openEditor(w); } }),
        el('button', { type: 'button', class: 'small toggle', text: w.disabled ? 'Enable' : 'Disable', onclick: function () { setDisabled(w, !w.disabled); } }),
        el('button', { type: 'button', class: 'small rotate', text: 'Rotate secret', onclick: function () { rotate(w); } }),
        el('button', { type: 'button', class: 'small test', text: 'Send test', onclick: function () { testSend(w); } }),
        el('button', { type: 'button', class: 'small details', text: 'Attempts & replay', onclick: function () { openDetail(w); } }),
      ];
      if (w.verified === false) actions.push(el('button', { type: 'button', class: 'small verify', text: 'Verify again', onclick: function () { verify(w); } }));
      list.appendChild(el('article', { class: 'webhook', 'data-webhook': w.id }, [
        el('div', { class: 'row' }, [el('strong', { class: 'url', text: w.url }), healthOf(w, s)]),
        el('div', { class: 'meta' }, [el('span', { class: 'mono', text: w.id })]),
        el('div', { class: 'meta', text: 'Events: ' + w.subscriptions.join(', ') + (Object.keys(w.attributes || {}).length ? ' | attributes: ' + attributesText(w.attributes) : '') + (w.headerNames && w.headerNames.length ? ' | headers: ' + w.headerNames.join(', ') : '') }),
        el('div', { class: 'meta stats', text: statsLine(s) }),
        el('div', { class: 'actions' }, actions),
      ]));
    });
  }

  function allWebhooks(token, acc) {
    return api('GET', '/api/webhooks?limit=100' + (token ? '&continuationToken=' + encodeURIComponent(token) : '')).then(function (page) {
      var items = (acc || []).concat(page.items);
      return page.continuationToken ? allWebhooks(page.continuationToken, items) : items;
    });
  }

  function refresh() {
    return allWebhooks().then(function (webhooks) {
      state.webhooks = webhooks;
      return Promise.all(webhooks.map(function (w) { return api('GET', '/api/webhooks/' + w.id + '/stats').catch(function () { return undefined; }); })).then(function (stats) {
        renderWebhooks(webhooks, stats);
        $('updated').textContent = 'Updated ' + new Date().toISOString().slice(11, 19) + ' UTC';
      });
    }).catch(function (e) { if (e.status !== 401) say(words(e), 'error'); });
  }

  // ---- create and edit ----

  function lines(text) { return text.split('\n').map(function (l) { return l.trim(); }).filter(function (l) { return l !== ''; }); }
  function pairs(text, sep) {
    var out = {};
    lines(text).forEach(function (l) {
      var i = l.indexOf(sep);
      if (i < 0) out[l] = '';
      else out[l.slice(0, i).trim()] = l.slice(i + 1).trim();
    });
    return out;
  }

  function openEditor(w) {
    state.editing = w;
    $('editor').hidden = false;
    $('editor-title').textContent = w ? 'Edit webhook ' + w.id : 'New webhook';
    $('form-error').textContent = '';
    $('wh-url').value = w ? w.url : '';
    $('wh-subscriptions').value = w ? w.subscriptions.join(', ') : '';
    $('wh-attributes').value = w ? Object.keys(w.attributes || {}).map(function (k) { return k + '=' + w.attributes[k]; }).join('\n') : '';
    // Header values are write-only: existing names are listed blank, which keeps their value.
    $('wh-headers').value = w ? (w.headerNames || []).map(function (n) { return n + ':'; }).join('\n') : '';
    ['timeoutMs', 'rateLimitPerSecond', 'maxAttempts'].forEach(function (k) { $('wh-' + k).value = w && w[k] !== undefined ? String(w[k]) : ''; });
    $('wh-format').value = w && w.format ? w.format : '';
    // Offered when creating, where the verification flow starts.
    $('wh-verify').checked = false;
    $('wh-verify').parentNode.hidden = !!w;
    $('wh-url').focus();
    $('editor').scrollIntoView({ block: 'nearest' });
  }

  /** Optional controls go to the API only when filled in, as typed: the API decides what they may be. */
  function controls(body) {
    ['timeoutMs', 'rateLimitPerSecond', 'maxAttempts'].forEach(function (k) {
      var v = $('wh-' + k).value.trim();
      if (v !== '') body[k] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
    });
    if ($('wh-format').value) body.format = $('wh-format').value;
    return body;
  }

  function saveWebhook(ev) {
    ev.preventDefault();
    var w = state.editing;
    var subscriptions = $('wh-subscriptions').value.split(',').map(function (s) { return s.trim(); }).filter(function (s) { return s !== ''; });
    var attributes = pairs($('wh-attributes').value, '=');
    var headerLines = pairs($('wh-headers').value, ':');
    var request;
    if (!w) {
      var headers = {};
      Object.keys(headerLines).forEach(function (k) { if (headerLines[k] !== '') headers[k] = headerLines[k]; });
      var body = controls({ url: $('wh-url').value.trim(), subscriptions: subscriptions });
      if (Object.keys(attributes).length) body.attributes = attributes;
      if (Object.keys(headers).length) body.headers = headers;
      if ($('wh-verify').checked) body.verify = true;
      request = api('POST', '/api/webhooks', body).then(function (created) {
        showSecret(created.secret, 'Webhook ' + created.id + ' created.', created);
      });
    } else {
      // A JSON merge patch: entries left out are removed (null), blank header values are kept.
      var patchAttributes = {}, patchHeaders = {};
      Object.keys(w.attributes || {}).forEach(function (k) { if (!(k in attributes)) patchAttributes[k] = null; });
      Object.keys(attributes).forEach(function (k) { patchAttributes[k] = attributes[k]; });
      var lower = Object.keys(headerLines).map(function (k) { return k.toLowerCase(); });
      (w.headerNames || []).forEach(function (n) { if (lower.indexOf(n.toLowerCase()) < 0) patchHeaders[n] = null; });
      Object.keys(headerLines).forEach(function (k) { if (headerLines[k] !== '') patchHeaders[k] = headerLines[k]; });
      var patch = controls({ url: $('wh-url').value.trim(), subscriptions: subscriptions, attributes: patchAttributes });
      if (Object.keys(patchHeaders).length) patch.headers = patchHeaders;
      request = api('PATCH', '/api/webhooks/' + w.id, patch).then(function (saved) {
        say('Webhook ' + saved.id + ' saved.' + (saved.verified === false ? ' It waits for endpoint verification before it receives anything.' : ''), 'ok');
      });
    }
    request.then(function () { $('editor').hidden = true; state.editing = undefined; return refresh(); })
      .catch(function (e) { if (e.status !== 401) { $('form-error').textContent = words(e); say('Not saved: ' + words(e), 'error'); } });
  }

  function setDisabled(w, disabled) {
    api('PATCH', '/api/webhooks/' + w.id, { disabled: disabled })
      .then(function () { say('Webhook ' + w.id + (disabled ? ' disabled.' : ' enabled.'), 'ok'); return refresh(); })
      .catch(function (e) { if (e.status !== 401) say(words(e), 'error'); });
  }

  function verify(w) {
    api('POST', '/api/webhooks/' + w.id + '/verify')
      .then(function (r) { say(r.verified ? 'Endpoint verified: the webhook now receives deliveries.' : 'Not verified: ' + r.detail, r.verified ? 'ok' : 'error'); return refresh(); })
      .catch(function (e) { if (e.status !== 401) say(words(e), 'error'); });
  }

  // ---- secrets ----

  function showSecret(secret, intro, webhook) {
    $('secret-box').hidden = false;
    $('secret-intro').textContent = intro + ' Its signing secret is shown this once: store it now.';
    $('secret-value').textContent = secret;
    var v = $('verification');
    if (webhook && webhook.verified === false) {
      v.hidden = false;
      v.textContent = 'Endpoint verification: this webhook receives nothing until its URL answers a verification request ' +
        '(a signed POST {"name":"webhook:verification","payload":{"challenge":"..."}} answered with 200 {"challenge":"<the same value>"}). ' +
        (webhook.verification && webhook.verification.detail ? 'Last check: ' + webhook.verification.detail + '. ' : '') + 'Use "Verify again" once your endpoint answers.';
    } else {
      v.hidden = true;
      v.textContent = '';
    }
    $('secret-box').scrollIntoView({ block: 'nearest' });
  }

  function rotate(w) {
    api('POST', '/api/webhooks/' + w.id + '/rotate-secret')
      .then(function (r) {
        showSecret(r.secret, 'The secret of ' + w.id + ' was rotated' + (r.previousSecretExpiresAt ? '; the old one still signs until ' + when(r.previousSecretExpiresAt) + '.' : '.'));
        say('Secret rotated.', 'ok');
      })
      .catch(function (e) { if (e.status !== 401) say(words(e), 'error'); });
  }

  function copySecret() {
    var text = $('secret-value').textContent;
    var done = function () { say('Secret copied to the clipboard.', 'ok'); };
    var select = function () {
      var range = document.createRange();
      range.selectNodeContents($('secret-value'));
      var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      say('The secret is selected: copy it with Ctrl+C or Cmd+C.', 'ok');
    };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, select);
    else select();
  }

  // ---- test send, attempts, replay ----

  function openDetail(w) {
    state.detail = w;
    state.replayRound++;
    $('detail').hidden = false;
    $('detail-title').textContent = 'Webhook ' + w.id;
    $('detail-url').textContent = w.url;
    $('replay-progress').textContent = '';
    $('test-result').textContent = '';
    var now = new Date();
    $('replay-since').value = new Date(now.getTime() - 3600 * 1000).toISOString().slice(0, 19) + 'Z';
    // Empty means "until now" on the server's clock: a time filled in here (cut to the second, from the
    // browser's clock, when the panel opened) left out a failure of that second or of any later one.
    $('replay-until').value = '';
    loadAttempts();
    $('detail').scrollIntoView({ block: 'nearest' });
  }

  function resultText(r) {
    if (!r) return '-';
    if (r.kind === 'Response') return 'HTTP ' + r.status;
    return r.error + (r.message ? ' (' + r.message + ')' : '');
  }

  function loadAttempts() {
    var w = state.detail;
    if (!w) return Promise.resolve();
    return api('GET', '/api/webhooks/' + w.id + '/attempts?limit=50').then(function (r) {
      var body = $('attempts');
      body.replaceChildren();
      if (r.items.length === 0) { body.appendChild(el('tr', {}, [el('td', { colspan: '5', class: 'empty', text: 'No failed or retried attempt is recorded for this webhook.' })])); return; }
      r.items.forEach(function (a) {
        body.appendChild(el('tr', {}, [
          el('td', { text: when(a.at) }), el('td', { class: 'mono', text: a.eventId }), el('td', { text: a.attempt + ': ' + a.decision }),
          el('td', { text: resultText(a.result) }), el('td', { class: 'num', text: a.result && a.result.latencyMs !== undefined ? a.result.latencyMs + ' ms' : '-' }),
        ]));
      });
    }).catch(function (e) { if (e.status !== 401) say(words(e), 'error'); });
  }

  function testSend(w) {
    openDetail(w);
    $('test-result').textContent = 'Sending a signed webhook.test to ' + w.url + ' ...';
    $('test-result').className = '';
    api('POST', '/api/webhooks/' + w.id + '/test').then(function (r) {
      $('test-result').textContent = (r.ok ? 'Delivered: ' : 'Not delivered: ') + (r.status === null ? 'no answer' : 'HTTP ' + r.status) + ' in ' + r.durationMs + ' ms' +
        (r.error ? ' (' + r.error + ')' : '') + (r.body ? '. The receiver answered: ' + r.body : '');
      $('test-result').className = r.ok ? 'ok' : 'error';
      return refresh();
    }).catch(function (e) { if (e.status !== 401) { $('test-result').textContent = words(e); $('test-result').className = 'error'; } });
  }

  function startReplay(ev) {
    ev.preventDefault();
    var w = state.detail;
    if (!w) return;
    var body = { since: $('replay-since').value.trim(), only: $('replay-only').value };
    if ($('replay-until').value.trim() !== '') body.until = $('replay-until').value.trim();
    var round = ++state.replayRound;
    $('replay-progress').textContent = 'Starting the replay ...';
    $('replay-progress').className = '';
    api('POST', '/api/webhooks/' + w.id + '/replay', body).then(function (r) {
      var poll = function () {
        if (round !== state.replayRound) return;
        api('GET', '/api/webhooks/' + w.id + '/replays/' + r.id).then(function (s) {
          if (round !== state.replayRound) return;
          var text = 'Replay ' + s.id + ' (' + s.only + ', ' + when(s.since) + ' to ' + when(s.until) + '): ' + s.status + ', ' + s.deliveries + ' deliveries sent again';
          $('replay-progress').textContent = text;
          $('replay-progress').className = s.status === 'Completed' ? 'ok' : s.status === 'Failed' ? 'error' : '';
          if (s.status === 'Running') setTimeout(poll, 1000);
          else loadAttempts();
        }).catch(function (e) { if (e.status !== 401) { $('replay-progress').textContent = words(e); $('replay-progress').className = 'error'; } });
      };
      poll();
    }).catch(function (e) { if (e.status !== 401) { $('replay-progress').textContent = words(e); $('replay-progress').className = 'error'; } });
  }

  // ---- opening the portal ----

  function start() {
    return api('GET', '/api/portal/me').then(function (me) {
      state.me = me;
      $('gate').hidden = true;
      $('app').hidden = false;
      $('sign-out').hidden = false;
      $('tenant-name').textContent = me.name;
      var grants = Object.keys(me.routing || {}).map(function (k) { return k + ': ' + (me.routing[k].length ? me.routing[k].join(', ') : 'none'); });
      $('grants').textContent = 'Routing values you may use: ' + (grants.length ? grants.join('; ') : 'none granted yet (ask your operator)') + '.';
      say('Portal open for ' + me.name + '.', 'ok');
      return refresh();
    }).catch(function (e) { if (e.status !== 401) lockOut(words(e)); });
  }

  function fromLink(token) {
    // Out of the address bar and history before anything else: a fragment is never sent, but it is shown and kept.
    history.replaceState(null, '', location.pathname);
    sessionStorage.removeItem(BEARER);
    return fetch('/api/portal/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: token }) })
      .then(function (res) { return res.json().then(function (json) { return { res: res, json: json }; }); })
      .then(function (r) {
        if (r.res.status !== 201) { lockOut(r.json && r.json.message ? words(new ApiError(r.res.status, r.json)) : 'This portal link cannot be opened (HTTP ' + r.res.status + ')'); return; }
        sessionStorage.setItem(BEARER, r.json.token);
        $('session-info').textContent = 'Session ends ' + when(r.json.expiresAt);
        return start();
      })
      .catch(function () { lockOut('The portal could not reach the API; try the link again.'); });
  }

  $('key-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var key = $('tenant-key').value.trim();
    $('tenant-key').value = '';
    if (!key) return;
    sessionStorage.setItem(BEARER, key);
    $('session-info').textContent = 'Signed in with the tenant key';
    start();
  });
  $('sign-out').addEventListener('click', function () { lockOut('Signed out. Open a portal link or enter your tenant key.'); $('gate-message').className = ''; });
  $('refresh').addEventListener('click', function () { refresh(); });
  $('new-webhook').addEventListener('click', function () { openEditor(undefined); });
  $('webhook-form').addEventListener('submit', saveWebhook);
  $('cancel-edit').addEventListener('click', function () { $('editor').hidden = true; state.editing = undefined; });
  $('copy-secret').addEventListener('click', copySecret);
  $('secret-done').addEventListener('click', function () { $('secret-box').hidden = true; $('secret-value').textContent = ''; });
  $('replay-form').addEventListener('submit', startReplay);
  $('close-detail').addEventListener('click', function () { $('detail').hidden = true; state.detail = undefined; state.replayRound++; });

  var match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) fromLink(decodeURIComponent(match[1]));
  else if (sessionStorage.getItem(BEARER)) start();
})();
`;
