/**
 * The console's tabs (settings, product guides, team & security, integrations, test conversation): the one shown is in
 * the address (#guides…), each loads its data for the open store the first time it is shown.
 *
 *   startTabs()          the tabs and every panel's controls, wired once
 *   showTab(name, focus) shows a tab (and loads it)
 *   loadTab(name)        loads a tab's data for the open store, once
 *   currentTabName()     the tab shown
 *   resetPanels()        everything a store's panels hold, gone: on a store switch and on signing out
 *                        (secrets and invitation links included)
 *   relabelPanels()      after a language switch: what the panels built from data, re-labelled
 */

import { $ } from '../shared/dom.js';
import { state, tabsLoaded } from './console.js';
import { fitAllRows } from './guide-steps.js';
import { loadProducts, relabelGuides, resetGuides, startGuides } from './guides.js';
import { loadIntegrations, renderIntegrations, resetIntegrations } from './integrations.js';
import { openedInvitationLink } from './invitations.js';
import { failedJobsShown, loadFailedJobs, renderFailedJobs, resetFailedJobs } from './jobs.js';
import { buildSecretCards, loadSecrets, renderSecrets, resetSecrets } from './secrets.js';
import { loadSmtp, renderSmtp, resetSmtp, startSmtp } from './smtp.js';
import { loadTeam, renderCreated, renderTeam, resetTeam, startTeam, teamShown } from './team.js';
import { renderTest, resetTest, startTest } from './test-chat.js';

const TABS = ['settings', 'guides', 'team', 'integrations', 'test'];
let currentTab = 'settings';

export function currentTabName() {
  return currentTab;
}

function tabFromHash() {
  var name = String(window.location.hash || '').replace(/^#/, '');
  return TABS.indexOf(name) >= 0 ? name : 'settings';
}

export function showTab(name, focus) {
  if (TABS.indexOf(name) < 0) name = 'settings';
  currentTab = name;
  TABS.forEach(function (tab) {
    var on = tab === name;
    var button = $('tab-' + tab);
    button.setAttribute('aria-selected', String(on));
    button.tabIndex = on ? 0 : -1;
    $('panel-' + tab).hidden = !on;
  });
  if (focus) $('tab-' + name).focus();
  if (name === 'guides') fitAllRows();
  if (tabFromHash() !== name) {
    try {
      window.history.replaceState(null, '', window.location.pathname + window.location.search + (name === 'settings' ? '' : '#' + name));
    } catch (e) { /* an old browser: the tab just is not remembered */ }
  }
  loadTab(name);
}

export function loadTab(name) {
  if (!state.storeId || tabsLoaded[name]) return;
  tabsLoaded[name] = true;
  if (name === 'guides') loadProducts();
  else if (name === 'team') { loadSecrets(); loadSmtp(); loadTeam(); loadFailedJobs(); }
  else if (name === 'integrations') loadIntegrations();
  else if (name === 'test') startTest();
}

function tabKeys(event) {
  var index = TABS.indexOf(currentTab);
  var next = null;
  if (event.key === 'ArrowRight') next = TABS[(index + 1) % TABS.length];
  else if (event.key === 'ArrowLeft') next = TABS[(index + TABS.length - 1) % TABS.length];
  else if (event.key === 'Home') next = TABS[0];
  else if (event.key === 'End') next = TABS[TABS.length - 1];
  if (!next) return;
  event.preventDefault();
  showTab(next, true);
}

export function resetPanels() {
  Object.keys(tabsLoaded).forEach(function (tab) { delete tabsLoaded[tab]; });
  resetGuides();
  resetSecrets();
  resetSmtp();
  resetFailedJobs();
  resetIntegrations();
  resetTeam();
  resetTest();
}

export function relabelPanels() {
  if (!$('product-list')) return;
  relabelGuides();
  renderSecrets();
  renderSmtp();
  if (teamShown()) renderTeam();
  if (failedJobsShown()) renderFailedJobs();
  renderIntegrations();
  renderCreated();
  renderTest();
}

export function startTabs() {
  buildSecretCards();
  TABS.forEach(function (tab) {
    $('tab-' + tab).addEventListener('click', function () { showTab(tab, false); });
  });
  $('tablist').addEventListener('keydown', tabKeys);
  window.addEventListener('hashchange', function () {
    if (/^#invitation=/.test(window.location.hash)) { openedInvitationLink(); return; }
    if (tabFromHash() !== currentTab) showTab(tabFromHash(), false);
  });
  startGuides();
  startTeam();
  startSmtp();
  $('test-start').addEventListener('click', startTest);
  resetPanels();
  showTab(tabFromHash(), false);
}
