/**
 * The test conversation: the store's own widget, signed in as a made-up shopper, in a frame.
 *
 *   startTest()     a fresh sample shopper each time, with the settings as saved now
 *   renderTest()    the button and status line (again, after a language switch)
 *   resetTest()     the frame gone (a store switch, signing out)
 */

import { $, el } from '../shared/dom.js';
import { t } from '../shared/i18n.js';
import { refusalText } from '../shared/refusals.js';
import { api, handled, state, storePath, tabsLoaded } from './console.js';

const test = { started: false, busy: false, notice: null };
let testRuns = 0; // numbers the frames, for whoever waits for the new one

export function resetTest() {
  Object.assign(test, { started: false, busy: false, notice: null });
  var box = $('test-frame-box');
  var frame = box.querySelector('iframe');
  if (frame) box.removeChild(frame);
  $('test-placeholder').hidden = false;
  renderTest();
}

export function renderTest() {
  var button = $('test-start');
  var key = test.busy ? 'test.starting' : (test.started ? 'test.restart' : 'test.start');
  button.setAttribute('data-i18n', key);
  button.textContent = t(key);
  button.disabled = test.busy;
  $('test-status').textContent = test.notice ? t(test.notice[0], test.notice[1]) : '';
}

/** A fresh sample shopper each time: the chat starts from the greeting, with the settings as saved now. */
export function startTest() {
  if (test.busy || !state.storeId) return;
  var storeId = state.storeId;
  test.busy = true;
  test.notice = null;
  renderTest();
  api.request('POST', storePath('/test-chat')).then(function (result) {
    test.busy = false;
    if (storeId !== state.storeId) return;
    if (handled(result)) { tabsLoaded.test = false; renderTest(); return; }
    var url = result.ok && typeof result.data.url === 'string' ? result.data.url : '';
    // Only a page of this site (a path), never another origin or a script URL.
    if (!/^\/(?![\/\\])/.test(url)) {
      test.notice = ['test.failed', { message: refusalText(result.data) || String(result.status) }];
      renderTest();
      return;
    }
    var box = $('test-frame-box');
    var old = box.querySelector('iframe');
    if (old) box.removeChild(old);
    // A new frame each time (not a new src): no entries in the console's own back/forward history.
    var frame = el('iframe', 'test-frame', {
      title: t('test.frameTitle'), 'data-i18n-title': 'test.frameTitle', src: url, referrerpolicy: 'same-origin',
      'data-run': ++testRuns, 'data-testid': 'seller-test-frame'
    });
    box.appendChild(frame);
    $('test-placeholder').hidden = true;
    test.started = true;
    test.notice = ['test.started'];
    renderTest();
  });
}
