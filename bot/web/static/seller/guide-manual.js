/**
 * Uploading a guide's manual as a PDF: checked in the browser first (type, size, not empty), then sent
 * as the raw body; the upload saves a new guide version with the new link.
 *
 *   uploadManual()    the file chosen in #guide-upload, for the open product
 */

import { $ } from '../shared/dom.js';
import { fileSize } from '../shared/format.js';
import { count, t } from '../shared/i18n.js';
import { refusalText } from '../shared/refusals.js';
import { api, handled, state, storePath } from './console.js';
import { loadGuideHistory } from './guide-history.js';
import { guides, renderGuideErrors, renderGuideHead, replaceProduct, updateGuideState } from './guides.js';

const MB = 1024 * 1024;

/** How large a manual can be, as the server said with the products (none said: the server's refusal says it). */
function maxManualBytes() {
  return Number(guides.limits.max_manual_bytes) || Infinity;
}

/** The hint under the upload button, with the server's limit (again after a language switch). */
export function renderUploadHint() {
  var bytes = Number(guides.limits.max_manual_bytes);
  $('guide-upload-hint').textContent = bytes ? t('guides.uploadHint', { mb: count(Math.floor(bytes / MB)) }) : '';
}

/** What the browser knows before sending: the type, or a .pdf name when the system gives no useful type. */
function isPdf(file) {
  if (file.type === 'application/pdf' || file.type === 'application/x-pdf') return true;
  return /\.pdf$/i.test(file.name) && (!file.type || file.type === 'application/octet-stream');
}

export function uploadManual() {
  var input = $('guide-upload');
  var file = input.files && input.files[0];
  input.value = ''; // the same file can be chosen again
  if (!file || !guides.saved) return;
  var status = $('guide-upload-status');
  var error = $('guide-upload-error');
  status.textContent = '';
  error.hidden = true;
  var problem = null;
  var limit = maxManualBytes();
  if (!isPdf(file)) problem = t('guides.notPdf', { name: file.name });
  else if (file.size > limit) problem = t('guides.tooBig', { name: file.name, size: fileSize(file.size), mb: count(Math.floor(limit / MB)) });
  else if (!file.size) problem = t('guides.emptyFile', { name: file.name });
  if (problem) {
    error.textContent = problem;
    error.hidden = false;
    return;
  }
  var sku = guides.sku;
  var storeId = state.storeId;
  status.textContent = t('guides.uploading', { name: file.name });
  $('guide-upload').disabled = true;
  api.upload(storePath('/products/' + encodeURIComponent(sku) + '/manual'), file, 'application/pdf').then(function (result) {
    $('guide-upload').disabled = false;
    if (storeId !== state.storeId || sku !== guides.sku) return;
    status.textContent = '';
    if (!result.ok && result.status !== 401 && result.status !== 0 && result.status !== 403 && result.status < 500) {
      var message = result.status === 413 ? t('guides.tooBig', { name: file.name, size: fileSize(file.size) })
        : t('guides.uploadFailed', { message: refusalText(result.data) || String(result.status) });
      error.textContent = message;
      error.hidden = false;
      return;
    }
    if (handled(result)) return;
    var uploaded = { name: file.name, size: fileSize(result.data.size || file.size) };
    // The upload saved a new version with the new link: take it, keeping the seller's other unsaved edits.
    api.request('GET', storePath('/products/' + encodeURIComponent(sku) + '/guide')).then(function (fresh) {
      if (storeId !== state.storeId || sku !== guides.sku) return;
      var product = fresh.ok ? fresh.data : null;
      if (!product) {
        product = JSON.parse(JSON.stringify(guides.saved));
        product.manual_url = result.data.manual_url;
      }
      guides.saved = product;
      $('guide-manual').value = product.manual_url || '';
      delete guides.errors.manual_url;
      renderGuideHead();
      renderGuideErrors();
      replaceProduct(product);
      guides.notice = ['guides.saved', { v: product.version }];
      updateGuideState();
      status.textContent = t('guides.uploaded', uploaded);
      loadGuideHistory();
    });
  });
}
