/**
 * The store's team: members and pending invitations, adding a member (an invitation link, shown once),
 * removing one or withdrawing an invitation, with a confirmation in the row.
 *
 *   startTeam()          the form's controls, wired once
 *   loadTeam()           the open store's team (a promise)
 *   renderTeam()         the table and its status line (again, after a language switch)
 *   renderCreated()      the invitation link just made, if any
 *   resetTeam()          the table, the form's error and the shown link gone (a store switch, signing out)
 *   teamShown()          whether the team is loaded
 */

import { $, clear, el } from '../shared/dom.js';
import { fillNodes, setStatusKey, t } from '../shared/i18n.js';
import { refusalText } from '../shared/refusals.js';
import { api, copyField, handled, loadForTeamTab, showAlert, state, storePath } from './console.js';
import { roleName } from './names.js';

const team = { members: null, invitations: [], confirming: null, busy: false, notice: null };
let created = null; // {email, url}: the invitation link, shown once, forgotten on "hide", a store switch or signing out

export function resetTeam() {
  Object.assign(team, { members: null, invitations: [], confirming: null, busy: false, notice: null });
  clear($('team-rows'));
  $('team-status').textContent = '';
  $('team-error').hidden = true;
  hideLink();
}

export function teamShown() {
  return !!team.members;
}

export function startTeam() {
  $('team-form').addEventListener('submit', addMember);
  $('team-copy').addEventListener('click', function () { copyField($('team-link'), $('team-copy-status')); });
  $('team-created-done').addEventListener('click', function () { hideLink(); $('team-name').focus(); });
}

export function loadTeam() {
  return loadForTeamTab('/team', function (data) {
    team.members = data.team || [];
    team.invitations = data.invitations || [];
    renderTeam();
  });
}

function isMe(email) {
  return !!(state.me && String(state.me.email || '').toLowerCase() === String(email).toLowerCase());
}

export function renderTeam() {
  var rows = $('team-rows');
  var focusEmail = null;
  var active = document.activeElement;
  if (active && rows.contains(active)) focusEmail = active.getAttribute('data-focus-key');
  clear(rows);
  var members = team.members || [];
  if (!members.length && !team.invitations.length) {
    var empty = el('tr');
    empty.appendChild(el('td', 'empty empty-small', { colspan: 4 }, t('team.empty')));
    rows.appendChild(empty);
  }
  members.forEach(function (m, index) {
    var row = el('tr', null, { 'data-testid': 'seller-team-member', 'data-email': m.email });
    row.appendChild(el('td', 'member-name', { id: 'member-' + index, translate: 'no', 'data-testid': 'seller-team-member-name' }, m.name));
    row.appendChild(el('td', 'member-email', { translate: 'no' }, m.email));
    row.appendChild(el('td', null, { 'data-testid': 'seller-team-member-role' }, roleName(m.role)));
    var actions = el('td', 'member-actions');
    if (isMe(m.email)) {
      actions.appendChild(el('span', 'pill', { 'data-testid': 'seller-team-you' }, t('team.you')));
    } else if (team.confirming === m.email) {
      var box = el('div', 'confirm confirm-inline', { role: 'group', 'aria-labelledby': 'member-' + index + '-confirm' });
      box.appendChild(fillNodes(el('p', null, { id: 'member-' + index + '-confirm' }), 'team.removeConfirm', { name: m.name }));
      var buttons = el('div', 'confirm-actions');
      var yes = el('button', 'btn btn-danger btn-small', { type: 'button', 'data-focus-key': 'yes:' + m.email, 'data-testid': 'seller-team-remove-yes' }, t('team.removeYes'));
      var no = el('button', 'btn btn-small', { type: 'button', 'data-focus-key': 'no:' + m.email, 'data-testid': 'seller-team-remove-no' }, t('common.cancel'));
      yes.disabled = team.busy;
      yes.addEventListener('click', function () { removeMember(m); });
      no.addEventListener('click', function () { team.confirming = null; renderTeam(); focusKey('remove:' + m.email); });
      buttons.appendChild(yes);
      buttons.appendChild(no);
      box.appendChild(buttons);
      actions.appendChild(box);
    } else {
      // Its name for assistive tech is its own text and the member's: "Remove Lin Wei".
      var remove = el('button', 'btn btn-small', {
        type: 'button', id: 'member-' + index + '-remove', 'aria-labelledby': 'member-' + index + '-remove member-' + index,
        'data-focus-key': 'remove:' + m.email, 'data-testid': 'seller-team-remove'
      }, t('team.remove'));
      remove.addEventListener('click', function () {
        team.confirming = m.email;
        renderTeam();
        focusKey('yes:' + m.email);
      });
      actions.appendChild(remove);
    }
    row.appendChild(actions);
    rows.appendChild(row);
  });
  team.invitations.forEach(function (inv, index) {
    // Not a member yet: the link decides who joins. Withdrawing kills the link.
    var row = el('tr', 'is-invited', { 'data-testid': 'seller-team-invitation', 'data-email': inv.email });
    row.appendChild(el('td', 'member-name', { id: 'invitation-' + index, translate: 'no' }, inv.name));
    row.appendChild(el('td', 'member-email', { translate: 'no' }, inv.email));
    var role = el('td', null, { 'data-testid': 'seller-team-member-role' }, roleName(inv.role) + ' ');
    role.appendChild(el('span', 'pill', { 'data-testid': 'seller-team-invited' }, t('team.invited')));
    row.appendChild(role);
    var actions = el('td', 'member-actions');
    var withdraw = el('button', 'btn btn-small', {
      type: 'button', id: 'invitation-' + index + '-withdraw', 'aria-labelledby': 'invitation-' + index + '-withdraw invitation-' + index,
      'data-focus-key': 'withdraw:' + inv.email, 'data-testid': 'seller-team-withdraw'
    }, t('team.withdraw'));
    withdraw.disabled = team.busy;
    withdraw.addEventListener('click', function () { removeMember(inv, 'team.withdrawn'); });
    actions.appendChild(withdraw);
    row.appendChild(actions);
    rows.appendChild(row);
  });
  if (focusEmail) focusKey(focusEmail);
  var status = $('team-status');
  if (!team.notice) clear(status);
  else fillNodes(status, team.notice[0], { name: team.notice[1].name, email: team.notice[1].email, role: roleName(team.notice[1].role) }, ['role']);
}

function focusKey(key) {
  var buttons = $('team-rows').querySelectorAll('[data-focus-key]');
  for (var i = 0; i < buttons.length; i++) {
    if (buttons[i].getAttribute('data-focus-key') === key) { buttons[i].focus(); return; }
  }
}

function removeMember(member, doneKey) {
  if (team.busy) return;
  var storeId = state.storeId;
  team.busy = true;
  renderTeam();
  api.request('DELETE', storePath('/team/' + encodeURIComponent(member.email))).then(function (result) {
    team.busy = false;
    if (storeId !== state.storeId) return;
    team.confirming = null;
    if (handled(result)) { renderTeam(); return; }
    if (!result.ok) {
      team.notice = null;
      renderTeam();
      showAlert(refusalText(result.data));
      return;
    }
    team.notice = [doneKey || 'team.removed', { name: member.name }];
    loadTeam().then(function () { $('team-name').focus(); });
  });
}

function addMember(event) {
  event.preventDefault();
  if (team.busy) return;
  var name = $('team-name').value.trim();
  var email = $('team-email').value.trim();
  var role = $('team-role').value;
  var error = $('team-error');
  error.hidden = true;
  $('team-name').setAttribute('aria-invalid', 'false');
  $('team-email').setAttribute('aria-invalid', 'false');
  if (!name || !email) {
    error.textContent = t('team.missing');
    error.hidden = false;
    var missing = !name ? 'team-name' : 'team-email';
    $(missing).setAttribute('aria-invalid', 'true');
    $(missing).focus();
    return;
  }
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
    error.textContent = t('team.badEmail');
    error.hidden = false;
    $('team-email').setAttribute('aria-invalid', 'true');
    $('team-email').focus();
    return;
  }
  var storeId = state.storeId;
  team.busy = true;
  hideLink();
  $('team-add').disabled = true;
  $('team-add').textContent = t('team.adding');
  api.request('POST', storePath('/team'), { email: email, name: name, role: role }).then(function (result) {
    team.busy = false;
    $('team-add').disabled = false;
    $('team-add').textContent = t('team.addButton');
    if (storeId !== state.storeId || handled(result)) return;
    if (!result.ok) {
      error.textContent = t('team.failed', { message: refusalText(result.data) || String(result.status) });
      error.hidden = false;
      $('team-email').focus();
      return;
    }
    $('team-form').reset();
    var url = typeof result.data.invitation_url === 'string' ? result.data.invitation_url : '';
    if (result.status === 201 && /^https?:\/\//.test(url)) {
      team.notice = null;
      created = { email: result.data.email, url: url };
      renderCreated();
      $('team-link').focus();
      $('team-link').select();
    } else {
      team.notice = ['team.roleChanged', { email: result.data.email, role: result.data.role }];
    }
    loadTeam();
  });
}

export function renderCreated() {
  var box = $('team-created');
  box.hidden = !created;
  if (!created) return;
  fillNodes($('team-created-text'), 'team.inviteReady', { email: created.email });
  if ($('team-link').value !== created.url) $('team-link').value = created.url;
}

function hideLink() {
  created = null;
  $('team-link').value = '';
  setStatusKey($('team-copy-status'), '');
  $('team-created').hidden = true;
}
