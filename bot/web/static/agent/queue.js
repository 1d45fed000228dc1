/**
 * The queue: the open and claimed cases of the agent's stores, most urgent
 * first, in pages; waiting times aged by the local clock; waiting cases ticked
 * and closed as spam in bulk.
 */
import { clear, el } from '../shared/dom.js';
import { count, language, t } from '../shared/i18n.js';
import { errorMessage, post, request } from './api.js';
import { fetchConversation, openConversation } from './conversation.js';
import { focusQuietly, showError, ui } from './page.js';
import { failed, sessionEnded } from './session.js';
import { current, num, session, str } from './state.js';
import { codeText, formatWaiting, humanize } from './wording.js';

const QUEUE_REFRESH_MS = 30000; // fallback when server-sent events are missed, and the waiting-time tick
const QUEUE_PAGE = 50; // cases per page; a refresh reloads as many as are shown, up to QUEUE_PAGE_MAX
const QUEUE_PAGE_MAX = 200;
const SPAM_BATCH_MAX = 200;
const WORDS_SHOWN = 200; // characters of the shopper's words in a row (the side panel shows them all)
export const PRIORITIES = ['urgent', 'high', 'normal'];

let queueItems = [];
let queueFetchedAt = 0; // when waiting_seconds were true, to age them locally
let queueLoading = false;
let queueAgain = false;
let queueNext = null; // the cursor of the page after the ones shown, or null at the end
let queueTotal = 0; // every open and claimed case, shown or not
let queueWaiting = 0; // ...of which not claimed
let queueOrder = 'newest'; // or 'oldest': both most urgent first
let queueMoreLoading = false;
let picked = {}; // escalation id -> true: waiting cases ticked for closing as spam
let closingSpam = false;
let tickTimer = null;

/** A priority the console knows, or 'normal'. */
export function priorityOf(value) {
  return PRIORITIES.indexOf(value) >= 0 ? value : 'normal';
}

/** The console's name for the reason, else the server's title, else the code made readable. */
export function reasonText(item, fallback) {
  return codeText('reason.', item.reason, str(item.reason_title) || humanize(item.reason) || fallback || '');
}

/**
 * What the shopper wrote when the case was opened (its details), as written. Not the server's summary:
 * that starts with the reason's English title, which the console shows by its code in its own language.
 */
export function shopperWords(item) {
  return str(item.details);
}

/** The start of the shopper's words for a queue row, cut between characters (never inside an emoji). */
function wordsStart(item) {
  const chars = Array.from(shopperWords(item));
  return chars.length > WORDS_SHOWN ? chars.slice(0, WORDS_SHOWN).join('') + '…' : chars.join('');
}

export function refreshQueue() {
  if (session.view !== 'console') return;
  if (queueLoading) {
    queueAgain = true; // one more fetch when this one ends, however many events arrived
    return;
  }
  queueLoading = true;
  // As many as are shown (the agent may have asked for more), from the top of the queue.
  const limit = Math.min(QUEUE_PAGE_MAX, Math.max(QUEUE_PAGE, queueItems.length));
  const order = queueOrder;
  request('GET', '/queue?order=' + encodeURIComponent(order) + '&limit=' + limit).then((r) => {
    queueLoading = false;
    if (session.view !== 'console') return;
    if (order !== queueOrder) {
      // The agent chose the other order meanwhile: this page is not the queue they asked for.
      queueAgain = false;
      refreshQueue();
      return;
    }
    if (r.ok) {
      queueItems = queueList(r.data.escalations);
      takeQueuePage(r.data);
      queueFetchedAt = Date.now();
      renderQueue();
    } else if (r.status === 401) {
      sessionEnded();
      return;
    } else if (r.status !== 0) {
      // A dropped connection shows in the indicator; anything else is worth saying.
      showError(errorMessage(r));
    }
    if (queueAgain) {
      queueAgain = false;
      refreshQueue();
    }
  });
}

function queueList(list) {
  return Array.isArray(list) ? list.filter((e) => e && typeof e === 'object') : [];
}

function takeQueuePage(data) {
  queueNext = typeof data.next_cursor === 'string' && data.next_cursor ? data.next_cursor : null;
  queueTotal = Math.max(num(data.total), queueItems.length);
  queueWaiting = Math.min(num(data.waiting), queueTotal);
}

/** The next page, after the cases shown. */
function moreQueue() {
  if (!queueNext || queueMoreLoading || session.view !== 'console') return;
  queueMoreLoading = true;
  ui.queueMore.disabled = true;
  const order = queueOrder;
  const path = '/queue?order=' + encodeURIComponent(order) + '&limit=' + QUEUE_PAGE + '&cursor=' + encodeURIComponent(queueNext);
  request('GET', path).then((r) => {
    queueMoreLoading = false;
    ui.queueMore.disabled = false;
    if (session.view !== 'console' || order !== queueOrder) return; // a page of the order the agent left
    if (!r.ok) {
      failed(r);
      return;
    }
    const shown = {};
    queueItems.forEach((e) => { shown[str(e.id)] = true; });
    queueItems = queueItems.concat(queueList(r.data.escalations).filter((e) => !shown[str(e.id)]));
    takeQueuePage(r.data);
    renderQueue();
  });
}

/** Signed out: nothing of the queue stays on the page. */
export function forgetQueue() {
  queueItems = [];
  queueNext = null;
  queueTotal = queueWaiting = 0;
  picked = {};
  renderQueue();
}

export function startQueueTick() {
  clearInterval(tickTimer);
  tickTimer = setInterval(() => {
    updateWaiting(); // the local clock keeps the times honest even if the fetch below fails
    refreshQueue();
  }, QUEUE_REFRESH_MS);
}

export function stopQueueTick() {
  clearInterval(tickTimer);
  tickTimer = null;
}

function pickedIds() {
  return Object.keys(picked).map(Number).filter((n) => isFinite(n) && n > 0);
}

function updateBulk() {
  const picks = pickedIds().length;
  ui.queueBulk.hidden = picks === 0;
  ui.queueBulkCount.textContent = picks === 1 ? t('queue.selected.one') : t('queue.selected.many', { n: count(picks) });
  ui.queueSpam.disabled = closingSpam || picks === 0 || picks > SPAM_BATCH_MAX;
  ui.queueSpam.title = picks > SPAM_BATCH_MAX ? t('queue.spamLimit', { n: count(SPAM_BATCH_MAX) }) : '';
}

function closeAsSpam() {
  const ids = pickedIds();
  if (!ids.length || closingSpam) return;
  const question = ids.length === 1 ? t('queue.spamConfirm.one') : t('queue.spamConfirm.many', { n: count(ids.length) });
  if (!window.confirm(question)) return;
  closingSpam = true;
  updateBulk();
  post('/escalations/spam', { escalation_ids: ids }).then((r) => {
    closingSpam = false;
    if (!r.ok) {
      updateBulk();
      failed(r);
      return;
    }
    picked = {};
    const missed = Array.isArray(r.data.not_closed) ? r.data.not_closed.length : 0;
    if (missed) showError(missed === 1 ? t('queue.notClosed.one') : t('queue.notClosed.many', { n: count(missed) }));
    refreshQueue();
    if (current.id) fetchConversation(current.id);
  });
}

function waitingNow(item) {
  return num(item.waiting_seconds) + (Date.now() - queueFetchedAt) / 1000;
}

function claimLine(item) {
  const by = item.claimed_by;
  const me = session.me;
  if (by && typeof by === 'object') {
    return me && by.id === me.id ? t('queue.claimedByYou') : t('case.claimedBy', { name: str(by.name) || t('case.anotherAgent') });
  }
  return item.status === 'claimed' ? t('queue.claimed') : t('queue.waiting');
}

function renderQueueItem(item) {
  const me = session.me;
  const cid = str(item.conversation_id);
  const priority = priorityOf(item.priority);
  const status = str(item.status) || 'open';
  const li = el('li', 'queue-row');
  const button = el('button', 'qitem qitem--' + priority + ' qitem--' + (status === 'claimed' ? 'claimed' : 'open'), {
    type: 'button',
    'data-testid': 'agent-queue-item',
    'data-conversation-id': cid,
    'data-escalation-id': str(item.id),
    'data-priority': priority,
    'data-status': status
  });

  const top = el('span', 'qitem-top');
  top.appendChild(el('span', 'badge badge--' + priority, { 'data-testid': 'agent-queue-priority' }, t('priority.' + priority)));
  top.appendChild(el('span', 'qitem-reason', { 'data-testid': 'agent-queue-reason' }, reasonText(item, t('queue.needsPerson'))));
  const wait = el('span', 'qitem-wait', { 'data-testid': 'agent-queue-waiting' });
  wait.appendChild(el('span', 'sr', null, t('queue.waitingFor')));
  wait.appendChild(el('span', 'qitem-wait-value', null, formatWaiting(waitingNow(item))));
  top.appendChild(wait);
  button.appendChild(top);

  const meta = [str(item.store_name) || str(item.store_id)];
  if (item.order_number) meta.push(t('case.order', { number: str(item.order_number) }));
  if (item.reference) meta.push(str(item.reference));
  button.appendChild(el('span', 'qitem-meta', null, meta.filter(Boolean).join(' · ')));
  // The shopper's own words: shown as written, never translated (nor by the browser's page translation).
  const words = wordsStart(item);
  if (words) button.appendChild(el('span', 'qitem-summary', { 'data-testid': 'agent-queue-summary', translate: 'no' }, words));
  const mineClaim = item.claimed_by && me && item.claimed_by.id === me.id;
  button.appendChild(
    el('span', 'qitem-claim' + (item.claimed_by ? ' is-claimed' : '') + (mineClaim ? ' is-mine' : ''), { 'data-testid': 'agent-queue-claimed' }, claimLine(item))
  );

  button.addEventListener('click', () => {
    openConversation(cid, true);
  });
  // Only waiting cases can be closed as spam; a claimed one is someone's work.
  const id = str(item.id);
  if (status === 'open' && /^[0-9]{1,10}$/.test(id)) {
    const which = str(item.reference) || t('queue.thisCase');
    const pick = el('label', 'qpick', { title: t('queue.pick', { case: which }) });
    const box = el('input', null, { type: 'checkbox', 'data-testid': 'agent-queue-pick', 'aria-label': t('queue.pickLabel', { case: which }) });
    box.checked = !!picked[id];
    box.addEventListener('change', () => {
      if (box.checked) picked[id] = true;
      else delete picked[id];
      updateBulk();
    });
    pick.appendChild(box);
    li.appendChild(pick);
  }
  li.appendChild(button);
  return li;
}

/** The queue as last fetched (again after a language switch). */
export function renderQueue() {
  // Rebuilding moves focus to <body>: remember which row had it and give it back.
  const active = document.activeElement;
  const focusedEscalation = active && ui.queueList.contains(active) ? active.getAttribute('data-escalation-id') : null;

  clear(ui.queueList);
  // Ticks survive a refresh only for cases still waiting in view.
  const stillPicked = {};
  queueItems.forEach((item) => {
    if (picked[str(item.id)] && item.status === 'open') stillPicked[str(item.id)] = true;
    ui.queueList.appendChild(renderQueueItem(item));
  });
  picked = stillPicked;
  const total = Math.max(queueTotal, queueItems.length);
  ui.queueEmpty.hidden = queueItems.length > 0;
  ui.queueCount.textContent = total ? count(total) : '';
  ui.queueCount.setAttribute('title', t('queue.countTitle', { waiting: count(queueWaiting), claimed: count(total - queueWaiting) }));
  ui.queueMoreRow.hidden = !queueNext;
  ui.queueMore.textContent = t('queue.moreCount', { n: count(total - queueItems.length) });
  updateBulk();
  ui.queue.setAttribute('aria-busy', 'false');
  markSelected();

  if (focusedEscalation) {
    const again = ui.queueList.querySelector('[data-escalation-id="' + CSS.escape(focusedEscalation) + '"]');
    focusQuietly(again || ui.queueList.querySelector('.qitem') || ui.queue);
  }
}

/** Age the waiting times from the local clock between fetches. */
function updateWaiting() {
  const buttons = ui.queueList.querySelectorAll('.qitem');
  for (let i = 0; i < buttons.length && i < queueItems.length; i++) {
    const value = buttons[i].querySelector('.qitem-wait-value');
    if (value) value.textContent = formatWaiting(waitingNow(queueItems[i]));
  }
}

/** The open conversation's row stands out. */
export function markSelected() {
  const buttons = ui.queueList.querySelectorAll('.qitem');
  for (let i = 0; i < buttons.length; i++) {
    const selected = !!current.id && buttons[i].getAttribute('data-conversation-id') === current.id;
    buttons[i].classList.toggle('is-selected', selected);
    if (selected) buttons[i].setAttribute('aria-current', 'true');
    else buttons[i].removeAttribute('aria-current');
  }
}

export function initQueue() {
  ui.queueMore.addEventListener('click', moreQueue);
  ui.queueOrder.addEventListener('change', () => {
    queueOrder = ui.queueOrder.value === 'oldest' ? 'oldest' : 'newest';
    queueItems = []; // back to one page, in the new order
    refreshQueue();
  });
  ui.queueUnselect.addEventListener('click', () => {
    picked = {};
    renderQueue();
  });
  ui.queueSpam.addEventListener('click', closeAsSpam);
}
