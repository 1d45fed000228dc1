/**
 * Signing in and out, and what a lapsed session does: the console stops, keeps
 * the drafts and the open conversation for the same agent, and asks for a sign-in.
 */
import { t } from '../shared/i18n.js';
import { retryAfter } from '../shared/console-api.js';
import { errorMessage, post, refreshLoginToken, signedOutPost } from './api.js';
import { updateCounter } from './composer.js';
import { closeConversation, conversationFromHash, openConversation, saveDrafts } from './conversation.js';
import { loadMyInvitations, renderMyInvitations } from './invitations.js';
import { connectEvents, stopLive } from './live.js';
import { clearError, focusQuietly, showError, showPane, showView, ui } from './page.js';
import { forgetQueue, refreshQueue, startQueueTick, stopQueueTick } from './queue.js';
import { acceptMe, current, drafts, session, str } from './state.js';

const MAX_LOCKOUT_S = 3600;

let lockedUntil = 0; // too many failed logins: no point trying before this (ms)
let lockTimer = null;
let loggingIn = false;

/** The common failure path: a lapsed session goes back to sign-in, anything else is shown. */
export function failed(r, context) {
  if (r.status === 401 && context !== 'login') {
    sessionEnded();
    return;
  }
  showError(errorMessage(r, context));
}

/** The agent's name and stores in the header (again after a language switch: the list separator). */
export function renderWho() {
  const me = session.me;
  if (!me) return;
  ui.agentName.textContent = me.name;
  ui.agentName.setAttribute('title', me.email);
  const storeNames = me.stores.map((s) => str(s.name) || str(s.id)).filter(Boolean);
  ui.agentStores.textContent = storeNames.join(', ');
  ui.agentStores.setAttribute('title', storeNames.join(', '));
}

export function startConsole() {
  const me = session.me;
  // Drafts belong to one agent: a different person signing in on this browser starts clean.
  // Nor do they reopen the conversation the previous person had open.
  if (drafts.owner !== me.id) {
    drafts.reply = {};
    drafts.note = {};
    if (drafts.owner !== null) current.id = null;
    drafts.owner = me.id;
  }
  renderWho();
  updateCounter(); // the reply limit came with the account
  showView('console');
  showPane('queue');
  renderMyInvitations();
  loadMyInvitations();
  // Not "No one is waiting." before we know: that would be a false all-clear.
  ui.queueEmpty.hidden = true;
  ui.queue.setAttribute('aria-busy', 'true');
  refreshQueue();
  connectEvents();
  startQueueTick();

  const wanted = current.id || conversationFromHash();
  if (wanted) openConversation(wanted, false);
}

export function showLogin() {
  showView('login');
  ui.loginPassword.value = '';
  updateLoginButton();
  focusQuietly(ui.loginEmail.value ? ui.loginPassword : ui.loginEmail);
}

function updateLoginButton() {
  ui.loginSubmit.disabled = loggingIn || Date.now() < lockedUntil;
  ui.loginForm.setAttribute('aria-busy', loggingIn ? 'true' : 'false');
}

function lockLogin(secondsToWait) {
  const s = Math.min(secondsToWait, MAX_LOCKOUT_S);
  lockedUntil = Date.now() + s * 1000;
  clearTimeout(lockTimer);
  lockTimer = setTimeout(() => {
    lockedUntil = 0;
    updateLoginButton();
  }, s * 1000);
  updateLoginButton();
}

function submitLogin(e) {
  e.preventDefault();
  if (loggingIn || Date.now() < lockedUntil) return;
  const email = ui.loginEmail.value.trim();
  const password = ui.loginPassword.value;
  if (!email || !password) {
    showError(t('login.missing'));
    focusQuietly(email ? ui.loginPassword : ui.loginEmail);
    return;
  }
  loggingIn = true;
  updateLoginButton();
  // A stale sign-in token (403) is renewed and the sign-in sent again by the shared client.
  signedOutPost('/login', { email, password }).then((r) => {
    loggingIn = false;
    if (r.ok && acceptMe(r.data)) {
      ui.loginPassword.value = '';
      clearError();
      updateLoginButton();
      startConsole();
      return;
    }
    if (r.status === 429) lockLogin(retryAfter(r) || 30);
    showError(r.ok ? t('login.unexpected') : errorMessage(r, 'login'));
    ui.loginPassword.value = '';
    updateLoginButton();
    focusQuietly(ui.loginPassword);
  });
}

function logout() {
  ui.logout.disabled = true;
  post('/logout', {}).then((r) => {
    if (r.ok || r.status === 401) {
      stopLive();
      stopQueueTick();
      // A fresh page: a new sign-in token from the server, and nothing of the
      // conversations left in memory or in the DOM.
      window.location.replace(window.location.pathname + window.location.search);
      return;
    }
    ui.logout.disabled = false;
    showError(errorMessage(r));
  });
}

/** The server no longer knows this browser (401): stop everything and ask for a sign-in. */
export function sessionEnded() {
  if (session.view !== 'console') return;
  if (current.id) saveDrafts(current.id);
  stopLive();
  stopQueueTick();
  session.csrfToken = '';
  const reopen = current.id; // offered again once the same agent signs back in
  closeConversation();
  current.id = reopen;
  forgetQueue();
  ui.logout.disabled = false;
  showLogin();
  showError(t('error.session'));
  refreshLoginToken(); // the old one died with the last successful login
}

export function initSession() {
  ui.loginForm.addEventListener('submit', submitLogin);
  ui.logout.addEventListener('click', logout);
}
