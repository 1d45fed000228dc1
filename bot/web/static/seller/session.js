/**
 * Signing in and out, and opening a store.
 *
 *   showLogin()          the sign-in screen
 *   signedIn(body)       the console for the account the API answered with (its stores, its CSRF token)
 *   signedOut(message)   back to the sign-in, with everything the account saw forgotten
 *   openStore(storeId)   a store's settings and history, and the tab shown loaded for it
 *   login(event), logout()
 */

import { $, clear, el } from '../shared/dom.js';
import { retryAfter } from '../shared/console-api.js';
import { count, t } from '../shared/i18n.js';
import { api, showAlert, state } from './console.js';
import { forgetMyInvitations, loadMyInvitations, renderMyInvitations } from './invitations.js';
import { loadHistory, loadSettings } from './settings.js';
import { currentTabName, loadTab, resetPanels } from './tabs.js';
import { forgetCards } from './templates.js';

export function showLogin() {
  $('boot').hidden = true;
  $('console-view').hidden = true;
  $('login-view').hidden = false;
  showAlert('');
  $('login-email').focus();
}

export function signedOut(message) {
  state.me = null; api.csrf = ''; state.data = null; state.history = null; state.storeId = null;
  forgetMyInvitations();
  resetPanels();
  api.refreshLoginToken().then(function () {
    showLogin();
    if (message) showAlert(message);
  });
}

export function signedIn(body) {
  state.me = body.agent;
  api.csrf = body.csrf_token;
  $('boot').hidden = true;
  $('login-view').hidden = true;
  $('console-view').hidden = false;
  showAlert('');
  $('seller-name').textContent = state.me.name;
  renderMyInvitations();
  loadMyInvitations();
  var stores = state.me.stores || [];
  var picker = $('store-picker');
  clear(picker);
  stores.forEach(function (s) { picker.appendChild(el('option', null, { value: s.id }, s.name)); });
  $('store-pick').hidden = stores.length < 2;
  $('no-stores').hidden = stores.length > 0;
  $('workspace').hidden = stores.length === 0;
  if (stores.length) {
    var remembered = null;
    try { remembered = sessionStorage.getItem('seller-store'); } catch (e) { remembered = null; }
    var first = stores.some(function (s) { return s.id === remembered; }) ? remembered : stores[0].id;
    picker.value = first;
    openStore(first);
  } else {
    $('store-name').textContent = '';
  }
}

export function openStore(storeId) {
  state.storeId = storeId;
  try { sessionStorage.setItem('seller-store', storeId); } catch (e) { /* fine */ }
  state.data = null; state.edits = {}; state.errors = {}; state.history = null; state.notice = null;
  forgetCards();
  clear($('templates'));
  clear($('history-list'));
  resetPanels();
  loadTab(currentTabName());
  return Promise.all([loadSettings(), loadHistory()]);
}

export function login(event) {
  event.preventDefault();
  var email = $('login-email').value.trim();
  var password = $('login-password').value;
  if (!email || !password) { showAlert(t('login.missing')); return; }
  var submit = $('login-submit');
  submit.disabled = true;
  submit.textContent = t('login.signingIn');
  api.loginForm('/login', { email: email, password: password }).then(function (result) {
    submit.disabled = false;
    submit.textContent = t('login.submit');
    if (result.ok) {
      $('login-password').value = '';
      signedIn(result.data);
    } else if (result.status === 0) {
      showAlert(t('error.network'));
    } else if (result.status === 429) {
      showAlert(t('login.throttled', { s: count(retryAfter(result) || 60) }));
    } else if (result.status === 403) {
      api.refreshLoginToken().then(function () { showAlert(t('error.csrf')); });
    } else if (result.status === 401) {
      showAlert(t('login.wrong'));
    } else {
      showAlert(t('error.server', { status: result.status }));
    }
  });
}

export function logout() {
  var button = $('logout');
  button.disabled = true;
  api.request('POST', '/logout').then(function (result) {
    button.disabled = false;
    // Only a session the server ended (or had already forgotten) is left: otherwise its cookie still
    // signs this browser in, and the page must not pretend it does not.
    if (!result.ok && result.status !== 401) {
      showAlert(result.status ? t('error.server', { status: result.status }) : t('error.network'));
      return;
    }
    try { sessionStorage.removeItem('seller-store'); } catch (e) { /* fine */ }
    signedOut('');
  });
}
