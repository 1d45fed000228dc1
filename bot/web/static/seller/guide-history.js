/**
 * A product guide's version history, with a restore button on every version but the current one.
 *
 *   loadGuideHistory()      the open guide's versions (a promise)
 *   renderGuideHistory()    shows them (again, after a language switch)
 */

import { $, clear, el } from '../shared/dom.js';
import { fillNodes, hasText, language, t } from '../shared/i18n.js';
import { refusalText } from '../shared/refusals.js';
import { api, handled, showAlert, state, storePath } from './console.js';
import { fillGuide, guideDirty, guides, replaceProduct } from './guides.js';
import { renderVersions } from './versions.js';

export function loadGuideHistory() {
  var sku = guides.sku;
  var storeId = state.storeId;
  return api.request('GET', storePath('/products/' + encodeURIComponent(sku) + '/guide/history')).then(function (result) {
    if (storeId !== state.storeId || sku !== guides.sku || handled(result)) return;
    if (result.ok) {
      guides.history = result.data.versions || [];
      renderGuideHistory();
    }
  });
}

function guideSummary(node, summary) {
  var text = String(summary || '');
  var m;
  if (text === 'as imported') return fillNodes(node, 'guides.summary.asImported');
  if (text === 'no change') return fillNodes(node, 'guides.summary.noChange');
  if ((m = /^restored version (\d+)$/.exec(text))) return fillNodes(node, 'guides.summary.restored', { v: m[1] });
  if ((m = /^uploaded the manual (.+)$/.exec(text))) return fillNodes(node, 'guides.summary.uploaded', { name: m[1] });
  if ((m = /^changed (.*)$/.exec(text))) {
    var what = m[1].split(', ').map(function (f) {
      var key = 'guides.field.' + f;
      return hasText(key) ? t(key) : f;
    }).join(language() === 'zh-CN' ? '、' : ', ');
    clear(node);
    node.textContent = t('guides.summary.changed', { what: what });
    return node;
  }
  clear(node);
  node.appendChild(el('span', null, { translate: 'no' }, text));
  return node;
}

export function renderGuideHistory() {
  var versions = guides.history || [];
  renderVersions($('guide-history-list'), versions, versions.length ? versions[0].version : null, {
    testid: 'seller-guide-history', empty: 'guides.historyEmpty', summary: guideSummary,
    restoreText: 'guides.restore', restoreLabel: 'guides.restoreLabel', restoreTestid: 'seller-guide-restore',
    restore: restoreGuide
  });
}

function restoreGuide(version, button) {
  if (guideDirty() && !window.confirm(t('guides.restoreConfirm', { v: version }))) return;
  var sku = guides.sku;
  var storeId = state.storeId;
  button.disabled = true;
  api.request('POST', storePath('/products/' + encodeURIComponent(sku) + '/guide/rollback'), { version: version }).then(function (result) {
    button.disabled = false;
    if (storeId !== state.storeId || sku !== guides.sku || handled(result)) return;
    if (!result.ok) { showAlert(refusalText(result.data)); return; }
    guides.notice = ['guides.restored', { old: version, v: result.data.version }];
    fillGuide(result.data);
    replaceProduct(result.data);
    // The clicked button is gone with the old history: the status, which says what happened, takes the focus.
    loadGuideHistory().then(function () { $('guide-status').focus(); });
  });
}
