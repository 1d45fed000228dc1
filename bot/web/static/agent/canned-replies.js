/**
 * Canned replies: the store's prepared texts, picked from a list and put into
 * the reply box at the cursor. The agent reviews the text and sends it themselves.
 */
import { el } from '../shared/dom.js';
import { count, t } from '../shared/i18n.js';
import { maxReply, overLimit, updateCounter } from './composer.js';
import { shown, updateControls } from './conversation.js';
import { focusQuietly, showError, ui } from './page.js';
import { current, drafts, str } from './state.js';

export function renderCanned(list) {
  shown.canned = list;
  while (ui.canned.options.length > 1) ui.canned.remove(1);
  list.forEach((c) => {
    if (!c || typeof c !== 'object' || !c.text) return;
    // The store's own texts: shown as the store wrote them.
    const option = el('option', null, { value: str(c.id), title: str(c.text).slice(0, 300) }, str(c.title) || str(c.text).slice(0, 60));
    ui.canned.appendChild(option);
  });
  ui.canned.value = '';
  updateControls();
}

/** Put text at the cursor (replacing any selection). */
function insertIntoReply(text) {
  const box = ui.replyText;
  const value = box.value;
  let start = typeof box.selectionStart === 'number' ? box.selectionStart : value.length;
  let end = typeof box.selectionEnd === 'number' ? box.selectionEnd : value.length;
  if (document.activeElement !== box && start === 0 && end === 0) start = end = value.length; // never focused: append
  const before = value.slice(0, start);
  const insert = before && !/\s$/.test(before) ? ' ' + text : text;
  const next = before + insert + value.slice(end);
  if (overLimit(next, maxReply())) {
    showError(t('reply.cannedTooLong', { n: count(maxReply()) }));
    return;
  }
  box.value = next;
  const caret = before.length + insert.length;
  focusQuietly(box);
  try {
    box.setSelectionRange(caret, caret);
  } catch (e) { /* ignore */ }
  if (current.id) drafts.reply[current.id] = box.value;
  updateCounter();
}

export function initCannedReplies() {
  ui.canned.addEventListener('change', () => {
    const id = ui.canned.value;
    ui.canned.value = ''; // back to the prompt, so the same reply can be picked twice
    if (!id || !shown.canned) return;
    let reply = null;
    shown.canned.forEach((c) => {
      if (c && str(c.id) === id) reply = c;
    });
    if (!reply || ui.replyText.disabled) return;
    insertIntoReply(str(reply.text));
  });
}
