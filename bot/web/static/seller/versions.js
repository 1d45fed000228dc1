/**
 * A version history (the settings', or a product guide's): newest first, who and when, and a
 * button on every version but the current one.
 *
 *   renderVersions(list, versions, current, o)   o: {testid, empty, summaryKeys, fieldName(field), restoreText,
 *                                                restoreLabel?, restoreTestid, restore(version, button)}
 *   fillSummary(node, version, keys, fieldName)  what a version changed, worded from its summary code: the
 *                                                text "<keys><code>" filled from its params (a changed field
 *                                                named by fieldName)
 *   when(iso)                                    a date and time in the console's language
 */

import { clear, el } from '../shared/dom.js';
import { dateTime } from '../shared/format.js';
import { fillNodes, hasText, language, t } from '../shared/i18n.js';

export function when(iso) {
  return dateTime(iso, language());
}

export function fillSummary(node, version, keys, fieldName) {
  var key = keys + version.summary_code;
  if (!version.summary_code || !hasText(key)) {
    // A version saved before the codes, of no known shape: its English as it was written.
    clear(node);
    node.appendChild(el('span', null, { translate: 'no' }, String(version.summary || '')));
    return node;
  }
  var params = version.summary_params || {};
  var fields = (params.fields || []).map(fieldName).join(t('history.listSeparator'));
  return fillNodes(node, key, { fields: fields, version: params.version, name: params.name }, ['fields']);
}

export function renderVersions(list, versions, current, o) {
  clear(list);
  if (!versions.length) {
    list.appendChild(el('li', 'empty empty-small', { 'data-testid': o.testid + '-empty' }, t(o.empty)));
    return;
  }
  versions.forEach(function (v) {
    var item = el('li', 'history-item', { 'data-testid': o.testid + '-item', 'data-version': v.version });
    var head = el('div', 'history-head');
    head.appendChild(el('span', 'history-version', { 'data-testid': o.testid + '-version' }, t('history.version', { v: v.version })));
    if (v.version === current) head.appendChild(el('span', 'pill pill-current', null, t('history.current')));
    item.appendChild(head);
    var summary = el('p', 'history-summary', { 'data-testid': o.testid + '-summary' });
    fillSummary(summary, v, o.summaryKeys, o.fieldName);
    item.appendChild(summary);
    var meta = el('p', 'history-meta', { 'data-testid': o.testid + '-meta' });
    if (v.created_at) meta.appendChild(document.createTextNode(when(v.created_at) + ' · '));
    var by = el('span');
    if (v.changed_by) fillNodes(by, 'history.by', { who: v.changed_by });
    else by.textContent = t('history.by', { who: t('history.system') });
    meta.appendChild(by);
    item.appendChild(meta);
    if (v.version !== current) {
      var attrs = { type: 'button', 'data-testid': o.restoreTestid };
      if (o.restoreLabel) attrs['aria-label'] = t(o.restoreLabel, { v: v.version });
      var button = el('button', 'btn btn-small', attrs, t(o.restoreText));
      button.addEventListener('click', function () { o.restore(v.version, button); });
      item.appendChild(button);
    }
    list.appendChild(item);
  });
}
