/**
 * Team invitations. A link is /seller#invitation=TOKEN: the token rides in the fragment (never sent
 * to a server, so no log holds it), is taken out of the address at once and kept for this page.
 * Signed out, the person answers it with a password (a new one, or their existing account's);
 * signed in, they accept it. Only the link accepts: seeing an invitation is not enough.
 *
 *   takeInvitationToken()    the link's token, out of the address
 *   hasInvitationToken()     whether this page was opened with a link not yet answered
 *   openedInvitationLink()   a link pasted into a console already open
 *   showJoin()               signed out with a link: what it invites to, and the password form
 *   renderJoin()             the form's texts (again after a language switch), with the server's password minimum
 *   joinTeam(event)          the join form sent
 *   loadMyInvitations(), renderMyInvitations()   the invitations waiting for the signed-in account
 *   forgetMyInvitations()    on signing out
 */

import { $, clear, el } from '../shared/dom.js';
import { retryAfter } from '../shared/console-api.js';
import { count, fillNodes, t } from '../shared/i18n.js';
import { refusalText } from '../shared/refusals.js';
import { api, handled, showAlert, state } from './console.js';
import { roleName } from './names.js';
import { showLogin, signedIn } from './session.js';

// joining: the invitation the join form answers; minPasswordChars: the server's minimum, sent with it.
const invite = { token: null, mine: [], notice: null, busy: false, joining: null, minPasswordChars: 0 };

export function hasInvitationToken() {
  return !!invite.token;
}

export function forgetMyInvitations() {
  invite.mine = [];
  invite.notice = null;
}

export function takeInvitationToken() {
  var match = /^#invitation=([A-Za-z0-9_-]{20,200})$/.exec(String(window.location.hash || ''));
  if (!match) return;
  invite.token = match[1];
  try { window.history.replaceState(null, '', window.location.pathname + window.location.search); } catch (e) { /* fine */ }
}

/** A link pasted into a console already open: signed in, offer to accept it; else the join form. */
export function openedInvitationLink() {
  takeInvitationToken();
  if (!invite.token) return;
  if (state.me) { invite.notice = null; renderMyInvitations(); }
  else showJoin();
}

/** Why a request made signed out (the link's invitation) failed: no network, a wait, the server's refusal… */
function signedOutFailure(result) {
  if (result.status === 0) return t('error.network');
  if (result.status === 429) return t('login.throttled', { s: count(retryAfter(result) || 60) });
  if (result.status === 403) return t('error.csrf'); // a stale sign-in token: the page must be reloaded
  if (typeof result.data.code === 'string' && result.data.code) return refusalText(result.data);
  return t('error.server', { status: result.status });
}

/** Signed out with a link: what it invites to, and the password form. */
export function showJoin() {
  api.loginForm('/invitation', { token: invite.token }).then(function (result) {
    if (result.status === 404) { invite.token = null; showLogin(); showAlert(t('join.dead')); return; }
    if (!result.ok || !result.data.invitation) { showLogin(); showAlert(signedOutFailure(result)); return; }
    var inv = result.data.invitation;
    invite.joining = inv;
    invite.minPasswordChars = Number(result.data.min_password_chars) || 0;
    showLogin();
    renderJoin();
    $('join-name').value = inv.name || '';
    $('login-form').hidden = true;
    $('join-form').hidden = false;
    $('join-password').focus();
  });
}

export function renderJoin() {
  var inv = invite.joining;
  if (!inv) return;
  fillNodes($('join-text'), 'join.text', { store: inv.store.name, email: inv.email, role: roleName(inv.role) }, ['role']);
  $('join-hint').textContent = t('join.hint', { n: count(invite.minPasswordChars) });
}

export function joinTeam(event) {
  event.preventDefault();
  if (invite.busy || !invite.token) return;
  var password = $('join-password').value;
  if (password.length < invite.minPasswordChars) {
    showAlert(t('join.short', { n: count(invite.minPasswordChars) }));
    $('join-password').focus();
    return;
  }
  invite.busy = true;
  var submit = $('join-submit');
  submit.disabled = true;
  submit.textContent = t('join.joining');
  api.loginForm('/join', { token: invite.token, password: password, name: $('join-name').value.trim() }).then(function (result) {
    invite.busy = false;
    submit.disabled = false;
    submit.textContent = t('join.submit');
    if (result.ok) {
      $('join-password').value = '';
      invite.token = null;
      $('join-form').hidden = true;
      $('login-form').hidden = false;
      signedIn(result.data);
    } else if (result.status === 401) {
      showAlert(t('join.wrong'));
    } else if (result.status === 400) {
      // a missing name, a short password…
      showAlert(result.data.code ? refusalText(result.data) : t('join.short', { n: count(invite.minPasswordChars) }));
    } else if (result.status === 404) {
      invite.token = null;
      $('join-form').hidden = true;
      $('login-form').hidden = false;
      showAlert(t('join.dead'));
    } else if (result.status === 429) {
      showAlert(t('login.throttled', { s: count(retryAfter(result) || 60) }));
    } else if (result.status === 403) {
      api.refreshLoginToken().then(function () { showAlert(t('error.csrf')); });
    } else {
      showAlert(result.status ? t('error.server', { status: result.status }) : t('error.network'));
    }
  });
}

export function loadMyInvitations() {
  return api.request('GET', '/invitations').then(function (result) {
    if (!result.ok) return;
    invite.mine = result.data.invitations || [];
    renderMyInvitations();
  });
}

export function renderMyInvitations() {
  var list = $('my-invites-list');
  clear(list);
  if (invite.token) {
    var opened = el('li', 'invite', { 'data-testid': 'seller-invite-opened' });
    opened.appendChild(el('span', null, null, t('invites.opened') + ' '));
    var accept = el('button', 'btn btn-primary btn-small', { type: 'button', 'data-testid': 'seller-invite-accept' }, t('invites.accept'));
    accept.disabled = invite.busy;
    accept.addEventListener('click', acceptInvitation);
    opened.appendChild(accept);
    list.appendChild(opened);
  }
  invite.mine.forEach(function (inv) {
    var item = el('li', 'invite', { 'data-testid': 'seller-invite', 'data-id': inv.id });
    item.appendChild(fillNodes(el('span'), 'invites.item', { store: inv.store.name, role: roleName(inv.role), by: inv.invited_by }, ['role']));
    item.appendChild(document.createTextNode(' '));
    var decline = el('button', 'btn btn-small', { type: 'button', 'data-testid': 'seller-invite-decline' }, t('invites.decline'));
    decline.disabled = invite.busy;
    decline.addEventListener('click', function () { declineInvitation(inv); });
    item.appendChild(decline);
    list.appendChild(item);
  });
  if (invite.mine.length && !invite.token) list.appendChild(el('li', 'invite-hint', null, t('invites.howTo')));
  var status = $('my-invites-status');
  if (invite.notice) fillNodes(status, invite.notice[0], invite.notice[1], ['role']);
  else clear(status);
  $('my-invites').hidden = !invite.token && !invite.mine.length && !invite.notice;
}

function acceptInvitation() {
  if (invite.busy || !invite.token) return;
  invite.busy = true;
  renderMyInvitations();
  api.request('POST', '/invitations/accept', { token: invite.token }).then(function (result) {
    invite.busy = false;
    if (result.status === 404) { invite.token = null; invite.notice = ['invites.dead', {}]; renderMyInvitations(); return; }
    if (handled(result)) { renderMyInvitations(); return; }
    if (!result.ok) { showAlert(refusalText(result.data)); renderMyInvitations(); return; }
    invite.token = null;
    var inv = result.data.accepted;
    invite.notice = ['invites.accepted', { store: inv.store.name, role: roleName(inv.role) }];
    signedIn(result.data); // the new store is in the account now
  });
}

function declineInvitation(inv) {
  if (invite.busy) return;
  invite.busy = true;
  renderMyInvitations();
  api.request('POST', '/invitations/' + encodeURIComponent(inv.id) + '/decline').then(function (result) {
    invite.busy = false;
    if (handled(result)) { renderMyInvitations(); return; }
    invite.notice = result.ok ? ['invites.declined', {}] : null;
    if (!result.ok) showAlert(refusalText(result.data));
    loadMyInvitations();
  });
}
