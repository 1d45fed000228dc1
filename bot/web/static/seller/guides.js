/**
 * The product guides tab: the manual, install video and steps the assistant sends for each product.
 *
 *   guides                    the tab's state for the open store (products, the chosen one as saved, its edits…)
 *   startGuides()             the editor's controls, wired once
 *   loadProducts()            the open store's products; the last chosen one (this session) opens
 *   resetGuides()             the tab emptied (a store switch, signing out)
 *   relabelGuides()           after a language switch
 *   guideDirty()              whether the open guide has unsaved edits
 *   fillGuide(product), replaceProduct(product), renderGuideHead(), renderGuideErrors(), guideEdited(),
 *   updateGuideState()        for the steps, manual and history modules
 */

import { $, clear, el } from '../shared/dom.js';
import { count, language, t } from '../shared/i18n.js';
import { fieldRefusalText, refusalText } from '../shared/refusals.js';
import { safeUrl } from '../shared/safe-text.js';
import { api, handled, showAlert, state, storePath, tabsLoaded } from './console.js';
import { loadGuideHistory, renderGuideHistory } from './guide-history.js';
import { renderUploadHint, uploadManual } from './guide-manual.js';
import { addStep, fitAllRows, renderSteps, tidyStep } from './guide-steps.js';

const GUIDE_FIELDS = ['manual_url', 'video_url', 'install_steps'];

function newGuides() {
  // limits: the server's, sent with the products ({max_steps, max_step_chars, max_manual_bytes}).
  return { products: null, limits: {}, sku: null, saved: null, steps: [], errors: {}, history: null, busy: false, notice: null };
}

export const guides = newGuides();

export function resetGuides() {
  Object.assign(guides, newGuides());
  clear($('product-list'));
  $('products-status').textContent = '';
  $('guide-form').hidden = true;
  $('guide-empty').hidden = false;
  clear($('guide-history-list'));
  clear($('guide-steps'));
  $('guide-upload-status').textContent = '';
}

export function relabelGuides() {
  renderProducts();
  renderUploadHint();
  if (guides.saved) { renderGuideHead(); renderSteps(); renderGuideErrors(); updateGuideState(); }
  if (guides.history) renderGuideHistory();
}

export function startGuides() {
  $('guide-manual').addEventListener('input', function () { delete guides.errors.manual_url; renderGuideErrors(); guideEdited(); });
  $('guide-video').addEventListener('input', function () { delete guides.errors.video_url; renderGuideErrors(); guideEdited(); });
  $('guide-add-step').addEventListener('click', function () { addStep(guides.steps.length, '', 0); });
  $('guide-save').addEventListener('click', saveGuide);
  $('guide-discard').addEventListener('click', discardGuide);
  $('guide-upload').addEventListener('change', uploadManual);
  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(fitAllRows, 150);
  });
}

function productKey() { return 'seller-product:' + state.storeId; }

export function loadProducts() {
  var storeId = state.storeId;
  $('products-status').textContent = t('common.loading');
  return api.request('GET', storePath('/products')).then(function (result) {
    if (storeId !== state.storeId) return;
    $('products-status').textContent = '';
    if (handled(result)) { tabsLoaded.guides = false; return; }
    if (!result.ok) { tabsLoaded.guides = false; showAlert(refusalText(result.data)); return; }
    guides.products = result.data.products || [];
    guides.limits = result.data.limits || {};
    renderProducts();
    renderUploadHint();
    if (!guides.sku && guides.products.length) {
      var remembered = null;
      try { remembered = sessionStorage.getItem(productKey()); } catch (e) { remembered = null; }
      var first = guides.products.some(function (p) { return p.sku === remembered; }) ? remembered : guides.products[0].sku;
      selectProduct(first, true);
    }
  });
}

function stepCount(n) {
  if (!n) return t('guides.stepCount.none');
  return n === 1 ? t('guides.stepCount.one') : t('guides.stepCount.many', { n: count(n) });
}

function renderProducts() {
  var list = $('product-list');
  clear(list);
  if (!guides.products) return;
  if (!guides.products.length) {
    $('products-status').textContent = t('guides.noProducts');
    return;
  }
  guides.products.forEach(function (product) {
    var item = el('li');
    var button = el('button', 'product', { type: 'button', 'data-testid': 'seller-product', 'data-sku': product.sku });
    if (product.sku === guides.sku) button.setAttribute('aria-current', 'true');
    button.appendChild(el('span', 'product-name', { translate: 'no' }, product.name));
    var meta = el('span', 'product-meta');
    meta.appendChild(el('span', 'sku', { translate: 'no' }, product.sku));
    meta.appendChild(document.createTextNode(' · ' + stepCount((product.install_steps || []).length)));
    button.appendChild(meta);
    button.addEventListener('click', function () { selectProduct(product.sku, false); });
    item.appendChild(button);
    list.appendChild(item);
  });
}

function selectProduct(sku, quiet) {
  if (sku === guides.sku) return;
  if (guideDirty() && !window.confirm(t('guides.leaveConfirm'))) return;
  var product = null;
  (guides.products || []).forEach(function (p) { if (p.sku === sku) product = p; });
  if (!product) return;
  guides.sku = sku;
  guides.history = null;
  guides.notice = null;
  try { sessionStorage.setItem(productKey(), sku); } catch (e) { /* fine */ }
  $('guide-upload-status').textContent = '';
  $('guide-upload-error').hidden = true;
  fillGuide(product);
  renderProducts();
  clear($('guide-history-list'));
  loadGuideHistory();
  if (!quiet) $('guide-manual').focus();
}

/** The editor shows `product` as saved (its own edits dropped). */
export function fillGuide(product) {
  guides.saved = product;
  guides.errors = {};
  $('guide-empty').hidden = true;
  $('guide-form').hidden = false;
  $('guide-manual').value = product.manual_url || '';
  $('guide-video').value = product.video_url || '';
  guides.steps = (product.install_steps || []).slice();
  renderGuideHead();
  renderSteps();
  renderGuideErrors();
  updateGuideState();
}

export function renderGuideHead() {
  var saved = guides.saved;
  $('guide-title').textContent = saved.name;
  $('guide-sku').textContent = saved.sku;
  $('guide-version').textContent = saved.version ? t('guides.version', { v: saved.version }) : t('guides.asImported');
  [['manual_url', 'guide-manual-link', 'guide-manual-none'], ['video_url', 'guide-video-link', 'guide-video-none']].forEach(function (f) {
    var link = $(f[1]);
    var url = safeUrl(saved[f[0]]);
    var href = url ? url.href : null;
    link.hidden = !href;
    $(f[2]).hidden = !!href;
    if (href) {
      link.href = href;
      link.textContent = saved[f[0]];
      link.setAttribute('aria-label', t('common.openLink', { url: saved[f[0]] }));
    } else {
      link.removeAttribute('href');
      link.textContent = '';
    }
  });
}

function guideForm() {
  return {
    manual_url: $('guide-manual').value.trim() || null,
    video_url: $('guide-video').value.trim() || null,
    install_steps: guides.steps.map(tidyStep).filter(function (s) { return s; })
  };
}

export function guideDirty() {
  if (!guides.saved) return false;
  var form = guideForm();
  var saved = guides.saved;
  return form.manual_url !== (saved.manual_url || null) || form.video_url !== (saved.video_url || null) ||
    JSON.stringify(form.install_steps) !== JSON.stringify((saved.install_steps || []).map(tidyStep));
}

export function guideEdited() {
  guides.notice = null;
  updateGuideState();
}

export function updateGuideState() {
  if (!guides.saved) return;
  var dirty = guideDirty();
  $('guide-save').disabled = guides.busy || !dirty;
  $('guide-discard').disabled = guides.busy || !dirty;
  var status = $('guide-status');
  if (guides.busy) status.textContent = t('guides.saving');
  else if (dirty) status.textContent = t('guides.pending');
  else if (guides.notice) status.textContent = t(guides.notice[0], guides.notice[1]);
  else status.textContent = t('guides.none');
}

/** Field errors under their field: the server's refusal, or the console's own [key, values]. */
export function renderGuideErrors() {
  [['manual_url', 'guide-manual-error', 'guide-manual'], ['video_url', 'guide-video-error', 'guide-video'],
    ['install_steps', 'guide-steps-error', null]].forEach(function (f) {
    var message = guides.errors[f[0]];
    var box = $(f[1]);
    box.hidden = !message;
    box.textContent = !message ? '' : (Array.isArray(message) ? t(message[0], message[1]) : fieldRefusalText(message));
    if (f[2]) $(f[2]).setAttribute('aria-invalid', message ? 'true' : 'false');
  });
  var other = guides.errors.guide;
  $('guide-error').hidden = !other;
  // Not one of the form's fields (a field the server does not know): its name goes first.
  var otherText = !other ? '' : (other.field ? other.field + ': ' : '') + fieldRefusalText(other);
  $('guide-error').textContent = other ? t('guides.error', { message: otherText }) : '';
}

export function replaceProduct(product) {
  (guides.products || []).forEach(function (p, i) { if (p.sku === product.sku) guides.products[i] = product; });
  renderProducts();
}

function saveGuide() {
  if (!guides.saved || guides.busy || !guideDirty()) return;
  var sku = guides.sku;
  var storeId = state.storeId;
  guides.busy = true;
  guides.errors = {};
  renderGuideErrors();
  updateGuideState();
  api.request('PUT', storePath('/products/' + encodeURIComponent(sku) + '/guide'), guideForm()).then(function (result) {
    if (storeId !== state.storeId) return; // another store: its guides were reset
    guides.busy = false;
    if (sku !== guides.sku) { updateGuideState(); return; } // the seller opened another product meanwhile
    if (result.status === 400) {
      var field = result.data.field || 'guide';
      if (GUIDE_FIELDS.indexOf(field) < 0) field = 'guide';
      guides.errors[field] = result.data; // put in words when shown, in the language of the moment
      renderGuideErrors();
      updateGuideState();
      var focus = { manual_url: 'guide-manual', video_url: 'guide-video' }[field];
      if (focus) $(focus).focus();
      return;
    }
    if (handled(result)) { updateGuideState(); return; }
    if (!result.ok) { showAlert(refusalText(result.data)); updateGuideState(); return; }
    guides.notice = ['guides.saved', { v: result.data.version }];
    fillGuide(result.data);
    replaceProduct(result.data);
    loadGuideHistory();
  });
}

function discardGuide() {
  if (!guides.saved) return;
  guides.notice = null;
  fillGuide(guides.saved);
}
