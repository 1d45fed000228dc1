/**
 * The "Messages & settings" tab beyond the template cards: review invitations, handoff rules and
 * business hours, privacy (how long shoppers' photos are kept), email (email.js), the save bar, and
 * the settings' version history with rollback.
 *
 *   loadSettings(), loadHistory()   the open store's current version and its history
 *   renderSettingsLabels()          after a language switch: everything built from data, re-labelled
 *   unsavedSettings()               how many settings differ from the saved version
 *   updateSaveState(), formEdited(), save(), discard()
 */

import { $, clear, el } from '../shared/dom.js';
import { count, hasText, t } from '../shared/i18n.js';
import { fieldRefusalText, refusalText } from '../shared/refusals.js';
import { api, handled, showAlert, state, storePath } from './console.js';
import { emailPatch, fillEmail, renderEmailLabels, scheduleEmailPreview, showEmailError } from './email.js';
import { TEMPLATE_NAMES, reasonName, templateName, weekdayName } from './names.js';
import {
  discardTemplateEdits, focusTemplate, hasCard, renderTemplates, schedulePreview, showSavedTemplates, showTemplateError
} from './templates.js';
import { renderVersions } from './versions.js';

export function unsavedSettings() {
  return state.data ? countChanges(buildPatch()) : 0;
}

export function renderSettingsLabels() {
  if (state.data) {
    renderTemplates();
    renderReasons();
    renderHours();
    renderStoreLine();
    renderEmailLabels();
    updateSaveState();
  }
  if (state.history) renderHistory();
}

export function loadSettings() {
  var storeId = state.storeId;
  return api.request('GET', storePath('/settings')).then(function (result) {
    if (storeId !== state.storeId || handled(result)) return;
    if (!result.ok) { showAlert(refusalText(result.data)); return; }
    state.data = result.data;
    state.edits = {};
    state.errors = {};
    showSavedTemplates();
    renderTemplates();
    fillSettings();
    renderStoreLine();
    updateSaveState();
    Object.keys(state.data.settings.templates).forEach(function (key) { schedulePreview(key, 0); });
    scheduleEmailPreview(0);
  });
}

export function loadHistory() {
  var storeId = state.storeId;
  return api.request('GET', storePath('/settings/history')).then(function (result) {
    if (storeId !== state.storeId || handled(result)) return;
    if (result.ok) {
      state.history = result.data;
      renderHistory();
    }
  });
}

export function renderStoreLine() {
  var store = state.data && state.data.store;
  $('store-name').textContent = store ? store.name : '';
  $('store-timezone').textContent = store && store.timezone ? t('escalation.timezone', { tz: store.timezone }) : '';
}

function fillSettings() {
  var s = state.data.settings;
  $('review-delay').value = s.review.delay_days;
  $('review-reminder').checked = !!s.review.reminder;
  $('review-url').value = s.review.url || '';
  $('reply-time').value = s.escalation.reply_time_minutes;
  $('data-retention').value = s.privacy.data_retention_days;
  clear($('reasons'));
  clear($('hours'));
  renderReasons();
  renderHours();
  fillEmail();
}

function renderReasons() {
  var box = $('reasons');
  var chosen = {};
  if (!box.firstChild) {
    (state.data.settings.escalation.reasons || []).forEach(function (r) { chosen[r] = true; });
    state.data.reasons.forEach(function (reason) {
      var id = 'reason-' + reason;
      var row = el('div', 'check');
      var box2 = el('input', null, { type: 'checkbox', id: id, 'data-reason': reason, 'data-testid': 'seller-reason' });
      box2.checked = !!chosen[reason];
      if (reason === 'shopper_request') { box2.checked = true; box2.disabled = true; }
      box2.addEventListener('change', formEdited);
      row.appendChild(box2);
      row.appendChild(el('label', null, { 'for': id, 'data-reason-label': reason }));
      box.appendChild(row);
    });
  }
  var labels = box.querySelectorAll('label[data-reason-label]');
  for (var i = 0; i < labels.length; i++) {
    var r = labels[i].getAttribute('data-reason-label');
    labels[i].textContent = reasonName(r);
  }
}

function renderHours() {
  var box = $('hours');
  if (!box.firstChild) {
    var hours = state.data.settings.escalation.business_hours || state.data.default_business_hours || {};
    state.data.weekdays.forEach(function (day) {
      var id = 'hours-' + day;
      var row = el('div', 'hours-row');
      row.appendChild(el('label', null, { 'for': id, 'data-day-label': day }));
      var input = el('input', null, { id: id, type: 'text', spellcheck: 'false', autocomplete: 'off', 'data-day': day, 'data-testid': 'seller-hours-' + day });
      input.value = (hours[day] || []).join(', ');
      input.addEventListener('input', formEdited);
      row.appendChild(input);
      box.appendChild(row);
    });
  }
  var labels = box.querySelectorAll('label[data-day-label]');
  var inputs = box.querySelectorAll('input[data-day]');
  for (var i = 0; i < labels.length; i++) {
    labels[i].textContent = weekdayName(labels[i].getAttribute('data-day-label'));
    inputs[i].setAttribute('placeholder', t('escalation.closed'));
  }
}

function intOr(value, fallback) {
  var text = String(value).trim();
  return /^-?\d+$/.test(text) ? parseInt(text, 10) : (text === '' ? fallback : text);
}

/** The review, escalation and privacy parts of the form, as the API takes them. */
function formSettings() {
  var s = state.data.settings;
  var url = $('review-url').value.trim();
  var review = { delay_days: intOr($('review-delay').value, null), reminder: $('review-reminder').checked, url: url || null };
  var reasons = [];
  var boxes = $('reasons').querySelectorAll('input[data-reason]');
  for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) reasons.push(boxes[i].getAttribute('data-reason'));
  reasons.sort();
  var hours = {};
  var inputs = $('hours').querySelectorAll('input[data-day]');
  for (i = 0; i < inputs.length; i++) {
    var spans = inputs[i].value.split(/[,，;；]/).map(function (p) { return p.replace(/\s+/g, '').replace(/[–—~～]/g, '-'); })
      .filter(function (p) { return p; });
    if (spans.length) hours[inputs[i].getAttribute('data-day')] = spans;
  }
  var before = s.escalation.business_hours;
  var sameHours = JSON.stringify(normalHours(before || state.data.default_business_hours)) === JSON.stringify(normalHours(hours));
  var escalation = {
    reasons: reasons,
    business_hours: sameHours ? before : hours,
    reply_time_minutes: intOr($('reply-time').value, null)
  };
  var privacy = { data_retention_days: intOr($('data-retention').value, null) };
  return { review: review, escalation: escalation, privacy: privacy };
}

function normalHours(hours) {
  var out = {};
  (state.data.weekdays || []).forEach(function (d) { if (hours && hours[d] && hours[d].length) out[d] = hours[d]; });
  return out;
}

/** Only what differs from the current version: the PUT is a patch. */
function buildPatch() {
  var s = state.data.settings;
  var form = formSettings();
  var patch = {};
  if (Object.keys(state.edits).length) patch.templates = JSON.parse(JSON.stringify(state.edits));
  ['review', 'escalation', 'privacy'].forEach(function (section) {
    var changed = {};
    Object.keys(form[section]).forEach(function (k) {
      var now = form[section][k];
      var then = s[section][k];
      if (k === 'reasons') then = (then || []).slice().sort();
      if (JSON.stringify(now) !== JSON.stringify(then)) changed[k] = now;
    });
    if (Object.keys(changed).length) patch[section] = changed;
  });
  var email = emailPatch();
  if (Object.keys(email).length) patch.email = email;
  return patch;
}

function countChanges(patch) {
  var n = 0;
  Object.keys(patch).forEach(function (section) { n += Object.keys(patch[section]).length; });
  return n;
}

export function formEdited() {
  state.notice = null;
  updateSaveState();
}

export function updateSaveState() {
  if (!state.data) return;
  var n = countChanges(buildPatch());
  var hasErrors = Object.keys(state.errors).length > 0;
  $('save').disabled = state.busy || n === 0 || hasErrors;
  $('discard').disabled = state.busy || n === 0;
  if (state.busy) $('save-status').textContent = t('save.saving');
  else if (hasErrors) $('save-status').textContent = t('save.fixFirst');
  else if (n) $('save-status').textContent = t('save.pending', { n: count(n) });
  else if (state.notice) $('save-status').textContent = t(state.notice[0], state.notice[1]);
  else $('save-status').textContent = t('save.none', { v: state.data.version });
  $('test-unsaved').hidden = n === 0;
}

function fieldLabel(field) {
  if (!field) return '';
  if (field.indexOf('templates.') === 0) {
    return TEMPLATE_NAMES[field.slice(10)] ? templateName(field.slice(10)) : field;
  }
  var key = 'field.' + field;
  return hasText(key) ? t(key) : field;
}

export function save() {
  var patch = buildPatch();
  if (!countChanges(patch) || state.busy) return;
  state.busy = true;
  $('save-error').hidden = true;
  updateSaveState();
  var storeId = state.storeId;
  api.request('PUT', storePath('/settings'), patch).then(function (result) {
    state.busy = false;
    if (storeId !== state.storeId) return;
    if (result.status === 400) {
      var field = result.data.field || '';
      if (field.indexOf('templates.') === 0 && hasCard(field.slice(10))) {
        state.errors[field.slice(10)] = result.data;
        showTemplateError(field.slice(10));
        focusTemplate(field.slice(10));
      }
      showEmailError(result.data);
      var detail = fieldRefusalText(result.data);
      $('save-error').textContent = t('save.error', { message: field ? fieldLabel(field) + ': ' + detail : detail });
      $('save-error').hidden = false;
      updateSaveState();
      return;
    }
    if (handled(result)) { updateSaveState(); return; }
    if (!result.ok) { showAlert(refusalText(result.data)); updateSaveState(); return; }
    var version = result.data.version;
    state.notice = ['save.saved', { v: version }];
    Promise.all([loadSettings(), loadHistory()]).then(updateSaveState);
  });
}

export function discard() {
  discardTemplateEdits();
  fillSettings();
  $('save-error').hidden = true;
  scheduleEmailPreview(0);
  updateSaveState();
}

function renderHistory() {
  renderVersions($('history-list'), (state.history && state.history.versions) || [], state.history && state.history.current, {
    testid: 'seller-history', empty: 'history.empty',
    summaryKeys: 'history.summary.', fieldName: fieldLabel,
    restoreText: 'history.rollback', restoreTestid: 'seller-rollback', restore: rollback
  });
}

function rollback(version, button) {
  if (countChanges(buildPatch()) && !window.confirm(t('history.confirm', { v: version }))) return;
  button.disabled = true;
  var storeId = state.storeId;
  api.request('POST', storePath('/settings/rollback'), { version: version }).then(function (result) {
    button.disabled = false;
    if (storeId !== state.storeId || handled(result)) return;
    if (!result.ok) { showAlert(refusalText(result.data)); return; }
    state.notice = ['history.rolledBack', { v: result.data.version }];
    Promise.all([loadSettings(), loadHistory()]).then(updateSaveState);
  });
}
