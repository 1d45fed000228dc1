/**
 * The side panel's order and escalations: the shopper's order with its items,
 * shipments and tracking events (newest first), and the conversation's cases.
 * Names, addresses and carrier messages are data, shown as given.
 */
import { clear, el } from '../shared/dom.js';
import { count, t } from '../shared/i18n.js';
import { externalLink, safeUrl } from '../shared/safe-text.js';
import { ui } from './page.js';
import { photoGallery } from './photos.js';
import { shown } from './conversation.js';
import { priorityOf, reasonText, shopperWords } from './queue.js';
import { num, str } from './state.js';
import { codeText, formatDate, formatTime, humanize, parseDate, timeEl } from './wording.js';

function dl(rows) {
  const list = el('dl', 'kv');
  rows.forEach((row) => {
    if (!row[1]) return;
    list.appendChild(el('dt', null, null, row[0]));
    const dd = el('dd');
    if (row[1].nodeType) dd.appendChild(row[1]);
    else dd.textContent = row[1];
    list.appendChild(dd);
  });
  return list;
}

/** An order's or a shipment's status (OrderStatus, or a carrier's tracking tag). */
function statusText(value) {
  return codeText('status.', value, humanize(value) || t('status.unknown'));
}

function statusPill(value) {
  const key = str(value).toLowerCase().replace(/[^a-z]/g, '');
  return el('span', 'pill pill--' + (key || 'unknown'), null, statusText(value));
}

export function renderOrder(order) {
  shown.order = order;
  clear(ui.order);
  if (!order) {
    ui.order.appendChild(el('p', 'empty empty-small', { 'data-testid': 'agent-order-none' }, t('order.none')));
    return;
  }
  const head = el('div', 'order-head');
  head.appendChild(el('span', 'order-number', { 'data-testid': 'agent-order-number' }, str(order.order_number)));
  if (order.status) head.appendChild(statusPill(order.status));
  ui.order.appendChild(head);
  ui.order.appendChild(dl([
    [t('order.placed'), formatDate(order.placed_at)],
    [t('order.customer'), str(order.shopper_name)]
  ]));

  const items = Array.isArray(order.items) ? order.items : [];
  if (items.length) {
    ui.order.appendChild(el('h3', 'sub-title', null, t('order.items')));
    const ul = el('ul', 'items');
    items.forEach((it) => {
      if (!it || typeof it !== 'object') return;
      const li = el('li', 'item', { 'data-testid': 'agent-order-item' });
      li.appendChild(el('span', 'item-qty', null, count(num(it.quantity)) + ' ×'));
      li.appendChild(el('span', 'item-name', null, str(it.name) || str(it.sku)));
      if (it.sku) li.appendChild(el('span', 'item-sku', null, str(it.sku)));
      ul.appendChild(li);
    });
    ui.order.appendChild(ul);
  }

  const shipments = Array.isArray(order.shipments) ? order.shipments : [];
  ui.order.appendChild(el('h3', 'sub-title', null, t(shipments.length > 1 ? 'order.shipments' : 'order.shipment')));
  if (!shipments.length) ui.order.appendChild(el('p', 'empty empty-small', null, t('order.notShipped')));
  shipments.forEach((s) => {
    if (s && typeof s === 'object') ui.order.appendChild(renderShipment(s));
  });
}

function renderShipment(s) {
  const box = el('div', 'shipment', { 'data-testid': 'agent-shipment' });
  const head = el('div', 'shipment-head');
  head.appendChild(el('span', 'shipment-carrier', null, str(s.carrier) || t('order.carrier')));
  if (s.status) head.appendChild(statusPill(s.status));
  box.appendChild(head);

  let tracking = null;
  if (s.tracking_number) {
    const url = safeUrl(s.tracking_url, window.location.href);
    tracking = url ? externalLink(url, str(s.tracking_number), 'tracking-link') : el('span', 'mono', null, str(s.tracking_number));
  }
  box.appendChild(dl([
    [t('order.tracking'), tracking],
    [t('order.delivered'), s.delivered_at ? formatTime(s.delivered_at) : ''],
    [t('order.expected'), !s.delivered_at && s.estimated_delivery ? formatDate(s.estimated_delivery) : '']
  ]));

  let events = Array.isArray(s.events) ? s.events.filter((e) => e && typeof e === 'object') : [];
  if (events.length) {
    // Newest first: the latest scan is what the shopper is asking about.
    events = events.slice().sort((a, b) => {
      const da = parseDate(a.occurred_at);
      const db = parseDate(b.occurred_at);
      return (db ? db.getTime() : 0) - (da ? da.getTime() : 0);
    });
    const ol = el('ol', 'timeline', { 'aria-label': t('order.events'), 'data-testid': 'agent-tracking-events' });
    events.forEach((ev, i) => {
      const li = el('li', 'tl-item' + (i === 0 ? ' is-latest' : ''), { 'data-testid': 'agent-tracking-event' });
      const top = el('div', 'tl-top');
      if (ev.occurred_at) top.appendChild(timeEl(ev.occurred_at, 'tl-time'));
      if (ev.tag) top.appendChild(el('span', 'tl-tag', null, statusText(ev.tag)));
      li.appendChild(top);
      // The carrier's own words and places.
      if (ev.message) li.appendChild(el('div', 'tl-message', null, str(ev.message)));
      if (ev.location) li.appendChild(el('div', 'tl-location', null, str(ev.location)));
      ol.appendChild(li);
    });
    box.appendChild(ol);
  } else {
    box.appendChild(el('p', 'empty empty-small', null, t('order.noEvents')));
  }
  return box;
}

export function renderEscalations(list) {
  shown.escalations = list;
  clear(ui.escalations);
  if (!list.length) {
    ui.escalations.appendChild(el('li', 'empty empty-small', null, t('escalations.none')));
    return;
  }
  // Newest first: the current one on top, closed ones below for history.
  list.slice().reverse().forEach((e) => {
    if (!e || typeof e !== 'object') return;
    const priority = priorityOf(e.priority);
    const status = str(e.status);
    const li = el('li', 'esc esc--' + (status || 'open'), {
      'data-testid': 'agent-escalation',
      'data-status': status,
      'data-priority': priority
    });
    const top = el('div', 'esc-top');
    top.appendChild(el('span', 'badge badge--' + priority, null, t('priority.' + priority)));
    top.appendChild(el('span', 'esc-reason', null, reasonText(e)));
    top.appendChild(el('span', 'esc-status', null, codeText('escalationStatus.', status, humanize(status))));
    li.appendChild(top);
    // The shopper's words in full, as written (their line breaks too): not the server's English summary.
    const words = shopperWords(e);
    if (words) li.appendChild(el('p', 'esc-summary', { 'data-testid': 'agent-escalation-words', translate: 'no' }, words));
    const meta = [str(e.reference)];
    if (e.order_number) meta.push(t('case.order', { number: str(e.order_number) }));
    if (e.claimed_by && e.claimed_by.name) meta.push(t('case.claimedBy', { name: str(e.claimed_by.name) }));
    const metaLine = el('p', 'esc-meta', null, meta.filter(Boolean).join(' · '));
    if (e.created_at) {
      if (metaLine.textContent) metaLine.appendChild(document.createTextNode(' · '));
      metaLine.appendChild(timeEl(e.created_at, null));
    }
    li.appendChild(metaLine);
    // The claim's photos, beside its problem type, order and words: what the store decides on.
    const photos = Array.isArray(e.photos) ? e.photos : [];
    if (photos.length) {
      li.appendChild(el('h3', 'sub-title', null, t('photos.ofCase', { n: count(photos.length) })));
      li.appendChild(photoGallery(photos, t('photos.ofCase', { n: count(photos.length) }), 'agent-case-photos'));
    }
    ui.escalations.appendChild(li);
  });
}
