/**
 * A guide's install steps: one box per step, in order. Enter splits a step at the caret, pasted lines
 * become steps, and each step can move up or down or go; the focus follows the step it was on.
 *
 *   renderSteps(focus)        the steps of the open guide; focus: {kind: 'text'|'up'|'down'|'remove', index, caret}
 *   addStep(at, text, caret)  a new step (at most maxSteps(), the server's limit, sent with the products)
 *   fitAllRows()              each box as tall as its text (once the tab is shown)
 *   tidyStep(text)            a step as it is saved: one line, no extra spaces
 */

import { $, clear, el } from '../shared/dom.js';
import { count, t } from '../shared/i18n.js';
import { guideEdited, guides, renderGuideErrors } from './guides.js';

/** How many steps a guide can have, as the server said with the products (none said: no limit here, the server's refusal says it). */
function maxSteps() {
  return Number(guides.limits.max_steps) || Infinity;
}

export function tidyStep(text) { return String(text).replace(/\s+/g, ' ').trim(); }

export function renderSteps(focus) {
  var list = $('guide-steps');
  clear(list);
  var n = guides.steps.length;
  guides.steps.forEach(function (text, i) {
    var number = i + 1;
    var item = el('li', 'step', { 'data-testid': 'seller-guide-step' });
    item.appendChild(el('span', 'step-number', { 'aria-hidden': 'true' }, String(number)));
    // No maxlength: it counts UTF-16 units (an emoji twice), the server characters; saving says which step is too long.
    var area = el('textarea', 'textarea step-text', {
      rows: 2, spellcheck: 'true', 'aria-label': t('guides.step', { n: number }),
      'aria-describedby': 'guide-steps-error', 'data-testid': 'seller-guide-step-text', 'data-index': i
    });
    area.value = text;
    area.addEventListener('input', function () { guides.steps[i] = area.value; fitRows(area); guideEdited(); });
    area.addEventListener('keydown', function (event) { stepKey(event, i, area); });
    area.addEventListener('paste', function (event) { stepPaste(event, i, area); });
    item.appendChild(area);
    var tools = el('div', 'step-tools');
    tools.appendChild(stepButton('up', '↑', t('guides.stepUp', { n: number }), i === 0, function () { moveStep(i, -1); }));
    tools.appendChild(stepButton('down', '↓', t('guides.stepDown', { n: number }), i === n - 1, function () { moveStep(i, 1); }));
    tools.appendChild(stepButton('remove', '×', t('guides.stepRemove', { n: number }), false, function () { removeStep(i); }));
    item.appendChild(tools);
    list.appendChild(item);
  });
  $('guide-steps-empty').hidden = n > 0;
  $('guide-add-step').disabled = n >= maxSteps();
  fitAllRows();
  var item = focus ? list.children[focus.index] : null;
  if (item) {
    // The same control on the step's new place; a disabled arrow (at an end of the list) hands over to the other.
    var target = item.querySelector(focus.kind === 'text' ? 'textarea' : '[data-step-action="' + focus.kind + '"]');
    if (!target || target.disabled) target = item.querySelector('[data-step-action="' + (focus.kind === 'up' ? 'down' : 'up') + '"]');
    if (!target || target.disabled) target = item.querySelector('textarea');
    target.focus();
    if (focus.caret != null && target.setSelectionRange) target.setSelectionRange(focus.caret, focus.caret);
  }
}

/** A step's box grows with its text (through rows: the CSP leaves styles to seller.css). */
function fitRows(area) {
  if (!area.clientHeight) return; // hidden: fitted when its tab is shown
  area.rows = 2;
  while (area.scrollHeight > area.clientHeight && area.rows < 12) area.rows += 1;
}

export function fitAllRows() {
  var areas = $('guide-steps').querySelectorAll('textarea');
  for (var i = 0; i < areas.length; i++) fitRows(areas[i]);
}

function stepButton(kind, symbol, label, disabled, onClick) {
  var button = el('button', 'btn btn-quiet step-button', {
    type: 'button', 'aria-label': label, title: label, 'data-step-action': kind, 'data-testid': 'seller-guide-step-' + kind
  });
  button.appendChild(el('span', null, { 'aria-hidden': 'true' }, symbol));
  button.disabled = disabled;
  button.addEventListener('click', onClick);
  return button;
}

function moveStep(i, by) {
  var j = i + by;
  if (j < 0 || j >= guides.steps.length) return;
  var moved = guides.steps[i];
  guides.steps[i] = guides.steps[j];
  guides.steps[j] = moved;
  renderSteps({ kind: by < 0 ? 'up' : 'down', index: j });
  guideEdited();
}

function removeStep(i) {
  guides.steps.splice(i, 1);
  if (guides.steps.length) renderSteps({ kind: 'text', index: Math.min(i, guides.steps.length - 1) });
  else { renderSteps(); $('guide-add-step').focus(); }
  guideEdited();
}

export function addStep(at, text, caret) {
  if (guides.steps.length >= maxSteps()) {
    guides.errors.install_steps = ['guides.maxSteps', { n: count(maxSteps()) }];
    renderGuideErrors();
    return;
  }
  guides.steps.splice(at, 0, text || '');
  renderSteps({ kind: 'text', index: at, caret: caret || 0 });
  guideEdited();
}

/** Enter splits the step at the caret into a new one (Shift+Enter too: a step is one line). */
function stepKey(event, i, area) {
  if (event.key !== 'Enter' || event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  var caret = area.selectionStart == null ? area.value.length : area.selectionStart;
  var before = area.value.slice(0, caret);
  var after = area.value.slice(area.selectionEnd == null ? caret : area.selectionEnd);
  guides.steps[i] = before;
  addStep(i + 1, after.replace(/^\s+/, ''), 0);
}

/** Several pasted lines become several steps. */
function stepPaste(event, i, area) {
  var data = event.clipboardData && event.clipboardData.getData('text');
  if (!data || !/[\r\n]/.test(data)) return;
  var lines = data.split(/\r?\n|\r/).map(function (l) { return l.replace(/^\s*(?:\d+[.)、]|[-*•])\s*/, '').trim(); })
    .filter(function (l) { return l; });
  if (!lines.length) return;
  event.preventDefault();
  var start = area.selectionStart == null ? area.value.length : area.selectionStart;
  var end = area.selectionEnd == null ? start : area.selectionEnd;
  var head = area.value.slice(0, start);
  var tail = area.value.slice(end);
  var room = maxSteps() - guides.steps.length;
  var extra = lines.slice(1, 1 + room);
  guides.steps[i] = head + lines[0];
  var last = i + extra.length;
  var caret = (extra.length ? extra[extra.length - 1] : guides.steps[i]).length;
  if (extra.length) extra[extra.length - 1] += tail;
  else guides.steps[i] += tail;
  Array.prototype.splice.apply(guides.steps, [i + 1, 0].concat(extra));
  renderSteps({ kind: 'text', index: last, caret: caret });
  if (lines.length - 1 > extra.length) {
    guides.errors.install_steps = ['guides.maxSteps', { n: count(maxSteps()) }];
    renderGuideErrors();
  }
  guideEdited();
}
