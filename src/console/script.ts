import { DOM_HELPERS } from '../web/staticPage';

/*
 * The console's browser script, kept as a string so the plain `tsc` build ships it. It runs in the
 * page: ES2020, no modules, no template literals (this file is one). Every value from the API is
 * put in the page with textContent, never as HTML. Keys live in sessionStorage (gone with the tab)
 * and go out only as bearer headers to this origin.
 */
export const CONSOLE_SCRIPT = String.raw`
'use strict';
(function () {
  var ADMIN = 'dispatcher.adminKey';
  var INGEST = 'dispatcher.ingestKey';
  var $ = function (id) { return document.getElementById(id); };
  var state = { polling: 0 };

${DOM_HELPERS}  function fill(tbody, rows, empty, columns) {
    tbody.replaceChildren();
    if (rows.length === 0) { tbody.appendChild(el('tr', {}, [el('td', { colspan: String(columns), class: 'empty', text: empty })])); return; }
    rows.forEach(function (r) { tbody.appendChild(r); });
  }
  function when(iso) { return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '-'; }
  function badge(text, kind) { return el('span', { class: 'badge ' + kind, text: text }); }
  function say(text, kind) { var s = $('status'); s.textContent = text; s.className = kind || ''; }

  function api(method, path, body, key) {
    var token = sessionStorage.getItem(key || ADMIN);
    if (!token) return Promise.reject(new Error(key === INGEST ? 'Enter the ingest key to send events' : 'Enter the admin key'));
    var init = { method: method, headers: { authorization: 'Bearer ' + token } };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var json = text ? JSON.parse(text) : undefined;
        if (res.status === 401) throw new Error('The ' + (key === INGEST ? 'ingest' : 'admin') + ' key was refused (401)');
        if (!res.ok) throw new Error(method + ' ' + path + ': ' + res.status + ' ' + (json && json.message ? json.message : ''));
        return json;
      });
    });
  }

  var STATE_KIND = { delivered: 'ok', retrying: 'warn', poisoned: 'bad', gone: 'bad', skipped: 'muted' };

  function renderWebhooks(webhooks, stats, problems) {
    fill($('webhooks'), webhooks.map(function (w, i) {
      var s = stats[i] || { delivered: 0, failed: 0, poisoned: 0 };
      var p = problems[i];
      var disabled = w.disabledReason ? 'disabled (' + (w.disabledReason.kind === 'Gone' ? '410 Gone' : 'failing since ' + when(w.disabledReason.since)) + ')' : 'disabled';
      var health = w.disabled ? badge(disabled, 'muted') : w.failing || s.poisoned > 0 ? badge('failing', 'bad') : p ? badge('had problems', 'warn') : s.delivered > 0 ? badge('healthy', 'ok') : badge('no recent deliveries', 'muted');
      return el('tr', { 'data-webhook': w.id }, [
        el('td', { class: 'mono', text: w.id }), el('td', { class: 'url', text: w.url }), el('td', { text: w.subscriptions.join(', ') }),
        el('td', {}, [health]), el('td', { class: 'num', text: s.delivered + ' / ' + (s.delivered + s.failed) + (s.p99Ms === null || s.p99Ms === undefined ? '' : ', p99 ' + s.p99Ms + ' ms') }),
        el('td', { text: p ? when(p.at) + ' ' + p.decision + (p.result ? ' (' + (p.result.kind === 'Response' ? 'HTTP ' + p.result.status : p.result.error) + ')' : '') : '-' }),
      ]);
    }), 'No webhook is registered.', 6);
  }

  function renderEvents(statuses, labels) {
    fill($('events'), statuses.map(function (e) {
      var chips = el('div', { class: 'chips' }, e.deliveries.map(function (d) {
        var label = labels[d.webhookId] || d.webhookId.slice(-6);
        return badge(label + ' ' + d.state + (d.attempts > 1 ? ' x' + d.attempts : ''), STATE_KIND[d.state] || 'muted');
      }));
      if (e.summary.pending > 0) chips.appendChild(badge(e.summary.pending + ' pending', 'warn'));
      return el('tr', { 'data-event': e.id }, [
        el('td', { class: 'mono', text: e.id }), el('td', { text: e.name }), el('td', { text: when(e.receivedAt) }),
        el('td', { text: e.dispatch.status }), el('td', { class: 'num deliveries', text: e.summary.delivered + ' / ' + (e.dispatch.deliveries || 0) }), el('td', {}, [chips]),
      ]);
    }), 'No event in the last 24 hours.', 6);
  }

  function reason(item) {
    if (item.kind === 'Undeliverable') { var r = item.entry.reason; return r.kind + (r.status ? ' ' + r.status : r.attempts ? ' (' + r.attempts + ')' : ''); }
    if (item.kind === 'FailedMessage') return 'message failed (' + item.message.items.length + ' deliveries)';
    if (item.kind === 'FailedEnvelope') return 'envelope failed (' + item.messages.length + ' events)';
    return 'unreadable: ' + item.excerpt.slice(0, 40);
  }

  function renderPoison(items) {
    $('redrive-all').disabled = items.length === 0;
    fill($('poison'), items.map(function (m) {
      var eventId = m.item.kind === 'Undeliverable' ? m.item.entry.eventId : m.item.kind === 'FailedMessage' ? m.item.message.eventId : m.item.kind === 'FailedEnvelope' ? m.item.messages.map(function (x) { return x.eventId; }).join(' ') : '-';
      var webhookId = m.item.kind === 'Undeliverable' ? m.item.entry.webhookId : '-';
      return el('tr', {}, [
        el('td', { class: 'mono', text: m.messageId }), el('td', { text: when(m.insertedOn) }), el('td', { class: 'mono', text: eventId }),
        el('td', { class: 'mono', text: webhookId }), el('td', { text: reason(m.item) }),
        el('td', {}, [el('button', { class: 'small', text: 'Redrive', onclick: function () { redrive({ messageId: m.messageId }); } })]),
      ]);
    }), 'The poison queue is empty.', 6);
  }

  function renderTenants(tenants) {
    fill($('tenants'), tenants.map(function (t) {
      var cell = el('td', { class: 'portal' });
      var mint = function () {
        api('POST', '/api/tenants/' + t.id + '/portal-links', { ttlSeconds: 3600 }).then(function (link) {
          cell.replaceChildren(
            el('input', { readonly: 'readonly', value: link.url, 'aria-label': 'Portal link of ' + t.name }),
            el('a', { href: link.url, target: '_blank', rel: 'noopener noreferrer', text: 'Open' }),
            el('div', { class: 'intro', text: 'Expires ' + when(link.expiresAt) + ' UTC' }));
          say('Portal link for ' + t.name + ' minted.', 'ok');
        }).catch(function (e) { say(e.message, 'error'); });
      };
      cell.appendChild(el('button', { class: 'small', text: 'Portal link', onclick: mint }));
      var routing = Object.keys(t.routing || {}).map(function (k) { return k + ': ' + t.routing[k].join(', '); }).join('; ');
      return el('tr', { 'data-tenant': t.id }, [el('td', { class: 'mono', text: t.id }), el('td', { text: t.name }), el('td', { text: routing || '-' }), cell]);
    }), 'No tenant yet.', 4);
  }

  function allWebhooks(token, acc) {
    return api('GET', '/api/webhooks?limit=100' + (token ? '&continuationToken=' + encodeURIComponent(token) : '')).then(function (page) {
      var items = (acc || []).concat(page.items);
      return page.continuationToken ? allWebhooks(page.continuationToken, items) : items;
    });
  }

  function refresh() {
    return Promise.all([
      allWebhooks(),
      api('GET', '/api/events?limit=20').then(function (list) { return Promise.all(list.items.map(function (e) { return api('GET', '/api/events/' + encodeURIComponent(e.id)); })); }),
      api('GET', '/api/poison'),
      api('GET', '/api/tenants?limit=100'),
    ]).then(function (r) {
      renderTenants(r[3].items);
      var webhooks = r[0], statuses = r[1];
      // Counters kept as deliveries finish (GET /api/webhooks/{id}/stats, the last day), not a scan of events.
      var stats = Promise.all(webhooks.map(function (w) { return api('GET', '/api/webhooks/' + w.id + '/stats'); }));
      var problems = Promise.all(webhooks.map(function (w) { return api('GET', '/api/webhooks/' + w.id + '/attempts?limit=1').then(function (a) { return a.items[0]; }); }));
      return Promise.all([stats, problems]).then(function (sp) {
        var stats = sp[0], problems = sp[1];
        renderWebhooks(webhooks, stats, problems);
        var labels = {};
        webhooks.forEach(function (w) { labels[w.id] = w.attributes.name || w.id.slice(-6); });
        renderEvents(statuses, labels);
        renderPoison(r[2].items);
        $('updated').textContent = 'Updated ' + new Date().toISOString().slice(11, 19) + ' UTC';
        return statuses;
      });
    }).catch(function (e) { say(e.message, 'error'); });
  }

  function settled(statuses) {
    return statuses.every(function (e) { return ['Completed', 'Failed', 'Terminated'].indexOf(e.dispatch.status) >= 0 && e.summary.pending === 0 && e.summary.retrying === 0; });
  }

  function follow() {
    var round = ++state.polling, left = 30;
    function tick() {
      if (round !== state.polling) return;
      refresh().then(function (statuses) { if (statuses && !settled(statuses) && --left > 0) setTimeout(tick, 1000); });
    }
    tick();
  }

  function pingAll() {
    api('POST', '/api/events', { name: 'ping:all' }, INGEST).then(function (r) { say('ping:all sent as event ' + r.id, 'ok'); follow(); }).catch(function (e) { say(e.message, 'error'); });
  }

  function redrive(body) {
    api('POST', '/api/poison/redrive', body).then(function (r) { say('Redriven: ' + r.redriven + (r.leftUnreadable ? ', unreadable left: ' + r.leftUnreadable : ''), 'ok'); follow(); }).catch(function (e) { say(e.message, 'error'); });
  }

  function showKeys() {
    var has = !!sessionStorage.getItem(ADMIN);
    $('app').hidden = !has;
    $('forget').hidden = !has;
    $('key-form').classList.toggle('set', has);
    $('admin-key').placeholder = has ? 'new admin key' : 'admin key';
    $('ingest-key').placeholder = sessionStorage.getItem(INGEST) ? 'new ingest key' : 'ingest key (for ping:all)';
  }

  $('key-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var admin = $('admin-key').value.trim(), ingest = $('ingest-key').value.trim();
    if (admin) sessionStorage.setItem(ADMIN, admin);
    if (ingest) sessionStorage.setItem(INGEST, ingest);
    $('admin-key').value = ''; $('ingest-key').value = '';
    showKeys();
    if (sessionStorage.getItem(ADMIN)) { say('Keys kept for this tab only.', 'ok'); refresh(); }
  });
  $('forget').addEventListener('click', function () { sessionStorage.removeItem(ADMIN); sessionStorage.removeItem(INGEST); showKeys(); say('Keys forgotten.', ''); });
  $('ping-all').addEventListener('click', pingAll);
  $('refresh').addEventListener('click', function () { refresh(); });
  $('redrive-all').addEventListener('click', function () { redrive({ all: true }); });
  showKeys();
  if (sessionStorage.getItem(ADMIN)) refresh();
})();
`;
