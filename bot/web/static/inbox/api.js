/**
 * The demo inbox's requests (bot/web/demo_inbox.py): JSON in, JSON out.
 *
 *   listMessages()            the kept emails, newest first
 *   getMessage(id)            one email: headers, text, links, attachments
 *   sendReply(id, text)       the shopper's reply, passed on to the store's inbound webhook
 */

const API = '/demo/inbox/api/messages';

async function answer(response) {
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok) {
    const error = new Error((body && body.error) || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

export async function listMessages() {
  return answer(await fetch(API, { headers: { Accept: 'application/json' } }));
}

export async function getMessage(id) {
  return answer(await fetch(`${API}/${encodeURIComponent(id)}`, { headers: { Accept: 'application/json' } }));
}

export async function sendReply(id, text) {
  return answer(await fetch(`${API}/${encodeURIComponent(id)}/reply`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ text }),
  }));
}
