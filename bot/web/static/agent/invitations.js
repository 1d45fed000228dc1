/**
 * Team invitations. A link is /agent#invitation=TOKEN: the token rides in the
 * fragment (never sent to a server, so no log holds it), is taken out of the
 * address at once and kept for this page. Signed out, the person answers it
 * with a password (a new one, or their existing account's); signed in, they
 * accept it. Only the link accepts: seeing an invitation is not enough.
 */
import { clear, el } from '../shared/dom.js';
import { count, t } from '../shared/i18n.js';
import { errorMessage, post, refreshLoginToken, request, signedOutPost } from './api.js';
import { setHash } from './conversation.js';
import { clearError, focusQuietly, showError, ui } from './page.js';
import { failed, showLogin, startConsole } from './session.js';
import { acceptMe, num, session, str } from './state.js';

const invite = { token: null, mine: [], notice: null, busy: false }; // notice: {key, values} or null

/** Take the token out of the address; true when there was one. */
export function takeInvitationToken() {
  const m = /^#invitation=([A-Za-z0-9_-]{20,200})$/.exec(window.location.hash || '');
  if (!m) return false;
  invite.token = m[1];
  setHash(null);
  return true;
}

export function hasInvitationToken() {
  return !!invite.token;
}

function roleLabel(role) {
  return role === 'agent' || role === 'seller_admin' ? t('role.' + role) : str(role);
}

let joining = null; // the invitation the join form shows, to word it again after a language switch
let minPasswordChars = 0; // the server's minimum, sent with the invitation

function renderJoinText() {
  if (!joining) return;
  ui.joinText.textContent = t('join.text', { store: str(joining.store && joining.store.name), email: str(joining.email), role: roleLabel(joining.role) });
  ui.joinHint.textContent = t('join.hint', { n: count(minPasswordChars) });
}

/** Signed out with a link: what it invites to, and the password form. */
export function showJoin() {
  signedOutPost('/invitation', { token: invite.token }).then((r) => {
    showLogin();
    if (r.status === 404) {
      invite.token = null;
      showError(t('join.dead'));
      return;
    }
    const inv = r.data.invitation;
    if (!r.ok || !inv || typeof inv !== 'object') {
      showError(errorMessage(r));
      return;
    }
    joining = inv;
    minPasswordChars = num(r.data.min_password_chars);
    renderJoinText();
    ui.joinName.value = str(inv.name);
    ui.loginForm.hidden = true;
    ui.joinForm.hidden = false;
    focusQuietly(ui.joinPassword);
  });
}

function showSignInForm() {
  ui.joinForm.hidden = true;
  ui.loginForm.hidden = false;
}

function join(e) {
  e.preventDefault();
  if (invite.busy || !invite.token) return;
  const password = ui.joinPassword.value;
  if (password.length < minPasswordChars) {
    showError(t('join.short', { n: count(minPasswordChars) }));
    focusQuietly(ui.joinPassword);
    return;
  }
  invite.busy = true;
  ui.joinSubmit.disabled = true;
  signedOutPost('/join', { token: invite.token, password, name: ui.joinName.value.trim() }).then((r) => {
    invite.busy = false;
    ui.joinSubmit.disabled = false;
    if (r.ok && acceptMe(r.data)) {
      ui.joinPassword.value = '';
      invite.token = null;
      showSignInForm();
      clearError();
      startConsole();
      return;
    }
    if (r.status === 404) {
      invite.token = null;
      showSignInForm();
      showError(t('join.dead'));
    } else if (r.status === 401) {
      showError(t('join.wrong'));
    } else if (r.status === 403) {
      refreshLoginToken().then(() => showError(errorMessage(r, 'login')));
    } else {
      showError(errorMessage(r, 'login'));
    }
  });
}

export function loadMyInvitations() {
  return request('GET', '/invitations').then((r) => {
    if (!r.ok) return;
    invite.mine = Array.isArray(r.data.invitations) ? r.data.invitations.filter((i) => i && typeof i === 'object') : [];
    renderMyInvitations();
  });
}

/** The invitations panel of a signed-in agent (again after a language switch). */
export function renderMyInvitations() {
  renderJoinText();
  const list = ui.myInvitesList;
  clear(list);
  if (invite.token) {
    const opened = el('li', 'invite', { 'data-testid': 'agent-invite-opened' });
    opened.appendChild(el('span', null, null, t('invites.opened')));
    const accept = el('button', 'btn btn-primary btn-small', { type: 'button', 'data-testid': 'agent-invite-accept' }, t('invites.accept'));
    accept.disabled = invite.busy;
    accept.addEventListener('click', acceptInvitation);
    opened.appendChild(accept);
    list.appendChild(opened);
  }
  invite.mine.forEach((inv) => {
    const item = el('li', 'invite', { 'data-testid': 'agent-invite' });
    item.appendChild(el('span', null, null,
      t('invites.item', { store: str(inv.store && inv.store.name), role: roleLabel(inv.role), by: str(inv.invited_by) })));
    const decline = el('button', 'btn btn-small', { type: 'button', 'data-testid': 'agent-invite-decline' }, t('invites.decline'));
    decline.disabled = invite.busy;
    decline.addEventListener('click', () => declineInvitation(inv));
    item.appendChild(decline);
    list.appendChild(item);
  });
  if (invite.mine.length && !invite.token) list.appendChild(el('li', 'invite-hint', null, t('invites.howTo')));
  ui.myInvitesStatus.textContent = invite.notice ? noticeText(invite.notice) : '';
  ui.myInvites.hidden = !invite.token && !invite.mine.length && !invite.notice;
}

/** The role in a notice is kept as its code and named when shown, so it follows the language too. */
function noticeText(notice) {
  const values = notice.values ? { ...notice.values, role: roleLabel(notice.values.role) } : null;
  return t(notice.key, values);
}

function acceptInvitation() {
  if (invite.busy || !invite.token) return;
  invite.busy = true;
  renderMyInvitations();
  post('/invitations/accept', { token: invite.token }).then((r) => {
    invite.busy = false;
    if (r.status === 404) {
      invite.token = null;
      invite.notice = { key: 'invites.dead', values: null };
      renderMyInvitations();
      return;
    }
    if (!r.ok || !acceptMe(r.data)) {
      renderMyInvitations();
      failed(r);
      return;
    }
    invite.token = null;
    const inv = r.data.accepted || {};
    invite.notice = { key: 'invites.accepted', values: { store: str(inv.store && inv.store.name), role: inv.role } };
    startConsole(); // the new store's queue and live feed
  });
}

function declineInvitation(inv) {
  if (invite.busy) return;
  invite.busy = true;
  renderMyInvitations();
  post('/invitations/' + encodeURIComponent(num(inv.id)) + '/decline', {}).then((r) => {
    invite.busy = false;
    if (!r.ok) {
      renderMyInvitations();
      failed(r);
      return;
    }
    invite.notice = { key: 'invites.declined', values: null };
    loadMyInvitations();
  });
}

export function initInvitations() {
  ui.joinForm.addEventListener('submit', join);
  ui.joinSignIn.addEventListener('click', () => {
    showSignInForm();
    focusQuietly(ui.loginEmail);
  });
  window.addEventListener('hashchange', () => {
    // A link pasted into a console already open.
    if (!takeInvitationToken()) return;
    invite.notice = null;
    if (session.view === 'console') renderMyInvitations();
    else showJoin();
  });
}
