/**
 * The reply box: a character counter, Enter to send (not while an IME is
 * composing), and a draft per conversation that survives everything but a send.
 */
import { count, t } from '../shared/i18n.js';
import { post } from './api.js';
import { convPath, fetchConversation, updateControls } from './conversation.js';
import { clearError, focusQuietly, showError, ui } from './page.js';
import { failed } from './session.js';
import { busy, current, drafts, session } from './state.js';
import { addMessages } from './transcript.js';

/** The longest reply the server takes, in characters (it says so with the account); 0 while unknown. */
export function maxReply() {
  return session.limits.replyChars;
}

/** Whether a text is longer than a limit the server gave (none given: the server's refusal says it). */
export function overLimit(text, limit) {
  return limit > 0 && characterCount(text) > limit;
}

/**
 * A text's length as the server counts it (bot/support/handoff.py: Python's len), in characters: an emoji or a
 * rare CJK character is one, where String.length (and a textarea's maxlength) counts two. Hence no
 * maxlength on the reply and note boxes: the counter and this check say when a text is too long.
 */
export function characterCount(text) {
  return Array.from(text).length;
}

export function updateCounter() {
  const n = characterCount(ui.replyText.value);
  const max = maxReply();
  ui.replyCounter.textContent = max ? count(n) + ' / ' + count(max) : count(n);
  ui.replyCounter.classList.toggle('is-near', max > 0 && n >= Math.floor(max * 0.9) && n < max);
  ui.replyCounter.classList.toggle('is-full', max > 0 && n >= max);
}

function sendReply() {
  const cid = current.id;
  if (!cid || busy.sending || ui.replyText.disabled) return;
  const text = ui.replyText.value.trim();
  if (!text) {
    focusQuietly(ui.replyText);
    return;
  }
  if (overLimit(text, maxReply())) {
    showError(t('reply.tooLong', { n: count(maxReply()) }));
    return;
  }
  busy.sending = true;
  updateControls();
  post(convPath(cid, '/messages'), { text }).then((r) => {
    busy.sending = false;
    if (cid === current.id) {
      if (r.ok) {
        clearError();
        ui.replyText.value = '';
        drafts.reply[cid] = '';
        updateCounter();
        if (r.data && r.data.message) addMessages([r.data.message], true);
        else fetchConversation(cid);
      } else {
        // The text stays in the box so nothing typed is lost.
        failed(r);
        if (r.status === 409) fetchConversation(cid);
      }
      updateControls();
      if (!ui.replyText.disabled) focusQuietly(ui.replyText);
    } else if (r.ok) {
      drafts.reply[cid] = ''; // sent from a conversation the agent has since left
    } else {
      failed(r);
    }
  });
}

export function initComposer() {
  ui.replyForm.addEventListener('submit', (e) => {
    e.preventDefault();
    sendReply();
  });
  ui.replyText.addEventListener('keydown', (e) => {
    // Enter sends, Shift+Enter is a new line; not while an IME is composing a character.
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      sendReply();
    }
  });
  ui.replyText.addEventListener('input', () => {
    updateCounter();
    if (current.id) drafts.reply[current.id] = ui.replyText.value;
  });
}
