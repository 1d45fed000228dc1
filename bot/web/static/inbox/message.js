/**
 * One kept email, shown: every value is set as text, and the links the server found become real
 * anchors, built with the DOM (never parsed from a string), and only for http(s) addresses.
 *
 *   showMessage(message)      fill the reader with it
 *   webLink(text)             the text as an http(s) URL string, or null
 */

import { $, el, clear } from '../shared/dom.js';

export function webLink(text) {
  let url;
  try { url = new URL(text); } catch (e) { return null; }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}

function anchor(link) {
  return el('a', null, { href: link, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'inbox-link' }, link);
}

/** The text as text nodes, with each occurrence of a known link as an anchor. */
function textWithLinks(box, text, links) {
  const usable = links.filter((link) => webLink(link) !== null);
  let position = 0;
  while (position < text.length) {
    let next = -1;
    let found = null;
    for (const link of usable) {
      const at = text.indexOf(link, position);
      if (at >= 0 && (next < 0 || at < next || (at === next && link.length > found.length))) {
        next = at;
        found = link;
      }
    }
    if (next < 0) break;
    if (next > position) box.appendChild(document.createTextNode(text.slice(position, next)));
    box.appendChild(anchor(found));
    position = next + found.length;
  }
  if (position < text.length) box.appendChild(document.createTextNode(text.slice(position)));
}

function pairs(list, rows) {
  clear(list);
  for (const [name, value] of rows) {
    list.appendChild(el('dt', null, null, name));
    list.appendChild(el('dd', null, null, value));
  }
}

function size(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB`
    : bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : `${bytes} bytes`;
}

export function showMessage(message) {
  $('reader-empty').hidden = true;
  $('reader').hidden = false;
  $('reader').dataset.id = message.id;
  $('subject').textContent = message.subject || '(no subject)';
  pairs($('summary'), [['From', message.from], ['To', message.to], ['Reply-To', message.reply_to || '(none)'],
    ['Date', message.date]]);
  const text = $('text');
  clear(text);
  textWithLinks(text, message.text || '(this email has no plain-text part)', message.links || []);
  const attachments = $('attachments');
  clear(attachments);
  for (const file of message.attachments || []) {
    attachments.appendChild(el('li', null, null, `${file.filename || '(unnamed)'} · ${file.content_type} · ${size(file.size)}`));
  }
  $('attachments-box').hidden = !(message.attachments || []).length;
  pairs($('headers'), message.headers || []);
  $('reply-status').textContent = '';
}
