/**
 * The store's own sending server (SMTP), in Team & security beside the other secrets. Its password is
 * written and never read back: the server says only whether one is saved, and the field stays empty.
 *
 *   startSmtp()     the form wired once
 *   loadSmtp()      the open store's server
 *   renderSmtp()    the state line and the password hint (again, after a language switch)
 *   resetSmtp()     the form emptied (a store switch, signing out)
 */

import { $ } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { fieldRefusalText, refusalText } from '../shared/refusals.js';
import { api, handled, loadForTeamTab, state, storePath } from './console.js';

const FIELDS = ['host', 'tls', 'port', 'username', 'password'];
const smtp = { status: null, busy: false, notice: null, refusal: null };

export function resetSmtp() {
  Object.assign(smtp, { status: null, busy: false, notice: null, refusal: null });
  FIELDS.forEach(function (name) { $('smtp-' + name).value = ''; });
  $('smtp-tls').value = 'starttls';
  $('smtp-remove-password').checked = false;
  renderSmtp();
}

export function startSmtp() {
  $('smtp-form').addEventListener('submit', function (event) { event.preventDefault(); save(); });
  $('smtp-clear').addEventListener('click', clearServer);
  FIELDS.forEach(function (name) {
    $('smtp-' + name).addEventListener('input', function () { smtp.notice = null; smtp.refusal = null; renderSmtp(); });
  });
}

export function loadSmtp() {
  return loadForTeamTab('/smtp', show);
}

function show(status) {
  smtp.status = status;
  $('smtp-host').value = status.host || '';
  $('smtp-tls').value = status.tls || 'starttls';
  $('smtp-port').value = status.port || '';
  $('smtp-username').value = status.username || '';
  $('smtp-password').value = ''; // never shown back: the server does not even send it
  $('smtp-remove-password').checked = false;
  renderSmtp();
}

export function renderSmtp() {
  var s = smtp.status;
  var own = !!(s && s.host);
  var pill = $('smtp-state');
  pill.hidden = !s;
  pill.textContent = s ? t(own ? 'smtp.own' : 'smtp.deployment') : '';
  pill.className = 'pill ' + (own ? 'pill-ok' : 'pill-off');
  $('smtp-password-state').textContent = s ? t(s.password_set ? 'smtp.passwordSet' : 'smtp.passwordNone') : '';
  $('smtp-remove-box').hidden = !(s && s.password_set);
  $('smtp-clear').disabled = smtp.busy || !own;
  $('smtp-save').disabled = smtp.busy;
  $('smtp-save').textContent = t(smtp.busy ? 'smtp.saving' : 'smtp.save');
  $('smtp-status').textContent = smtp.notice ? t(smtp.notice) : '';
  var field = smtp.refusal && smtp.refusal.field;
  FIELDS.forEach(function (name) {
    var error = $('smtp-error-' + name);
    var here = field === name;
    error.hidden = !here;
    error.textContent = here ? fieldRefusalText(smtp.refusal) : '';
    $('smtp-' + name).setAttribute('aria-invalid', here ? 'true' : 'false');
  });
  var elsewhere = smtp.refusal && FIELDS.indexOf(field) < 0;
  $('smtp-error').hidden = !elsewhere;
  $('smtp-error').textContent = elsewhere ? t('smtp.failed', { message: refusalText(smtp.refusal) }) : '';
}

/** The form as the API takes it: a password left empty is left out (kept), unless it is to be removed. */
function formBody() {
  var body = { host: $('smtp-host').value.trim(), tls: $('smtp-tls').value, username: $('smtp-username').value.trim() || null };
  var port = $('smtp-port').value.trim();
  if (port) body.port = /^\d+$/.test(port) ? parseInt(port, 10) : port;
  var password = $('smtp-password').value;
  if (password) body.password = password;
  else if ($('smtp-remove-password').checked) body.password = null;
  return body;
}

function answered(storeId, result, notice) {
  smtp.busy = false;
  if (storeId !== state.storeId) return;
  if (handled(result)) { renderSmtp(); return; }
  if (result.ok) {
    show(result.data);
    smtp.notice = notice;
  } else {
    smtp.refusal = result.data || {};
  }
  renderSmtp();
  if (smtp.refusal && FIELDS.indexOf(smtp.refusal.field) >= 0) $('smtp-' + smtp.refusal.field).focus();
}

function save() {
  if (smtp.busy) return;
  var storeId = state.storeId;
  smtp.busy = true;
  smtp.notice = null;
  smtp.refusal = null;
  renderSmtp();
  api.request('PUT', storePath('/smtp'), formBody()).then(function (result) {
    $('smtp-password').value = '';
    answered(storeId, result, 'smtp.saved');
  });
}

function clearServer() {
  if (smtp.busy || !window.confirm(t('smtp.clearConfirm'))) return;
  var storeId = state.storeId;
  smtp.busy = true;
  smtp.notice = null;
  smtp.refusal = null;
  renderSmtp();
  api.request('DELETE', storePath('/smtp')).then(function (result) { answered(storeId, result, 'smtp.cleared'); });
}
