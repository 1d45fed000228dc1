/**
 * A product guide's version history, with a restore button on every version but the current one.
 *
 *   loadGuideHistory()      the open guide's versions (a promise)
 *   renderGuideHistory()    shows them (again, after a language switch)
 */

import { $ } from '../shared/dom.js';
import { hasText, t } from '../shared/i18n.js';
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

function guideFieldName(field) {
  var key = 'guides.field.' + field;
  return hasText(key) ? t(key) : field;
}

export function renderGuideHistory() {
  var versions = guides.history || [];
  renderVersions($('guide-history-list'), versions, versions.length ? versions[0].version : null, {
    testid: 'seller-guide-history', empty: 'guides.historyEmpty',
    summaryKeys: 'guides.summary.', fieldName: guideFieldName,
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
