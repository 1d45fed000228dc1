/**
 * The open conversation: opening and closing it (its id rides in the URL
 * fragment), fetching it so that an older answer never overwrites a newer one,
 * who handles it, which buttons work, and claim, hand back and resolve.
 */
import { clear } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { errorMessage, post, request } from './api.js';
import { renderCanned } from './canned-replies.js';
import { updateCounter } from './composer.js';
import { renderNotes } from './notes.js';
import { renderEscalations, renderOrder } from './order-panel.js';
import { clearError, focusQuietly, isNarrow, showError, showPane, ui } from './page.js';
import { markSelected, refreshQueue } from './queue.js';
import { failed, sessionEnded } from './session.js';
import { busy, current, drafts, session, str } from './state.js';
import { addMessages, relabelTranscript, resetTranscript } from './transcript.js';

/** What the side panels show, to skip needless redraws (and to redraw them after a language switch). */
export const shown = { escalations: null, order: undefined, notes: null, canned: null };

let convRequests = 0; // numbers every request for a conversation body...
let convApplied = 0; // ...so an older answer never overwrites a newer one
let convLoading = null; // the id of the conversation whose GET is in flight
let convAgain = false; // ...and whether it needs one more when that ends
let status = { state: 'loading', key: 'conv.loading', values: null };

/** Conversation ids go into URL paths: refuse anything that could climb out of the path segment. */
function validId(id) {
  return typeof id === 'string' && id.length > 0 && id.length <= 200 && id !== '.' && id !== '..';
}

export function convPath(cid, suffix) {
  return '/conversations/' + encodeURIComponent(cid) + (suffix || '');
}

export function conversationFromHash() {
  const m = /^#conversation=(.+)$/.exec(window.location.hash || '');
  if (!m) return null;
  let id;
  try {
    id = decodeURIComponent(m[1]);
  } catch (e) {
    return null;
  }
  return validId(id) ? id : null;
}

/** The open conversation goes in the URL fragment so a reload reopens it (replaceState: no history spam). */
export function setHash(cid) {
  if (!window.history || !window.history.replaceState) return;
  const url = window.location.pathname + window.location.search + (cid ? '#conversation=' + encodeURIComponent(cid) : '');
  try {
    window.history.replaceState(null, '', url);
  } catch (e) { /* ignore */ }
}

export function saveDrafts(cid) {
  if (!cid) return;
  drafts.reply[cid] = ui.replyText.value;
  drafts.note[cid] = ui.noteText.value;
}

export function openConversation(cid, fromUser) {
  if (!validId(cid)) return;
  if (cid !== current.id || !current.conv) {
    if (current.id && current.id !== cid) saveDrafts(current.id);
    resetConversation();
    current.id = cid;
    ui.replyText.value = drafts.reply[cid] || '';
    ui.noteText.value = drafts.note[cid] || '';
    updateCounter();
    setHash(cid);
  }
  ui.convEmpty.hidden = true;
  ui.conv.hidden = false;
  ui.sidePane.hidden = false;
  markSelected();
  showPane('conversation');
  // On a phone the queue disappears: take keyboard and screen reader focus to what replaced it.
  if (fromUser && isNarrow()) focusQuietly(ui.convHeading);
  fetchConversation(cid);
}

/** Empty the main and side panes (before showing another conversation). */
function resetConversation() {
  current.conv = null;
  convApplied = convRequests; // answers to anything asked before now are stale
  convLoading = null;
  convAgain = false;
  resetTranscript();
  ui.convHeading.textContent = t('conv.heading');
  ui.convMeta.textContent = '';
  setStatus('loading', 'conv.loading');
  clear(ui.order);
  clear(ui.escalations);
  clear(ui.notesList);
  ui.notesEmpty.hidden = true;
  shown.escalations = null;
  shown.order = undefined;
  shown.notes = null;
  renderCanned([]);
  updateControls();
}

export function closeConversation() {
  resetConversation();
  current.id = null;
  ui.replyText.value = '';
  ui.noteText.value = '';
  updateCounter();
  ui.conv.hidden = true;
  ui.sidePane.hidden = true;
  ui.convEmpty.hidden = false;
  setHash(null);
  markSelected();
  showPane('queue');
}

export function fetchConversation(cid) {
  if (!cid || cid !== current.id || session.view !== 'console') return;
  if (convLoading === cid) {
    convAgain = true; // a burst of events costs at most one more fetch
    return;
  }
  // A GET still running for a conversation the agent has left is simply ignored when it lands.
  convLoading = cid;
  const n = ++convRequests;
  request('GET', convPath(cid)).then((r) => {
    if (convLoading === cid) convLoading = null;
    if (cid === current.id && session.view === 'console') {
      if (r.ok) {
        applyConversation(r.data, cid, n);
      } else if (r.status === 401) {
        sessionEnded();
        return;
      } else if (r.status === 403 || r.status === 404) {
        showError(errorMessage(r));
        closeConversation();
        return;
      } else if (r.status !== 0 || !current.conv) {
        showError(errorMessage(r));
        if (!current.conv) setStatus('error', 'conv.loadFailed');
      }
    }
    if (convAgain && !convLoading) {
      convAgain = false;
      fetchConversation(current.id);
    }
  });
}

function isMine(c) {
  if (!c) return false;
  if (typeof c.mine === 'boolean') return c.mine;
  return !!(c.handled_by && session.me && c.handled_by.id === session.me.id);
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Apply a conversation body (from GET, claim, hand back or resolve) if it is the newest one. */
function applyConversation(body, cid, n) {
  if (cid !== current.id || !body || typeof body.conversation !== 'object' || !body.conversation) return;
  if (n <= convApplied) return; // an older answer arrived late, or one from before a reset
  convApplied = n;
  current.conv = body.conversation;

  renderHeading();
  addMessages(body.messages);
  const escalations = Array.isArray(body.escalations) ? body.escalations : [];
  if (!same(escalations, shown.escalations)) renderEscalations(escalations);
  const order = body.order && typeof body.order === 'object' ? body.order : null;
  if (!same(order, shown.order)) renderOrder(order);
  const notes = Array.isArray(body.notes) ? body.notes : [];
  if (!same(notes, shown.notes)) renderNotes(notes);
  const canned = Array.isArray(body.canned_replies) ? body.canned_replies : [];
  if (!same(canned, shown.canned)) renderCanned(canned);
  renderStatus(escalations);
  updateControls();
}

function renderHeading() {
  const conv = current.conv;
  // The shopper's name and email are theirs: shown as given.
  ui.convHeading.textContent = conv.shopper_name ? str(conv.shopper_name) : conv.shopper_email ? str(conv.shopper_email) : t('conv.anonymous');
  const meta = [];
  if (conv.shopper_name && conv.shopper_email) meta.push(str(conv.shopper_email));
  else if (!conv.shopper_email) meta.push(t('conv.notSignedIn'));
  meta.push(str(conv.store_name) || str(conv.store_id));
  ui.convMeta.textContent = meta.filter(Boolean).join(' · ');
}

function setStatus(state, key, values) {
  status = { state, key, values };
  ui.convStatus.setAttribute('data-state', state);
  ui.convStatus.textContent = t(key, values);
}

function renderStatus(escalations) {
  const conv = current.conv;
  if (isMine(conv)) {
    setStatus('mine', 'conv.mine');
  } else if (conv.handled_by) {
    setStatus('other', 'conv.handledBy', { name: str(conv.handled_by.name) || t('case.anotherAgent') });
  } else {
    const pending = escalations.some((e) => e && (e.status === 'open' || e.status === 'claimed'));
    // Nobody handles it and nothing is pending: the bot has it (handed back, or resolved).
    if (pending || !escalations.length) setStatus('waiting', 'conv.waiting');
    else setStatus('bot', 'conv.bot');
  }
}

/** Which buttons work follows who handles the conversation, and whether a request is in flight. */
export function updateControls() {
  const conv = current.conv;
  const loaded = !!conv;
  const mine = loaded && isMine(conv);
  const handled = loaded && !!conv.handled_by;
  ui.claim.disabled = !loaded || handled || busy.action;
  ui.handback.disabled = !mine || busy.action;
  ui.resolve.disabled = !mine || busy.action;

  ui.replyText.disabled = !mine;
  ui.replyText.readOnly = busy.sending; // what is being sent must not change under us
  ui.replyText.setAttribute('placeholder', t(mine ? 'reply.placeholder' : 'reply.claimFirst'));
  ui.replySend.disabled = !mine || busy.sending;
  ui.canned.disabled = !mine || ui.canned.options.length < 2;
  ui.askPhotos.disabled = !mine || busy.photo;
  ui.sendImage.disabled = !mine || busy.photo;

  ui.noteText.disabled = !loaded;
  ui.noteText.readOnly = busy.savingNote;
  ui.noteSave.disabled = !loaded || busy.savingNote;
}

/** After a language switch: everything the console wrote in the open conversation, in the new language. */
export function relabelConversation() {
  setStatus(status.state, status.key, status.values);
  updateControls();
  if (!current.conv) {
    ui.convHeading.textContent = t('conv.heading');
    return;
  }
  renderHeading();
  if (shown.escalations) {
    renderEscalations(shown.escalations);
    renderStatus(shown.escalations);
  }
  if (shown.order !== undefined) renderOrder(shown.order);
  if (shown.notes) renderNotes(shown.notes);
  relabelTranscript();
}

function conversationAction(kind) {
  const cid = current.id;
  if (!cid || busy.action) return;
  busy.action = true;
  updateControls();
  const n = ++convRequests;
  post(convPath(cid, '/' + kind), {}).then((r) => {
    busy.action = false;
    if (r.status === 401) {
      sessionEnded();
      return;
    }
    if (cid !== current.id) {
      if (!r.ok) failed(r);
      else refreshQueue();
      return;
    }
    if (r.ok) {
      clearError();
      if (r.data && r.data.conversation) applyConversation(r.data, cid, n);
      else fetchConversation(cid);
      refreshQueue();
      updateControls();
      // Claiming is for replying; after hand back/resolve the buttons went grey, so focus the heading.
      focusQuietly(kind === 'claim' && !ui.replyText.disabled ? ui.replyText : ui.convHeading);
      return;
    }
    updateControls();
    failed(r);
    // 409 and friends: someone else got there first; show the state as it now is.
    fetchConversation(cid);
    refreshQueue();
  });
}

export function initConversation() {
  ui.back.addEventListener('click', () => {
    showPane('queue');
    focusQuietly(ui.queueList.querySelector('.qitem.is-selected') || ui.queueList.querySelector('.qitem') || ui.queue);
  });
  ui.claim.addEventListener('click', () => conversationAction('claim'));
  ui.handback.addEventListener('click', () => conversationAction('handback'));
  ui.resolve.addEventListener('click', () => conversationAction('resolve'));
}
