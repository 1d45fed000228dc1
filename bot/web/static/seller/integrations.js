/**
 * The store's connectors (Shopify, WooCommerce, AfterShip, EasyPost, 17TRACK, simple JSON): where to point
 * each provider, its key (made here and shown once, or pasted from the provider), the shop it is bound to,
 * the last delivery and the last refused or ignored ones. Everything from the server goes in as text.
 *
 *   loadIntegrations()     the open store's connectors (the cards are built the first time)
 *   renderIntegrations()   the cards as the data says (again, after a language switch)
 *   resetIntegrations()    the cards gone, shown keys with them (a store switch, signing out)
 */

import { $, clear, el } from '../shared/dom.js';
import { count, setStatusKey, t } from '../shared/i18n.js';
import { refusalText } from '../shared/refusals.js';
import { api, copyField, handled, showAlert, state, storePath, tabsLoaded } from './console.js';
import { when } from './versions.js';

/** Where to set each connector up, in the provider's own admin. */
const WHERE = {
  shopify: 'integrations.shopify.where', woocommerce: 'integrations.woocommerce.where', aftership: 'integrations.aftership.where',
  easypost: 'integrations.easypost.where', '17track': 'integrations.17track.where', json: 'integrations.json.where'
};
/** What the provider calls the key a seller pastes. */
const KEY_LABEL = { shopify: 'integrations.shopify.keyLabel', '17track': 'integrations.17track.keyLabel' };
const KIND = { orders: 'integrations.kind.orders', tracking: 'integrations.kind.tracking' };
const SHOP = { shop_domain: 'integrations.shop.shop_domain', site_url: 'integrations.shop.site_url' };
/** The shop connectors whose past orders can be imported from a file (CSV export or JSON). */
const BACKFILL = { shopify: 'integrations.backfill.shopify', woocommerce: 'integrations.backfill.woocommerce' };
const cards = {};
let list = null;

export function resetIntegrations() {
  Object.keys(cards).forEach(function (name) { delete cards[name]; });
  list = null;
  var box = $('integration-cards');
  if (box) clear(box);
}

export function loadIntegrations() {
  var storeId = state.storeId;
  return api.request('GET', storePath('/integrations')).then(function (result) {
    if (storeId !== state.storeId) return;
    if (handled(result)) { tabsLoaded.integrations = false; return; }
    if (!result.ok || !Array.isArray(result.data.integrations)) { showAlert(refusalText(result.data)); return; }
    list = result.data.integrations;
    list.forEach(function (item) { if (!cards[item.provider]) buildCard(item); });
    renderIntegrations();
  });
}

function testid(name, part) {
  return 'seller-integration-' + name + (part ? '-' + part : '');
}

function labelled(tag, cls, key, attrs) {
  return el(tag, cls, Object.assign({ 'data-i18n': key }, attrs || {}), t(key));
}

function graceField(name, id) {
  var field = el('div', 'field');
  field.appendChild(labelled('label', null, 'integrations.grace', { 'for': id }));
  var input = el('input', 'grace', { id: id, type: 'number', min: 0, max: 168, step: 1, inputmode: 'numeric', value: 24, 'data-testid': testid(name, 'grace') });
  field.appendChild(input);
  return { field: field, input: input };
}

function buildCard(item) {
  var name = item.provider;
  var id = 'integration-' + name;
  var card = el('article', 'card secret integration', { 'aria-labelledby': id + '-title', 'data-testid': testid(name) });
  var head = el('div', 'secret-head');
  head.appendChild(el('h3', 'card-title', { id: id + '-title', translate: 'no' }, item.title));
  if (KIND[item.kind]) head.appendChild(labelled('span', 'pill', KIND[item.kind]));
  var keyPill = el('span', 'pill', { 'data-testid': testid(name, 'key-state') });
  head.appendChild(keyPill);
  card.appendChild(head);
  if (WHERE[name]) card.appendChild(labelled('p', 'secret-what', WHERE[name]));

  // Where the provider sends its webhooks.
  card.appendChild(labelled('label', 'integration-label', 'integrations.url', { 'for': id + '-url' }));
  var urlRow = el('div', 'copy-row');
  var url = el('input', 'mono', { id: id + '-url', type: 'text', readonly: '', translate: 'no', spellcheck: 'false', 'data-testid': testid(name, 'url') });
  var urlCopy = labelled('button', 'btn', 'common.copy', { type: 'button', 'data-testid': testid(name, 'url-copy') });
  urlRow.appendChild(url);
  urlRow.appendChild(urlCopy);
  card.appendChild(urlRow);
  var urlStatus = el('p', 'copy-status', { role: 'status' });
  card.appendChild(urlStatus);
  urlCopy.addEventListener('click', function () { copyField(url, urlStatus); });

  var c = { name: name, card: card, keyPill: keyPill, url: url, busy: false };
  var previous = el('p', 'hint', { 'data-testid': testid(name, 'previous') });
  previous.hidden = true;
  c.previous = previous;

  var madeBy = item.key.made_by;
  if (madeBy === 'generated') buildGenerated(c, id);
  else if (madeBy === 'pasted') buildPasted(c, id);
  else {
    card.appendChild(labelled('p', 'hint', 'integrations.storeWebhook'));
    var link = labelled('a', 'btn btn-small', 'integrations.toSecrets', { href: '#team', 'data-testid': testid(name, 'to-secrets') });
    card.appendChild(link);
  }
  card.appendChild(previous);
  if (item.shop) buildShop(c, id, item.shop.kind);
  if (BACKFILL[name]) buildBackfill(c, id);

  card.appendChild(labelled('h4', 'integration-sub', 'integrations.last'));
  c.last = el('p', 'hint', { 'data-testid': testid(name, 'last') });
  card.appendChild(c.last);
  card.appendChild(labelled('h4', 'integration-sub', 'integrations.problems'));
  c.problems = el('ul', 'integration-problems', { 'data-testid': testid(name, 'problems') });
  card.appendChild(c.problems);
  cards[name] = c;
  $('integration-cards').appendChild(card);
}

function errorLine(c, part) {
  var error = el('p', 'field-error', { role: 'alert', 'data-testid': testid(c.name, part + '-error') });
  error.hidden = true;
  return error;
}

function showError(node, answer) {
  node.textContent = refusalText(answer.data) || String(answer.status);
  node.hidden = false;
}

function graceHours(input) {
  var text = String(input.value).trim();
  if (!/^\d+$/.test(text)) return null;
  var hours = parseInt(text, 10);
  return hours <= 168 ? hours : null;
}

function buildGenerated(c, id) {
  var grace = graceField(c.name, id + '-grace');
  c.graceField = grace.field;
  c.card.appendChild(grace.field);
  c.make = el('button', 'btn', { type: 'button', 'data-testid': testid(c.name, 'new-key') });
  c.card.appendChild(c.make);
  c.keyError = errorLine(c, 'key');
  c.card.appendChild(c.keyError);

  var reveal = el('div', 'reveal', { role: 'group', 'aria-labelledby': id + '-key-label', 'data-testid': testid(c.name, 'new') });
  reveal.hidden = true;
  reveal.appendChild(labelled('label', null, 'integrations.newKey', { id: id + '-key-label', 'for': id + '-key' }));
  var row = el('div', 'copy-row');
  var value = el('input', 'mono', {
    id: id + '-key', type: 'text', readonly: '', translate: 'no', autocomplete: 'off', spellcheck: 'false',
    'aria-describedby': id + '-once', 'data-testid': testid(c.name, 'key')
  });
  var copy = labelled('button', 'btn', 'common.copy', { type: 'button', 'data-testid': testid(c.name, 'key-copy') });
  row.appendChild(value);
  row.appendChild(copy);
  reveal.appendChild(row);
  var copyStatus = el('p', 'copy-status', { role: 'status' });
  reveal.appendChild(copyStatus);
  reveal.appendChild(labelled('p', 'callout-warn', 'integrations.once', { id: id + '-once', 'data-testid': testid(c.name, 'once') }));
  c.until = el('p', 'hint');
  reveal.appendChild(c.until);
  var done = labelled('button', 'btn btn-small', 'common.done', { type: 'button', 'data-testid': testid(c.name, 'done') });
  reveal.appendChild(done);
  c.card.appendChild(reveal);
  c.reveal = reveal;
  c.value = value;

  copy.addEventListener('click', function () { copyField(value, copyStatus); });
  done.addEventListener('click', function () {
    value.value = '';
    setStatusKey(copyStatus, '');
    reveal.hidden = true;
    c.untilValue = undefined;
    c.make.focus();
  });
  c.make.addEventListener('click', function () {
    var hours = keySet(c.name) ? graceHours(grace.input) : 0;
    c.keyError.hidden = true;
    if (hours === null) { c.keyError.textContent = t('integrations.graceBad'); c.keyError.hidden = false; grace.input.focus(); return; }
    sendKey(c, 'POST', { grace_hours: hours }, c.make, function (data) {
      value.value = data.key;
      c.untilValue = data.previous_valid_until || null;
      reveal.hidden = false;
      value.focus();
      value.select();
    });
  });
}

function buildPasted(c, id) {
  var form = el('form', 'integration-form', { novalidate: '', 'data-testid': testid(c.name, 'paste') });
  var field = el('div', 'field');
  field.appendChild(labelled('label', null, KEY_LABEL[c.name] || 'integrations.keyLabel', { 'for': id + '-paste' }));
  var input = el('input', 'mono', {
    id: id + '-paste', type: 'password', autocomplete: 'off', spellcheck: 'false', translate: 'no', maxlength: 400,
    'data-testid': testid(c.name, 'paste-key')
  });
  field.appendChild(input);
  form.appendChild(field);
  var grace = graceField(c.name, id + '-grace');
  c.graceField = grace.field;
  form.appendChild(grace.field);
  var save = labelled('button', 'btn', 'integrations.saveKey', { type: 'submit', 'data-testid': testid(c.name, 'paste-save') });
  form.appendChild(save);
  c.keyError = errorLine(c, 'key');
  form.appendChild(c.keyError);
  c.keyStatus = el('p', 'save-status', { role: 'status', 'data-testid': testid(c.name, 'paste-status') });
  form.appendChild(c.keyStatus);
  c.card.appendChild(form);
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var hours = keySet(c.name) ? graceHours(grace.input) : 0;
    c.keyError.hidden = true;
    setStatusKey(c.keyStatus, '');
    if (hours === null) { c.keyError.textContent = t('integrations.graceBad'); c.keyError.hidden = false; grace.input.focus(); return; }
    sendKey(c, 'PUT', { key: input.value, grace_hours: hours }, save, function () {
      input.value = ''; // never kept on the page once saved
      setStatusKey(c.keyStatus, 'integrations.keySaved');
    });
  });
}

function sendKey(c, method, body, button, shown) {
  if (c.busy) return;
  var storeId = state.storeId;
  c.busy = true;
  button.disabled = true;
  api.request(method, storePath('/integrations/' + encodeURIComponent(c.name) + '/key'), body).then(function (result) {
    c.busy = false;
    button.disabled = false;
    if (storeId !== state.storeId || handled(result)) return;
    if (!result.ok) { showError(c.keyError, result); return; }
    shown(result.data);
    loadIntegrations();
  });
}

function buildShop(c, id, kind) {
  var form = el('form', 'integration-form', { novalidate: '', 'data-testid': testid(c.name, 'shop') });
  var field = el('div', 'field');
  field.appendChild(labelled('label', null, SHOP[kind] || 'integrations.shop.site_url', { 'for': id + '-shop' }));
  var input = el('input', null, {
    id: id + '-shop', type: 'text', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', translate: 'no', maxlength: 300,
    placeholder: kind === 'shop_domain' ? 'example.myshopify.com' : 'https://shop.example/', 'data-testid': testid(c.name, 'shop-value')
  });
  field.appendChild(input);
  form.appendChild(field);
  var save = labelled('button', 'btn', 'integrations.shop.save', { type: 'submit', 'data-testid': testid(c.name, 'shop-save') });
  form.appendChild(save);
  var error = errorLine(c, 'shop');
  form.appendChild(error);
  var status = el('p', 'save-status', { role: 'status', 'data-testid': testid(c.name, 'shop-status') });
  form.appendChild(status);
  c.card.appendChild(form);
  c.shop = input;
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (c.busy) return;
    var storeId = state.storeId;
    var value = input.value.trim();
    error.hidden = true;
    setStatusKey(status, '');
    c.busy = true;
    save.disabled = true;
    api.request('PUT', storePath('/integrations/' + encodeURIComponent(c.name) + '/shop'), { value: value || null }).then(function (result) {
      c.busy = false;
      save.disabled = false;
      if (storeId !== state.storeId || handled(result)) return;
      if (!result.ok) { showError(error, result); input.focus(); return; }
      input.value = result.data.value || '';
      setStatusKey(status, result.data.value ? 'integrations.shop.saved' : 'integrations.shop.cleared');
      loadIntegrations();
    });
  });
}

function buildBackfill(c, id) {
  var form = el('form', 'integration-form', { novalidate: '', 'data-testid': testid(c.name, 'backfill') });
  var field = el('div', 'field');
  field.appendChild(labelled('label', null, BACKFILL[c.name], { 'for': id + '-file' }));
  var file = el('input', null, { id: id + '-file', type: 'file', accept: '.csv,.json,.jsonl,text/csv,application/json', 'data-testid': testid(c.name, 'backfill-file') });
  field.appendChild(file);
  form.appendChild(field);
  var send = labelled('button', 'btn', 'integrations.backfill.send', { type: 'submit', 'data-testid': testid(c.name, 'backfill-send') });
  form.appendChild(send);
  var status = el('p', 'save-status', { role: 'status', 'data-testid': testid(c.name, 'backfill-status') });
  form.appendChild(status);
  var errors = el('ul', 'integration-problems', { 'data-testid': testid(c.name, 'backfill-errors') });
  form.appendChild(errors);
  c.card.appendChild(form);
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var chosen = file.files && file.files[0];
    clear(errors);
    if (!chosen || c.busy) { status.textContent = chosen ? '' : t('integrations.backfill.none'); return; }
    var type = /\.csv$/i.test(chosen.name) || chosen.type === 'text/csv' ? 'text/csv' : 'application/json';
    var storeId = state.storeId;
    c.busy = true;
    send.disabled = true;
    status.textContent = t('integrations.backfill.sending');
    api.upload(storePath('/integrations/' + encodeURIComponent(c.name) + '/backfill'), chosen, type).then(function (result) {
      c.busy = false;
      send.disabled = false;
      status.textContent = '';
      if (storeId !== state.storeId || handled(result)) return;
      if (result.ok) {
        status.textContent = t('integrations.backfill.done', { n: count(result.data.imported) });
        loadIntegrations();
        return;
      }
      status.textContent = refusalText(result.data) || String(result.status);
      (Array.isArray(result.data.errors) ? result.data.errors : []).forEach(function (e) {
        errors.appendChild(el('li', null, null, t('integrations.backfill.line', { line: count(e.line), error: String(e.error) })));
      });
    });
  });
}

function keySet(name) {
  var item = list && list.filter(function (i) { return i.provider === name; })[0];
  return !!(item && item.key.set);
}

/** A delivery's result as the server records it; one it does not know yet is shown as it came. */
const RESULT = {
  applied: 'integrations.result.applied', stale: 'integrations.result.stale', ignored: 'integrations.result.ignored',
  refused: 'integrations.result.refused', duplicate: 'integrations.result.duplicate',
  unknown_order: 'integrations.result.unknown_order', unknown_shipment: 'integrations.result.unknown_shipment',
  no_status: 'integrations.result.no_status'
};

function renderLast(node, last) {
  clear(node);
  if (!last) { node.textContent = t('integrations.lastNone'); return; }
  var parts = [document.createTextNode(when(last.at))];
  // The provider's topic and the server's reason are data, in the provider's words.
  if (last.topic) parts.push(el('span', 'data', { translate: 'no' }, last.topic));
  parts.push(RESULT[last.result] ? document.createTextNode(t(RESULT[last.result])) : el('span', 'data', { translate: 'no' }, last.result));
  if (last.order_number) parts.push(document.createTextNode(t('integrations.order', { number: last.order_number })));
  else if (last.tracking_number) parts.push(document.createTextNode(t('integrations.tracking', { number: last.tracking_number })));
  if (last.reason) parts.push(el('span', 'data', { translate: 'no' }, last.reason));
  parts.forEach(function (part, i) {
    if (i) node.appendChild(document.createTextNode(' · '));
    node.appendChild(part);
  });
}

export function renderIntegrations() {
  (list || []).forEach(function (item) {
    var c = cards[item.provider];
    if (!c) return;
    c.url.value = item.webhook_url;
    var key = item.key;
    c.keyPill.textContent = t(key.set ? 'integrations.keySet' : 'integrations.keyNotSet');
    c.keyPill.className = 'pill ' + (key.set ? 'pill-ok' : 'pill-off');
    c.previous.hidden = !key.previous_valid_until;
    c.previous.textContent = key.previous_valid_until ? t('integrations.previous', { when: when(key.previous_valid_until) }) : '';
    if (c.graceField) c.graceField.hidden = !key.set;
    if (c.make) c.make.textContent = t(key.set ? 'integrations.replaceKey' : 'integrations.makeKey');
    if (c.until && c.untilValue !== undefined) {
      c.until.textContent = c.untilValue ? t('integrations.until', { when: when(c.untilValue) }) : '';
    }
    if (c.shop && item.shop && document.activeElement !== c.shop) c.shop.value = item.shop.value || '';
    renderLast(c.last, item.last_delivery);
    clear(c.problems);
    if (!item.recent_problems.length) c.problems.appendChild(el('li', 'hint', null, t('integrations.problemsNone')));
    item.recent_problems.forEach(function (p) {
      // A refusal kept with its params is worded in the console's language; otherwise (a delivery
      // ignored, a code this console does not know) the server's English is shown as data.
      var line = el('li', null, null, when(p.at) + ' · ' + String(p.status) + ' · ');
      if (p.params) line.appendChild(el('span', null, null, refusalText({ code: p.code, params: p.params, error: p.reason })));
      else line.appendChild(el('span', 'data', { translate: 'no' }, p.reason));
      c.problems.appendChild(line);
    });
  });
}
