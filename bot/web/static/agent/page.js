/**
 * The fixed parts of agent.html: the element table, the one alert region,
 * and which screen (sign-in or console) and which pane (on a phone) shows.
 */
import { $ } from '../shared/dom.js';
import { session } from './state.js';

const NARROW = '(max-width: 759px)'; // keep in step with the phone breakpoint in agent.css

export const ui = {
  boot: $('boot'),
  alert: $('alert'),
  alertText: $('alert-text'),
  alertClose: $('alert-close'),
  loginView: $('login-view'),
  loginAlertSlot: $('login-alert-slot'),
  loginForm: $('login-form'),
  loginEmail: $('login-email'),
  loginPassword: $('login-password'),
  loginSubmit: $('login-submit'),
  joinForm: $('join-form'),
  joinText: $('join-text'),
  joinHint: $('join-hint'),
  joinName: $('join-name'),
  joinPassword: $('join-password'),
  joinSubmit: $('join-submit'),
  joinSignIn: $('join-sign-in'),
  consoleView: $('console-view'),
  consoleAlertSlot: $('console-alert-slot'),
  connection: $('connection'),
  connectionText: $('connection-text'),
  agentName: $('agent-name'),
  agentStores: $('agent-stores'),
  logout: $('logout'),
  myInvites: $('my-invites'),
  myInvitesList: $('my-invites-list'),
  myInvitesStatus: $('my-invites-status'),
  layout: $('layout'),
  queue: $('queue'),
  queueList: $('queue-list'),
  queueEmpty: $('queue-empty'),
  queueCount: $('queue-count'),
  queueOrder: $('queue-order'),
  queueBulk: $('queue-bulk'),
  queueBulkCount: $('queue-bulk-count'),
  queueSpam: $('queue-spam'),
  queueUnselect: $('queue-unselect'),
  queueMore: $('queue-more'),
  queueMoreRow: $('queue-more-row'),
  convEmpty: $('conv-empty'),
  conv: $('conv'),
  back: $('back'),
  convHeading: $('conv-heading'),
  convMeta: $('conv-meta'),
  convStatus: $('conv-status'),
  claim: $('claim'),
  handback: $('handback'),
  resolve: $('resolve'),
  transcript: $('transcript'),
  jump: $('jump'),
  replyForm: $('reply-form'),
  canned: $('canned'),
  replyText: $('reply-text'),
  replyCounter: $('reply-counter'),
  replySend: $('reply-send'),
  askPhotos: $('ask-photos'),
  sendImage: $('send-image'),
  sendImageFile: $('send-image-file'),
  sidePane: $('side-pane'),
  order: $('order'),
  escalations: $('escalations'),
  notesList: $('notes-list'),
  notesEmpty: $('notes-empty'),
  noteForm: $('note-form'),
  noteText: $('note-text'),
  noteSave: $('note-save'),
  langEn: $('lang-en'),
  langZh: $('lang-zh')
};

export function showError(text) {
  // Setting the text of the always-present role="alert" element makes screen readers announce it.
  ui.alertText.textContent = text;
  ui.alert.classList.remove('is-empty');
  ui.alertClose.hidden = false;
}

export function clearError() {
  ui.alertText.textContent = '';
  ui.alert.classList.add('is-empty');
  ui.alertClose.hidden = true;
}

export function showView(name) {
  session.view = name;
  ui.boot.hidden = true;
  ui.loginView.hidden = name !== 'login';
  ui.consoleView.hidden = name !== 'console';
  // The alert sits where the agent is looking: above the form, or under the header.
  const slot = name === 'login' ? ui.loginAlertSlot : ui.consoleAlertSlot;
  if (ui.alert.parentNode !== slot) slot.appendChild(ui.alert);
}

/** Phones show one column at a time: the queue, or the open conversation. */
export function showPane(name) {
  ui.layout.setAttribute('data-pane', name);
}

export function focusQuietly(node) {
  if (!node) return;
  try {
    node.focus({ preventScroll: true });
  } catch (e) {
    node.focus();
  }
}

export function isNarrow() {
  return !!(window.matchMedia && window.matchMedia(NARROW).matches);
}

export function initPage() {
  ui.alertClose.addEventListener('click', clearError);
}
