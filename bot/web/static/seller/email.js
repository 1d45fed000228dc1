/**
 * The "Email" section of Messages & settings: which kinds of message are emailed, the sender's name,
 * the reply domain, the store's page and the quiet hours. Saved with the other settings, as one version
 * (settings.js builds the patch with emailPatch()). Also the email preview: a delivery confirmation as
 * the shopper's email says it, plain text from the server, shown with textContent only.
 *
 *   startEmail()               the inputs wired once
 *   fillEmail()                the form from the saved version (after a load, a save, a discard)
 *   emailPatch()               what differs from the saved version ({} for nothing)
 *   showEmailError(refusal)    a refusal of an email.* field, next to that field; clearEmailErrors()
 *   renderEmailLabels()        after a language switch
 *   scheduleEmailPreview(ms)   the preview again, with the unsaved email templates
 */

import { $, clear, el } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { fieldRefusalText } from '../shared/refusals.js';
import { api, handled, state, storePath } from './console.js';
import { formEdited } from './settings.js';

/** Each kind's name: the texts' keys written out, so that a test can see every one is used. */
const KIND_TEXTS = {
  delivery_confirmation: 'email.kind.delivery_confirmation',
  install_video: 'email.kind.install_video',
  exception_notice: 'email.kind.exception_notice',
  agent_reply: 'email.kind.agent_reply',
  review_invitation: 'email.kind.review_invitation'
};
/** The templates the email preview is made of (any unsaved edit of them goes with the request). */
const PREVIEW_TEMPLATES = ['email_subject', 'email_intro', 'delivery_confirmation', 'email_footer'];
const TEXT_FIELDS = { sender_name: 'email-sender-name', reply_domain: 'email-reply-domain', page_url: 'email-page-url' };
const ERROR_SLOTS = ['kinds', 'sender_name', 'reply_domain', 'page_url', 'quiet_hours'];
const DEFAULT_QUIET = { start: '21:00', end: '08:00' };
const PREVIEW_DELAY_MS = 400;
const preview = { timer: null, seq: 0, refusal: null, failed: false };
/** The refusal shown next to each field, worded again after a language switch. */
const refusals = {};

function saved() {
  return state.data.settings.email;
}

export function startEmail() {
  Object.keys(TEXT_FIELDS).forEach(function (name) {
    $(TEXT_FIELDS[name]).addEventListener('input', function () { hideError(name); formEdited(); });
  });
  ['email-quiet-start', 'email-quiet-end'].forEach(function (id) {
    $(id).addEventListener('input', function () { hideError('quiet_hours'); formEdited(); });
  });
  $('email-quiet-on').addEventListener('change', function () {
    hideError('quiet_hours');
    showQuietTimes();
    formEdited();
  });
  // A template edit (typed, a placeholder chip, "undo") may change the email: preview it again.
  $('templates').addEventListener('input', function () { scheduleEmailPreview(PREVIEW_DELAY_MS); });
  $('templates').addEventListener('click', function (event) {
    if (event.target && event.target.tagName === 'BUTTON') scheduleEmailPreview(PREVIEW_DELAY_MS);
  });
}

export function fillEmail() {
  var email = saved();
  var box = $('email-kinds');
  clear(box);
  Object.keys(email.kinds).forEach(function (kind) {
    var id = 'email-kind-' + kind;
    var row = el('div', 'check');
    var input = el('input', null, { type: 'checkbox', id: id, 'data-kind': kind, 'data-testid': 'seller-email-kind' });
    input.checked = !!email.kinds[kind];
    input.addEventListener('change', function () { hideError('kinds'); formEdited(); });
    row.appendChild(input);
    row.appendChild(el('label', null, { 'for': id, 'data-kind-label': kind }));
    box.appendChild(row);
  });
  Object.keys(TEXT_FIELDS).forEach(function (name) { $(TEXT_FIELDS[name]).value = email[name] || ''; });
  var quiet = email.quiet_hours;
  $('email-quiet-on').checked = !!quiet;
  $('email-quiet-start').value = (quiet || DEFAULT_QUIET).start;
  $('email-quiet-end').value = (quiet || DEFAULT_QUIET).end;
  showQuietTimes();
  clearEmailErrors();
  renderEmailLabels();
}

function showQuietTimes() {
  var on = $('email-quiet-on').checked;
  $('email-quiet-start').disabled = !on;
  $('email-quiet-end').disabled = !on;
}

export function renderEmailLabels() {
  var labels = $('email-kinds').querySelectorAll('label[data-kind-label]');
  for (var i = 0; i < labels.length; i++) {
    var kind = labels[i].getAttribute('data-kind-label');
    labels[i].textContent = KIND_TEXTS[kind] ? t(KIND_TEXTS[kind]) : kind;
  }
  ERROR_SLOTS.forEach(function (name) {
    if (refusals[name]) $('email-error-' + name).textContent = fieldRefusalText(refusals[name]);
  });
  showPreviewState();
}

/** The email section of the form, as the settings API takes it. */
function formEmail() {
  var kinds = {};
  var boxes = $('email-kinds').querySelectorAll('input[data-kind]');
  for (var i = 0; i < boxes.length; i++) kinds[boxes[i].getAttribute('data-kind')] = boxes[i].checked;
  var form = { kinds: kinds };
  Object.keys(TEXT_FIELDS).forEach(function (name) { form[name] = $(TEXT_FIELDS[name]).value.trim() || null; });
  form.quiet_hours = $('email-quiet-on').checked
    ? { start: $('email-quiet-start').value, end: $('email-quiet-end').value } : null;
  return form;
}

/** A value as JSON with its keys in one order: the database may give them back in another. */
function canonical(value) {
  return JSON.stringify(value, value && typeof value === 'object' ? Object.keys(value).sort() : undefined);
}

export function emailPatch() {
  if (!state.data || !$('email-kinds').firstChild) return {};
  var form = formEmail();
  var before = saved();
  var patch = {};
  Object.keys(form).forEach(function (key) {
    if (canonical(form[key]) !== canonical(before[key])) patch[key] = form[key];
  });
  return patch;
}

/** Where a refusal of ``field`` is shown: "email.quiet_hours.start" next to the quiet hours. */
function errorSlot(field) {
  var parts = String(field || '').split('.');
  return parts[0] === 'email' && ERROR_SLOTS.indexOf(parts[1]) >= 0 ? parts[1] : null;
}

/** Whether the refusal was of an email field (then shown next to it). */
export function showEmailError(refusal) {
  var name = errorSlot(refusal && refusal.field);
  if (!name) return false;
  var node = $('email-error-' + name);
  refusals[name] = refusal;
  node.textContent = fieldRefusalText(refusal);
  node.hidden = false;
  var input = TEXT_FIELDS[name] ? $(TEXT_FIELDS[name]) : null;
  if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
  return true;
}

function hideError(name) {
  var node = $('email-error-' + name);
  delete refusals[name];
  node.textContent = '';
  node.hidden = true;
  if (TEXT_FIELDS[name]) $(TEXT_FIELDS[name]).setAttribute('aria-invalid', 'false');
}

export function clearEmailErrors() {
  ERROR_SLOTS.forEach(hideError);
}

export function scheduleEmailPreview(delay) {
  clearTimeout(preview.timer);
  $('email-preview-text').setAttribute('aria-busy', 'true');
  preview.timer = setTimeout(runPreview, delay);
}

function runPreview() {
  if (!state.data) return;
  var storeId = state.storeId;
  var seq = ++preview.seq;
  var templates = {};
  PREVIEW_TEMPLATES.forEach(function (key) {
    if (Object.prototype.hasOwnProperty.call(state.edits, key)) templates[key] = state.edits[key];
  });
  api.request('POST', storePath('/email-preview'), { templates: templates }).then(function (result) {
    if (storeId !== state.storeId || seq !== preview.seq) return; // a newer one is on its way
    $('email-preview-text').removeAttribute('aria-busy');
    preview.refusal = null;
    preview.failed = false;
    if (result.ok) {
      // Text from the server, shown as text: the seller's words may hold anything, markup included.
      $('email-preview-subject').textContent = result.data.subject;
      $('email-preview-text').textContent = result.data.text;
      $('email-preview-text').classList.remove('is-stale');
    } else if (result.status === 400) {
      preview.refusal = result.data;
      $('email-preview-text').classList.add('is-stale');
    } else if (!handled(result)) {
      preview.failed = true;
    }
    showPreviewState();
  });
}

/** A refused or failed preview says why, in the language of the moment, in place of the email. */
function showPreviewState() {
  if (!preview.refusal && !preview.failed) return;
  $('email-preview-subject').textContent = '';
  $('email-preview-text').textContent = preview.failed ? t('email.previewFailed')
    : t('email.previewError', { message: fieldRefusalText(preview.refusal) });
}
