/**
 * The reply box: a character counter, Enter to send (not while an IME is
 * composing), and a draft per conversation that survives everything but a send.
 */
import { count, t } from '../shared/i18n.js';
import { post } from './api.js';
import { convPath, fetchConversation, updateControls } from './conversation.js';
import { clearError, focusQuietly, showError, ui } from './page.js';
import { failed } from './session.js';
import { busy, current, drafts } from './state.js';
import { addMessages } from './transcript.js';

export const MAX_REPLY = 2000;
const REPLY_WARN_FROM = 1800;

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
  ui.replyCounter.textContent = count(n) + ' / ' + count(MAX_REPLY);
  ui.replyCounter.classList.toggle('is-near', n >= REPLY_WARN_FROM && n < MAX_REPLY);
  ui.replyCounter.classList.toggle('is-full', n >= MAX_REPLY);
}

function sendReply() {
  const cid = current.id;
  if (!cid || busy.sending || ui.replyText.disabled) return;
  const text = ui.replyText.value.trim();
  if (!text) {
    focusQuietly(ui.replyText);
    return;
  }
  if (characterCount(text) > MAX_REPLY) {
    showError(t('reply.tooLong', { n: count(MAX_REPLY) }));
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
