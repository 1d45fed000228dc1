/**
 * What every part of the seller console shares: the API, who is signed in and which store is open,
 * the alert line, and the answer to the failures every request can meet.
 *
 *   api                       the /seller/api client (its csrf is set on signing in)
 *   state                     the signed-in account and the open store's settings (see below)
 *   tabsLoaded                what each tab has loaded for the open store (emptied when the store changes)
 *   storePath(path)           "/stores/<open store>" + path
 *   showAlert(text)           the alert line above the open screen ('' hides it)
 *   handled(answer)           true if the answer was a common failure and was dealt with
 *   whenSessionLapses(fn)     what handled() does with a lapsed session: fn(message)
 *   loadForTeamTab(path, use) the team tab's data for the open store, to use(data)
 *   copyField(input, status)  a shown-once secret or link to the clipboard, and the status line says whether it worked
 */

import { ConsoleApi, commonFailure } from '../shared/console-api.js';
import { $, copyText } from '../shared/dom.js';
import { setStatusKey, t } from '../shared/i18n.js';
import { refusalText } from '../shared/refusals.js';

export const api = new ConsoleApi('/seller');

export const state = {
  me: null, storeId: null, store: null, data: null,
  edits: {}, errors: {}, previewTimers: {}, previewSeq: {}, history: null, busy: false, notice: null
};

export const tabsLoaded = {};

let sessionLapsed = () => {};

export function whenSessionLapses(fn) {
  sessionLapsed = fn;
}

export function storePath(path) {
  return '/stores/' + encodeURIComponent(state.storeId) + path;
}

export function showAlert(text) {
  const alert = $('alert');
  $('alert-text').textContent = text || '';
  alert.classList.toggle('is-empty', !text);
  $('alert-close').hidden = !text;
  const slot = $('console-view').hidden ? $('login-alert-slot') : $('console-alert-slot');
  if (alert.parentNode !== slot) slot.appendChild(alert);
}

/** The common failures: a lapsed session goes back to the login, the rest become an alert. */
export function handled(answer) {
  const failure = commonFailure(answer);
  if (!failure) return false;
  if (failure.lapsed) sessionLapsed(t(failure.key));
  else showAlert(t(failure.key, failure.values));
  return true;
}

// The team tab's data: dropped if the seller switched stores meanwhile; after a refused
// session the tab loads again when it is next opened.
export function loadForTeamTab(path, use) {
  const storeId = state.storeId;
  return api.request('GET', storePath(path)).then((result) => {
    if (storeId !== state.storeId) return;
    if (handled(result)) { tabsLoaded.team = false; return; }
    if (!result.ok) { showAlert(refusalText(result.data)); return; }
    use(result.data);
  });
}

export function copyField(input, status) {
  copyText(input, function (ok) { setStatusKey(status, ok ? 'common.copied' : 'common.copyFailed'); });
}
