/**
 * The transcript: every message of the open conversation in seq order, added
 * without disturbing what the agent is reading. The shopper's words are shown
 * exactly as written, as plain text; links in the bot's and agents' messages
 * open in a new tab; what the console itself writes follows its language.
 */
import { clear, el } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { appendLinkified, externalLink, safeUrl } from '../shared/safe-text.js';
import { focusQuietly, ui } from './page.js';
import { photoGallery } from './photos.js';
import { current, str } from './state.js';
import { timeEl } from './wording.js';

const SENDERS = ['shopper', 'bot', 'agent', 'store'];
const ATTACHMENTS = ['pdf', 'video', 'image', 'link'];

let shownMessages = []; // the messages on screen, in seq order, to draw again after a language switch
let seen = {}; // seq -> true for the messages shown

function normaliseMessage(m) {
  if (!m || typeof m !== 'object') return null;
  const seq = Number(m.seq);
  if (!isFinite(seq)) return null;
  return {
    seq,
    sender: SENDERS.indexOf(m.sender) >= 0 ? m.sender : 'bot',
    author: str(m.author),
    text: str(m.text),
    buttons: Array.isArray(m.buttons) ? m.buttons.filter((b) => b && b.title) : [],
    attachment: m.attachment && typeof m.attachment === 'object' ? m.attachment : null,
    created_at: m.created_at
  };
}

function shopperLabel() {
  const conv = current.conv;
  return (conv && (str(conv.shopper_name) || str(conv.shopper_email))) || t('sender.shopper');
}

function senderLabel(m) {
  if (m.sender === 'shopper') return shopperLabel();
  if (m.sender === 'agent') return m.author || t('sender.agent');
  if (m.sender === 'store') return m.author || (current.conv && str(current.conv.store_name)) || t('sender.store');
  return t('sender.bot');
}

function filenameOf(url) {
  const parts = url.pathname.split('/');
  let last = parts[parts.length - 1] || '';
  try {
    last = decodeURIComponent(last);
  } catch (e) { /* keep it encoded */ }
  return last || url.hostname;
}

function renderAttachment(a) {
  if (a.type === 'photos') return photoGallery(a.photos, t('photos.inMessage'), 'agent-message-photos');
  if (a.type === 'photo_request') {
    // The shopper's widget shows its upload button here.
    return el('div', 'att att--photo-request', { 'data-testid': 'agent-photo-request' }, t('photos.requested'));
  }
  const kind = ATTACHMENTS.indexOf(a.type) >= 0 ? a.type : 'link';
  const title = str(a.title).trim();
  const box = el('div', 'att att--' + kind, { 'data-testid': 'agent-attachment', 'data-type': kind });
  box.appendChild(el('span', 'att-kind', null, t('attachment.' + kind)));
  const url = safeUrl(a.url, window.location.href);
  if (url) {
    box.appendChild(externalLink(url, title || filenameOf(url), 'att-link'));
    box.appendChild(el('span', 'att-host', null, url.hostname));
  } else {
    // Not http(s) (javascript:, data:, garbage): show it inert so the agent knows what the shopper saw.
    box.appendChild(el('span', 'att-title', null, title || t('attachment.untitled')));
    if (a.url) box.appendChild(el('span', 'att-raw', null, t('attachment.notOpened', { url: str(a.url).slice(0, 200) })));
  }
  return box;
}

function renderMessage(m) {
  const node = el('div', 'msg msg--' + m.sender, {
    'data-testid': 'agent-message',
    'data-sender': m.sender,
    'data-seq': String(m.seq)
  });
  const head = el('div', 'msg-head');
  head.appendChild(el('span', 'msg-author', { 'data-testid': 'agent-message-author' }, senderLabel(m)));
  if (m.sender === 'agent') head.appendChild(el('span', 'msg-role', null, t('message.agentRole')));
  if (m.created_at) head.appendChild(timeEl(m.created_at, 'msg-time'));
  node.appendChild(head);

  if (m.text) {
    // translate="no": a browser's page translation must not rewrite what people wrote either.
    const bubble = el('div', 'msg-text', { 'data-testid': 'agent-message-text', translate: 'no' });
    // Links in the shopper's own words stay plain text: an agent should copy, not click, what a stranger typed.
    if (m.sender === 'shopper') bubble.textContent = m.text;
    else appendLinkified(bubble, m.text);
    node.appendChild(bubble);
  }
  if (m.attachment) node.appendChild(renderAttachment(m.attachment));
  if (m.buttons.length) {
    // What the shopper was offered, for context: not clickable here.
    const chips = el('ul', 'chips', { 'aria-label': t('message.buttons') });
    m.buttons.forEach((b) => {
      chips.appendChild(el('li', 'chip', { 'data-testid': 'agent-message-button', title: b.payload ? str(b.payload) : null }, str(b.title)));
    });
    node.appendChild(chips);
  }
  return node;
}

function nearBottom() {
  const box = ui.transcript;
  return box.scrollHeight - box.scrollTop - box.clientHeight < 60;
}

function scrollToBottom() {
  ui.transcript.scrollTop = ui.transcript.scrollHeight;
  ui.jump.hidden = true;
}

/** Add the messages not shown yet, in seq order, without disturbing what the agent is reading. */
export function addMessages(list, forceScroll) {
  if (!Array.isArray(list)) return;
  const first = !ui.transcript.firstChild;
  const stick = first || forceScroll || nearBottom();
  let added = 0;
  if (first) ui.transcript.setAttribute('aria-busy', 'true'); // the history is not news: don't read it all out
  list
    .map(normaliseMessage)
    .filter(Boolean)
    .sort((a, b) => a.seq - b.seq)
    .forEach((m) => {
      if (seen[m.seq]) return;
      seen[m.seq] = true;
      const node = renderMessage(m);
      // Usually the end; an earlier seq (a late write) goes where it belongs.
      let ref = null;
      let child = ui.transcript.lastElementChild;
      while (child && Number(child.getAttribute('data-seq')) > m.seq) {
        ref = child;
        child = child.previousElementSibling;
      }
      ui.transcript.insertBefore(node, ref);
      let at = shownMessages.length;
      while (at > 0 && shownMessages[at - 1].seq > m.seq) at--;
      shownMessages.splice(at, 0, m);
      added++;
    });
  if (first) ui.transcript.setAttribute('aria-busy', 'false');
  if (!added) return;
  if (stick) scrollToBottom();
  else ui.jump.hidden = false; // the agent scrolled up to read: say there is more, don't yank them down
}

export function resetTranscript() {
  shownMessages = [];
  seen = {};
  clear(ui.transcript);
  ui.jump.hidden = true;
}

/** The same messages drawn again in the console's new language, where the agent was reading. */
export function relabelTranscript() {
  const top = ui.transcript.scrollTop;
  ui.transcript.setAttribute('aria-busy', 'true'); // nothing new to announce
  clear(ui.transcript);
  shownMessages.forEach((m) => ui.transcript.appendChild(renderMessage(m)));
  ui.transcript.scrollTop = top;
  ui.transcript.setAttribute('aria-busy', 'false');
}

export function initTranscript() {
  ui.jump.addEventListener('click', () => {
    scrollToBottom();
    focusQuietly(ui.transcript);
  });
  ui.transcript.addEventListener('scroll', () => {
    if (!ui.jump.hidden && nearBottom()) ui.jump.hidden = true;
  }, { passive: true });
}
