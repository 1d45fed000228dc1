/**
 * The message templates: a card per template, with its placeholders as chips and a live preview
 * of the text on the store's latest order. The texts are the seller's own and never translated.
 *
 *   renderTemplates()        builds the cards once per store; later calls (a language switch) only re-label them
 *   forgetCards()            the open store's cards, gone (a store switch)
 *   showSavedTemplates()     every card back to the saved text (after a save or a rollback loaded a new version)
 *   discardTemplateEdits()   the seller's unsaved template edits, undone
 *   schedulePreview(key, delay), showTemplateError(key), focusTemplate(key)
 */

import { $, el } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { fieldRefusalText } from '../shared/refusals.js';
import { api, handled, state, storePath } from './console.js';
import { placeholderDescription, templateHint, templateName } from './names.js';
import { updateSaveState } from './settings.js';

const PREVIEW_DELAY_MS = 300;
/** The open store's cards by template key. */
const cards = {};

export function forgetCards() {
  Object.keys(cards).forEach(function (key) { delete cards[key]; });
}

export function hasCard(key) {
  return Object.prototype.hasOwnProperty.call(cards, key);
}

export function focusTemplate(key) {
  cards[key].area.focus();
}

/** Same store, new version: the cards stay (and keep their previews until the new ones arrive). */
export function showSavedTemplates() {
  Object.keys(cards).forEach(function (key) {
    var card = cards[key];
    card.area.value = templateText(key);
    card.changed.hidden = card.reset.hidden = true;
    card.root.classList.remove('is-changed');
  });
}

export function discardTemplateEdits() {
  Object.keys(cards).forEach(function (key) { cards[key].area.value = state.data.settings.templates[key]; });
  Object.keys(state.edits).forEach(function (key) { delete state.edits[key]; edited(key, cards[key].area.value); });
  state.errors = {};
  Object.keys(cards).forEach(showTemplateError);
}

/** A placeholder's description in the console's language (in English, the server's). */
function describePlaceholder(name) {
  return placeholderDescription(name, state.data.placeholder_descriptions);
}

function templateText(key) {
  return Object.prototype.hasOwnProperty.call(state.edits, key) ? state.edits[key] : state.data.settings.templates[key];
}

/** Builds a card once per template; later calls (a language switch) only re-label it. */
export function renderTemplates() {
  var keys = Object.keys(state.data.settings.templates);
  var box = $('templates');
  keys.forEach(function (key) {
    var card = cards[key];
    if (!card) {
      card = buildCard(key);
      cards[key] = card;
      box.appendChild(card.root);
    }
    card.title.textContent = templateName(key);
    card.hint.textContent = templateHint(key);
    card.chipsLabel.textContent = t('templates.placeholders');
    card.previewLabel.textContent = t('templates.preview');
    card.changed.textContent = t('templates.changed');
    card.reset.textContent = t('templates.reset');
    card.chips.forEach(function (chip) {
      var name = chip.getAttribute('data-placeholder');
      var description = describePlaceholder(name);
      chip.setAttribute('title', description);
      chip.setAttribute('aria-label', t('templates.insert', { name: '{' + name + '}', description: description }));
    });
    card.descriptions.forEach(function (dd) { dd.textContent = describePlaceholder(dd.getAttribute('data-placeholder')); });
    showTemplateError(key);
  });
}

function buildCard(key) {
  var root = el('article', 'tpl card', { 'data-testid': 'seller-template', 'data-key': key });
  var head = el('div', 'tpl-head');
  var title = el('h3', 'tpl-title', { id: 'tpl-title-' + key, 'data-testid': 'seller-template-title' });
  var changed = el('span', 'tpl-changed', { 'data-testid': 'seller-template-changed' });
  changed.hidden = true;
  head.appendChild(title);
  head.appendChild(changed);
  var hint = el('p', 'hint tpl-hint', { id: 'tpl-hint-' + key });
  // No maxlength: it counts UTF-16 units (an emoji twice), the server characters; its refusal shows under the card.
  var area = el('textarea', 'textarea', {
    id: 'tpl-' + key, rows: 3, spellcheck: 'true',
    'aria-labelledby': 'tpl-title-' + key, 'aria-describedby': 'tpl-hint-' + key + ' tpl-error-' + key,
    'data-testid': 'seller-template-text'
  });
  area.value = templateText(key);
  area.addEventListener('input', function () { edited(key, area.value); });

  var chipsRow = el('div', 'chips');
  var chipsLabel = el('span', 'chips-label', { id: 'tpl-chips-' + key });
  chipsRow.appendChild(chipsLabel);
  var chips = [];
  var list = el('dl', 'placeholder-list', { 'data-testid': 'seller-placeholder-list' });
  var descriptions = [];
  (state.data.placeholders[key] || []).forEach(function (name) {
    var chip = el('button', 'chip', { type: 'button', 'data-placeholder': name, 'data-testid': 'seller-chip' }, '{' + name + '}');
    chip.addEventListener('click', function () { insertPlaceholder(area, name); edited(key, area.value); });
    chips.push(chip);
    chipsRow.appendChild(chip);
    list.appendChild(el('dt', null, null, '{' + name + '}'));
    var dd = el('dd', null, { 'data-placeholder': name });
    descriptions.push(dd);
    list.appendChild(dd);
  });

  var error = el('p', 'field-error', { id: 'tpl-error-' + key, role: 'alert', 'data-testid': 'seller-template-error' });
  error.hidden = true;
  var previewBox = el('div', 'preview');
  var previewLabel = el('span', 'preview-label');
  var preview = el('p', 'preview-text', { 'aria-live': 'polite', 'data-testid': 'seller-template-preview' });
  previewBox.appendChild(previewLabel);
  previewBox.appendChild(preview);
  var reset = el('button', 'btn btn-quiet btn-small', { type: 'button', 'data-testid': 'seller-template-reset' });
  reset.hidden = true;
  reset.addEventListener('click', function () {
    area.value = state.data.settings.templates[key];
    edited(key, area.value);
  });

  root.appendChild(head);
  root.appendChild(hint);
  root.appendChild(area);
  root.appendChild(error);
  root.appendChild(chipsRow);
  root.appendChild(list);
  root.appendChild(previewBox);
  root.appendChild(reset);
  return {
    root: root, title: title, hint: hint, area: area, chips: chips, chipsLabel: chipsLabel, descriptions: descriptions,
    error: error, preview: preview, previewLabel: previewLabel, changed: changed, reset: reset
  };
}

function insertPlaceholder(area, name) {
  var text = '{' + name + '}';
  var start = area.selectionStart == null ? area.value.length : area.selectionStart;
  var end = area.selectionEnd == null ? start : area.selectionEnd;
  area.value = area.value.slice(0, start) + text + area.value.slice(end);
  area.focus();
  area.setSelectionRange(start + text.length, start + text.length);
}

function edited(key, value) {
  state.notice = null;
  if (value === state.data.settings.templates[key]) delete state.edits[key];
  else state.edits[key] = value;
  var card = cards[key];
  card.changed.hidden = card.reset.hidden = !Object.prototype.hasOwnProperty.call(state.edits, key);
  card.root.classList.toggle('is-changed', !card.changed.hidden);
  schedulePreview(key, PREVIEW_DELAY_MS);
  updateSaveState();
}

export function schedulePreview(key, delay) {
  clearTimeout(state.previewTimers[key]);
  var card = cards[key];
  if (card) card.preview.setAttribute('aria-busy', 'true');
  state.previewTimers[key] = setTimeout(function () { runPreview(key); }, delay);
}

function runPreview(key) {
  var storeId = state.storeId;
  var seq = (state.previewSeq[key] || 0) + 1;
  state.previewSeq[key] = seq;
  var text = templateText(key);
  api.request('POST', storePath('/preview'), { template: key, text: text }).then(function (result) {
    if (storeId !== state.storeId || state.previewSeq[key] !== seq || !cards[key]) return; // a newer one is on its way
    var card = cards[key];
    card.preview.removeAttribute('aria-busy');
    if (result.status === 400) {
      state.errors[key] = result.data; // the refusal, put in words when shown (in the language of the moment)
      card.preview.textContent = '';
      card.preview.classList.add('is-stale');
    } else if (result.ok) {
      delete state.errors[key];
      card.preview.textContent = result.data.rendered;
      card.preview.classList.remove('is-stale');
    } else {
      if (handled(result)) return;
      card.preview.textContent = t('templates.previewFailed');
    }
    showTemplateError(key);
    updateSaveState();
  });
}

export function showTemplateError(key) {
  var card = cards[key];
  if (!card) return;
  var message = state.errors[key] ? fieldRefusalText(state.errors[key]) : '';
  card.error.hidden = !message;
  card.error.textContent = message ? t('templates.error', { message: message }) : '';
  card.area.setAttribute('aria-invalid', message ? 'true' : 'false');
  card.root.classList.toggle('has-error', !!message);
}
