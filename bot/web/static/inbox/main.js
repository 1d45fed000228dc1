/**
 * The demo inbox page: the list of kept emails (refreshed every few seconds), the chosen one in the
 * reader, and the reply form.
 */

import { $, el, clear } from '../shared/dom.js';
import { listMessages, getMessage, sendReply } from './api.js';
import { showMessage } from './message.js';

const REFRESH_MS = 5000;
let chosen = null;
let shown = '';

function item(message) {
  const button = el('button', null, { type: 'button', 'data-testid': 'inbox-message', 'data-id': message.id });
  button.appendChild(el('span', 'from', null, message.from || '(no sender)'));
  button.appendChild(el('span', 'subject', null, message.subject || '(no subject)'));
  button.appendChild(el('span', 'meta', null, `to ${message.to} · ${message.date}`));
  if (message.id === chosen) button.setAttribute('aria-current', 'true');
  button.addEventListener('click', () => open(message.id));
  return el('li').appendChild(button).parentNode;
}

async function refresh() {
  try {
    const { messages } = await listMessages();
    const ids = messages.map((m) => m.id).join('\n') + '\n' + chosen;
    if (ids === shown) return;
    shown = ids;
    const list = $('messages');
    clear(list);
    for (const message of messages) list.appendChild(item(message));
    $('list-status').textContent = messages.length ? `${messages.length} email(s), newest first`
      : 'No email yet. The store emails a message the shopper has not read after a short while.';
  } catch (error) {
    $('list-status').textContent = `Could not read the inbox: ${error.message}`;
  }
}

async function open(id) {
  chosen = id;
  shown = '';
  try {
    showMessage(await getMessage(id));
  } catch (error) {
    $('list-status').textContent = `Could not open that email: ${error.message}`;
  }
  refresh();
}

async function reply(event) {
  event.preventDefault();
  const id = $('reader').dataset.id;
  const text = $('reply-text').value;
  if (!id || !text.trim()) return;
  const status = $('reply-status');
  status.textContent = 'Sending…';
  try {
    const answer = await sendReply(id, text);
    const result = answer && answer.webhook && typeof answer.webhook.result === 'string' ? ` (${answer.webhook.result})` : '';
    $('reply-text').value = '';
    status.textContent = `Sent${result}. The answer arrives here by email (and in the chat, if it is open).`;
  } catch (error) {
    status.textContent = `Not sent: ${error.message}`;
  }
}

$('refresh').addEventListener('click', refresh);
$('reply-form').addEventListener('submit', reply);
refresh();
setInterval(refresh, REFRESH_MS);
