/**
 * Seller console: a store's seller admins set the assistant's words and rules.
 * Native ES modules, no dependencies, no build step; seller.html holds the skeleton, these modules
 * fill it from the JSON API under /seller/api.
 *
 * Safety: the page is served with a strict CSP (no inline script or style). Everything from the
 * server (templates, previews, names) reaches the page through textContent and setAttribute only;
 * nothing is parsed as HTML.
 *
 * Languages: every console text is in static/i18n/seller.<language>.json, in English and Simplified
 * Chinese; the choice is kept in localStorage. The shopper-facing templates are the seller's own text
 * and are never translated.
 *
 * The modules: console.js (the API, the signed-in state, alerts), session.js (signing in, opening a
 * store), invitations.js, tabs.js, and one module per panel: templates.js and settings.js (messages
 * & settings), email.js (its email section), guides.js with guide-steps.js, guide-manual.js and guide-history.js, secrets.js,
 * team.js, jobs.js, integrations.js (the connectors), test-chat.js.
 */

import { $ } from '../shared/dom.js';
import { applyTexts, chooseLanguage, language, loadTexts, t } from '../shared/i18n.js';
import { loadRefusals } from '../shared/refusals.js';
import { api, showAlert, state, whenSessionLapses } from './console.js';
import { hasInvitationToken, joinTeam, renderJoin, renderMyInvitations, showJoin, takeInvitationToken } from './invitations.js';
import { startEmail } from './email.js';
import { guideDirty } from './guides.js';
import { discard, formEdited, renderSettingsLabels, save, unsavedSettings } from './settings.js';
import { login, logout, openStore, showLogin, signedIn, signedOut } from './session.js';
import { relabelPanels, startTabs } from './tabs.js';

const LANGUAGES = ['en', 'zh-CN'];

function applyLanguage() {
  applyTexts(document);
  $('lang-en').setAttribute('aria-pressed', String(language() === 'en'));
  $('lang-zh').setAttribute('aria-pressed', String(language() === 'zh-CN'));
  renderSettingsLabels();
  if (state.me) renderMyInvitations();
  renderJoin();
  relabelPanels();
  if ($('alert-text').textContent) showAlert('');
}

function setLanguage(next) {
  chooseLanguage(next);
  applyLanguage();
}

async function start() {
  takeInvitationToken();
  try {
    await Promise.all([loadTexts('seller', LANGUAGES), loadRefusals(LANGUAGES)]);
  } catch (e) {
    // Without its texts the console cannot speak: say so in both languages, as the page's <noscript> does.
    $('boot').textContent = 'The seller console could not load. Reload the page. / 卖家控制台加载失败，请刷新页面。';
    return;
  }
  whenSessionLapses(signedOut);
  applyLanguage();
  $('lang-en').addEventListener('click', function () { setLanguage('en'); });
  $('lang-zh').addEventListener('click', function () { setLanguage('zh-CN'); });
  $('alert-close').addEventListener('click', function () { showAlert(''); });
  $('login-form').addEventListener('submit', login);
  $('join-form').addEventListener('submit', joinTeam);
  $('join-sign-in').addEventListener('click', function () {
    $('join-form').hidden = true;
    $('login-form').hidden = false;
    $('login-email').focus();
  });
  $('logout').addEventListener('click', logout);
  $('save').addEventListener('click', save);
  $('discard').addEventListener('click', discard);
  $('store-picker').addEventListener('change', function () {
    if ((unsavedSettings() || guideDirty()) && !window.confirm(t('console.switchConfirm'))) {
      $('store-picker').value = state.storeId;
      return;
    }
    openStore($('store-picker').value);
  });
  ['review-delay', 'review-url', 'reply-time', 'data-retention'].forEach(function (id) { $(id).addEventListener('input', formEdited); });
  startTabs();
  startEmail();
  $('review-reminder').addEventListener('change', formEdited);
  api.request('GET', '/me').then(function (result) {
    if (result.ok) signedIn(result.data);
    else if (hasInvitationToken()) showJoin();
    else {
      showLogin();
      // 401 is the normal "not signed in"; no network or a server error the seller should know about.
      if (result.status !== 401) showAlert(result.status ? t('error.server', { status: result.status }) : t('error.network'));
    }
  });
}

start();
