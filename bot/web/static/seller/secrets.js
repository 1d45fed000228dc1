/**
 * The store's secrets (shopper sign-in, tracking webhook): made or rotated on request, shown once, with
 * a grace period in which the previous one still works.
 *
 *   buildSecretCards()   one card per kind, built once at the start
 *   loadSecrets()        whether each is set, and until when a previous one works
 *   renderSecrets()      the cards as the status says (again, after a language switch)
 *   resetSecrets()       every shown secret and open confirmation gone (a store switch, signing out)
 */

import { $, el } from '../shared/dom.js';
import { count, setStatusKey, t } from '../shared/i18n.js';
import { refusalText } from '../shared/refusals.js';
import { api, copyField, handled, loadForTeamTab, state, storePath } from './console.js';
import { when } from './versions.js';

const SECRET_KINDS = ['shopper', 'webhook'];
const secretCards = {};
let secretStatus = null;

export function resetSecrets() {
  Object.keys(secretCards).forEach(function (kind) { hideSecret(kind); closeConfirm(kind); secretCards[kind].error.hidden = true; });
  secretStatus = null;
  renderSecrets();
}

export function buildSecretCards() {
  var box = $('secret-cards');
  SECRET_KINDS.forEach(function (kind) {
    var id = 'secret-' + kind;
    var card = el('article', 'card secret', { 'aria-labelledby': id + '-title', 'data-kind': kind, 'data-testid': 'seller-secret-' + kind });
    var head = el('div', 'secret-head');
    head.appendChild(el('h3', 'card-title', { id: id + '-title', 'data-i18n': 'secrets.' + kind + '.title' }, t('secrets.' + kind + '.title')));
    var pill = el('span', 'pill', { 'data-testid': 'seller-secret-' + kind + '-state' });
    head.appendChild(pill);
    card.appendChild(head);
    card.appendChild(el('p', 'secret-what', { 'data-i18n': 'secrets.' + kind + '.what' }, t('secrets.' + kind + '.what')));
    var previous = el('p', 'hint', { 'data-testid': 'seller-secret-' + kind + '-previous' });
    previous.hidden = true;
    card.appendChild(previous);

    var field = el('div', 'field');
    field.hidden = true; // shown once the status says there is an old secret to keep for a while
    field.appendChild(el('label', null, { 'for': id + '-grace', 'data-i18n': 'secrets.grace' }, t('secrets.grace')));
    var grace = el('input', null, {
      id: id + '-grace', type: 'number', min: 0, max: 168, step: 1, inputmode: 'numeric', value: 24,
      'aria-describedby': id + '-grace-hint', 'data-testid': 'seller-secret-' + kind + '-grace'
    });
    field.appendChild(grace);
    field.appendChild(el('p', 'hint', { id: id + '-grace-hint', 'data-i18n': 'secrets.graceHint' }, t('secrets.graceHint')));
    card.appendChild(field);

    var rotate = el('button', 'btn', { type: 'button', 'aria-expanded': 'false', 'aria-controls': id + '-confirm', 'data-i18n': 'secrets.rotate', 'data-testid': 'seller-secret-' + kind + '-rotate' }, t('secrets.rotate'));
    card.appendChild(rotate);
    var error = el('p', 'field-error', { role: 'alert', 'data-testid': 'seller-secret-' + kind + '-error' });
    error.hidden = true;
    card.appendChild(error);

    var confirm = el('div', 'confirm', { id: id + '-confirm', role: 'group', 'aria-labelledby': id + '-confirm-text', 'data-testid': 'seller-secret-' + kind + '-confirm' });
    confirm.hidden = true;
    var confirmText = el('p', null, { id: id + '-confirm-text' });
    confirm.appendChild(confirmText);
    var where = el('p', 'hint', { 'data-i18n': 'secrets.' + kind + '.where' }, t('secrets.' + kind + '.where'));
    confirm.appendChild(where);
    var actions = el('div', 'confirm-actions');
    var yes = el('button', 'btn btn-danger', { type: 'button', 'data-i18n': 'secrets.confirm', 'data-testid': 'seller-secret-' + kind + '-confirm-yes' }, t('secrets.confirm'));
    var no = el('button', 'btn', { type: 'button', 'data-i18n': 'common.cancel', 'data-testid': 'seller-secret-' + kind + '-confirm-no' }, t('common.cancel'));
    actions.appendChild(yes);
    actions.appendChild(no);
    confirm.appendChild(actions);
    card.appendChild(confirm);

    var reveal = el('div', 'reveal', { role: 'group', 'aria-labelledby': id + '-value-label', 'data-testid': 'seller-secret-' + kind + '-new' });
    reveal.hidden = true;
    reveal.appendChild(el('label', null, { id: id + '-value-label', 'for': id + '-value', 'data-i18n': 'secrets.newSecret' }, t('secrets.newSecret')));
    var row = el('div', 'copy-row');
    var value = el('input', 'mono', {
      id: id + '-value', type: 'text', readonly: '', translate: 'no', autocomplete: 'off', spellcheck: 'false',
      'aria-describedby': id + '-once', 'data-testid': 'seller-secret-' + kind + '-value'
    });
    var copy = el('button', 'btn', { type: 'button', 'data-i18n': 'common.copy', 'data-testid': 'seller-secret-' + kind + '-copy' }, t('common.copy'));
    row.appendChild(value);
    row.appendChild(copy);
    reveal.appendChild(row);
    var copyStatus = el('p', 'copy-status', { role: 'status' });
    reveal.appendChild(copyStatus);
    reveal.appendChild(el('p', 'callout-warn', { id: id + '-once', 'data-i18n': 'secrets.once' }, t('secrets.once')));
    var until = el('p', 'hint', { 'data-testid': 'seller-secret-' + kind + '-until' });
    reveal.appendChild(until);
    var done = el('button', 'btn btn-small', { type: 'button', 'data-i18n': 'common.done', 'data-testid': 'seller-secret-' + kind + '-done' }, t('common.done'));
    reveal.appendChild(done);
    card.appendChild(reveal);
    box.appendChild(card);

    var c = {
      kind: kind, pill: pill, previous: previous, grace: grace, rotate: rotate, error: error, confirm: confirm,
      confirmText: confirmText, yes: yes, no: no, reveal: reveal, value: value, copy: copy, copyStatus: copyStatus,
      until: until, untilValue: undefined, graceField: field, busy: false, wasSet: true
    };
    secretCards[kind] = c;
    rotate.addEventListener('click', function () { openConfirm(kind); });
    no.addEventListener('click', function () { closeConfirm(kind); rotate.focus(); });
    yes.addEventListener('click', function () { rotateSecret(kind); });
    copy.addEventListener('click', function () { copyField(value, copyStatus); });
    done.addEventListener('click', function () { hideSecret(kind); rotate.focus(); });
    grace.addEventListener('input', function () { error.hidden = true; if (!confirm.hidden) renderConfirm(kind); });
  });
}

function isSet(kind) {
  return !!(secretStatus && secretStatus[kind] && secretStatus[kind].set);
}

function graceHours(kind) {
  if (!isSet(kind)) return 0; // nothing to keep working
  var text = String(secretCards[kind].grace.value).trim();
  if (!/^\d+$/.test(text)) return null;
  var hours = parseInt(text, 10);
  return hours >= 0 && hours <= 168 ? hours : null;
}

function openConfirm(kind) {
  var c = secretCards[kind];
  c.error.hidden = true;
  if (graceHours(kind) === null) {
    c.error.textContent = t('secrets.graceBad');
    c.error.hidden = false;
    c.grace.setAttribute('aria-invalid', 'true');
    c.grace.focus();
    return;
  }
  c.grace.setAttribute('aria-invalid', 'false');
  hideSecret(kind);
  c.confirm.hidden = false;
  c.rotate.setAttribute('aria-expanded', 'true');
  renderConfirm(kind);
  c.yes.focus();
}

function renderConfirm(kind) {
  var c = secretCards[kind];
  var hours = graceHours(kind);
  c.confirmText.textContent = !isSet(kind) ? t('secrets.confirmFirst')
    : (hours ? t('secrets.confirmText', { h: count(hours) }) : t('secrets.confirmTextNow'));
  c.yes.disabled = c.busy || hours === null;
}

function closeConfirm(kind) {
  var c = secretCards[kind];
  c.confirm.hidden = true;
  c.rotate.setAttribute('aria-expanded', 'false');
}

function hideSecret(kind) {
  var c = secretCards[kind];
  c.value.value = '';
  setStatusKey(c.copyStatus, '');
  c.untilValue = undefined;
  c.reveal.hidden = true;
}

function rotateSecret(kind) {
  var c = secretCards[kind];
  var hours = graceHours(kind);
  if (hours === null || c.busy) return;
  var storeId = state.storeId;
  var wasSet = isSet(kind);
  c.busy = true;
  c.yes.disabled = true;
  c.yes.textContent = t('secrets.rotating');
  api.request('POST', storePath('/secrets/' + kind + '/rotate'), { grace_hours: hours }).then(function (result) {
    c.busy = false;
    c.yes.textContent = t('secrets.confirm');
    c.yes.disabled = false;
    if (storeId !== state.storeId || handled(result)) return;
    if (!result.ok || typeof result.data.secret !== 'string') {
      c.error.textContent = t('secrets.failed', { message: refusalText(result.data) || String(result.status) });
      c.error.hidden = false;
      return;
    }
    closeConfirm(kind);
    c.value.value = result.data.secret;
    c.untilValue = result.data.previous_valid_until || null;
    c.wasSet = wasSet;
    c.reveal.hidden = false;
    renderSecrets();
    c.value.focus();
    c.value.select();
    loadSecrets();
  });
}

export function loadSecrets() {
  return loadForTeamTab('/secrets', function (data) {
    secretStatus = data;
    renderSecrets();
  });
}

export function renderSecrets() {
  SECRET_KINDS.forEach(function (kind) {
    var c = secretCards[kind];
    if (!c) return;
    var s = secretStatus && secretStatus[kind];
    c.pill.hidden = !s;
    c.pill.textContent = s ? t(s.set ? 'secrets.set' : 'secrets.notSet') : '';
    c.pill.className = 'pill ' + (s && s.set ? 'pill-ok' : 'pill-off');
    c.previous.hidden = !(s && s.previous_valid_until);
    if (s && s.previous_valid_until) c.previous.textContent = t('secrets.previous', { when: when(s.previous_valid_until) });
    if (!c.confirm.hidden) renderConfirm(kind);
    c.graceField.hidden = !(s && s.set);
    var action = s && !s.set ? 'secrets.create' : 'secrets.rotate';
    c.rotate.setAttribute('data-i18n', action);
    c.rotate.textContent = t(action);
    if (c.untilValue !== undefined) {
      c.until.textContent = c.untilValue ? t('secrets.until', { when: when(c.untilValue) })
        : t(c.wasSet ? 'secrets.untilNone' : 'secrets.first');
    }
  });
}
