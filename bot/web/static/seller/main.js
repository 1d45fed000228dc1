/**
 * Seller console: a store's seller admins set the assistant's words and rules.
 * A native ES module, no dependencies, no build step; seller.html holds the skeleton, this file
 * fills it from the JSON API under /seller/api, with the consoles' shared modules (../shared/).
 *
 * Safety: the page is served with a strict CSP (no inline script or style). Everything from the
 * server (templates, previews, names) reaches the page through textContent and setAttribute only;
 * nothing is parsed as HTML.
 *
 * Languages: every console text is in static/i18n/seller.<language>.json, in English and Simplified
 * Chinese; the choice is kept in localStorage. The shopper-facing templates are the seller's own text
 * and are never translated.
 *
 * Its sections become modules of their own in the next step.
 */

import { commonFailure, ConsoleApi, retryAfter } from '../shared/console-api.js';
import { $, clear, copyText, el } from '../shared/dom.js';
import { dateTime, fileSize } from '../shared/format.js';
import { applyTexts, chooseLanguage, fillNodes, hasText, language, loadTexts, setStatusKey, t } from '../shared/i18n.js';
import { safeUrl } from '../shared/safe-text.js';

/**
 * The seller console's names for the server's keys (templates, handoff reasons, weekdays, placeholders,
 * roles, failed jobs), in both languages.
 *
 *   pick(pair)                      the current language's half of an [English, Chinese] pair
 *   templateName(key)               a template's name ("Review thank-you" / "评价感谢"); the key if unknown
 *   templateHint(key)               when it is sent
 *   reasonName(reason)              a handoff reason's name
 *   weekdayName(day)                "Monday" / "星期一" for "mon"
 *   placeholderDescription(name, fromServer)   in Chinese from here, in English as the server describes it
 *   roleName(role)                  a team role's name, from the texts ("team.role.<role>"); the role if unknown
 *   knownText(prefix, value)        the text of prefix + value if there is one, else the value itself
 *
 * The pairs stay as they were before the console was split into modules; a test checks that every
 * template, reason and placeholder the server knows is named here.
 */


/** Names and hints of the templates, reasons, weekdays and placeholders, in both languages. */
const TEMPLATE_NAMES = {
  greeting: ['Greeting', '问候语', 'The first message of every chat.', '每次对话的第一条消息。'],
  delivery_confirmation: ['Delivery confirmation', '签收确认', 'Sent when the carrier reports the parcel delivered.', '承运商报告包裹已签收时发送。'],
  install_video: ['Install-video follow-up', '安装视频跟进', "Sent a while after delivery with the product's install video.", '签收一段时间后，随商品安装视频一起发送。'],
  exception_customs: ['Exception notice: held up', '异常通知：包裹滞留', 'When the parcel is held, usually by customs.', '包裹被扣留（通常是海关）时发送。'],
  exception_failed_attempt: ['Exception notice: failed delivery', '异常通知：派送失败', 'When the carrier could not deliver.', '承运商派送未成功时发送。'],
  exception_pickup: ['Exception notice: at a pickup point', '异常通知：待自提', 'When the parcel waits at a pickup point.', '包裹在自提点等待领取时发送。'],
  review_invitation: ['Review invitation', '评价邀请', 'Sent the chosen number of days after delivery.', '签收后按设定天数发送。'],
  review_thanks: ['Review thank-you', '评价感谢', 'After the shopper leaves a review.', '买家留下评价后发送。'],
  handoff_connecting: ['Handoff: connecting', '转人工：正在连接', 'When a person from your team is online.', '您的团队有人在线时发送。'],
  handoff_waiting: ['Handoff: everyone busy', '转人工：客服忙碌', 'In business hours, when nobody is online.', '营业时间内无人在线时发送。'],
  out_of_hours: ['Out-of-hours notice', '非工作时间通知', 'Outside business hours.', '非营业时间发送。']
};
const REASON_NAMES = {
  not_received: ['Parcel not received', '未收到包裹'],
  damaged: ['Arrived damaged', '商品损坏'],
  missing_parts: ['Missing parts', '缺少零件'],
  wrong_item: ['Wrong item', '发错商品'],
  shopper_request: ['Shopper asks for a person (always)', '买家要求人工（始终转接）'],
  not_understood: ['The assistant did not understand', '智能助手无法理解'],
  identity_check_failed: ['Identity check failed', '身份验证失败']
};
const WEEKDAY_NAMES = {
  mon: ['Monday', '星期一'], tue: ['Tuesday', '星期二'], wed: ['Wednesday', '星期三'], thu: ['Thursday', '星期四'],
  fri: ['Friday', '星期五'], sat: ['Saturday', '星期六'], sun: ['Sunday', '星期日']
};
const PLACEHOLDER_ZH = {
  shopper_first_name: '买家的名字（未知时为 "there"）',
  store_name: '店铺名称',
  order_number: '订单号，例如 FZ-20931',
  item_names: '商品，例如 "1 × Aluminium oil pan"',
  tracking_url: '承运商的包裹跟踪页面',
  carrier: '承运商，例如 USPS',
  tracking_number: '包裹的跟踪号',
  delivered_at: '签收时间（买家当地时间）',
  latest_scan: '承运商最新的扫描记录，例如 "Held by customs, JFK"',
  review_url: '该订单的店铺评价链接',
  reply_time: '通常多久有人回复，例如 "2 hours"',
  back_in: '团队何时回来，例如 "in about 9 hours (Monday 09:00, Asia/Shanghai time)"',
  reference: '工单编号，例如 E-12'
};
function pick(pair) {
  return language() === 'zh-CN' ? pair[1] : pair[0];
}

function templateName(key) {
  const names = TEMPLATE_NAMES[key];
  return names ? pick(names) : key;
}

function templateHint(key) {
  const names = TEMPLATE_NAMES[key];
  return names ? (language() === 'zh-CN' ? names[3] : names[2]) : '';
}

function reasonName(reason) {
  return REASON_NAMES[reason] ? pick(REASON_NAMES[reason]) : reason;
}

function weekdayName(day) {
  return pick(WEEKDAY_NAMES[day] || ['', '']);
}

function placeholderDescription(name, fromServer) {
  if (language() === 'zh-CN' && PLACEHOLDER_ZH[name]) return PLACEHOLDER_ZH[name];
  return (fromServer || {})[name] || name;
}

function knownText(prefix, value) {
  return hasText(prefix + value) ? t(prefix + value) : String(value);
}

function roleName(role) {
  return hasText('team.role.' + role) ? t('team.role.' + role) : role;
}

/**
 * The server's refusals as the seller reads them.
 *
 *   serverError(message)     the server's English message, in Chinese when the console is (and the message is known)
 *   fieldError(error, field) a refused save's message for one field, without the "nothing saved: " and "<field>: "
 *                            prefixes, since the console shows it beside the field, in its own words
 *
 * The Chinese comes from matching the English sentences: rewording one in Python leaves it in English
 * here (issue 15 replaces this with error codes).
 */


/** The server's template errors, in Chinese (the English text is the server's own). */
const ERROR_ZH = [
  [/^unknown placeholder \{([^}]*)\}; this message can use (.*)$/, '未知占位符 {$1}；此消息可以使用 $2'],
  [/^\{(.*)\} at character (\d+) is not a placeholder.*$/, '第 $2 个字符处的 {$1} 不是占位符：只允许 {order_number} 这样的名称（不能有属性、索引、格式或代码）'],
  [/^unmatched '\{' at character (\d+).*$/, '第 $1 个字符处的 "{" 没有配对；如需输入字面上的大括号，请写 {{'],
  [/^unmatched '\}' at character (\d+).*$/, '第 $1 个字符处的 "}" 没有配对；如需输入字面上的大括号，请写 }}'],
  [/^empty placeholder \{\} at character (\d+).*$/, '第 $1 个字符处的占位符 {} 为空；请填写名称，例如 {order_number}'],
  [/^a template cannot be empty$/, '模板不能为空'],
  [/^a template can have at most ([\d,]+) characters$/, '模板最多 $1 个字符'],
  // product guides and manuals
  [/^must be a link \(text\), or null for none$/, '必须是链接，或留空'],
  [/^a link can be at most (\d+) characters$/, '链接最多 $1 个字符'],
  [/^must be an http\(s\) link, like (.*)$/, '必须是 http(s) 开头的链接，例如 $1'],
  [/^a link cannot contain spaces, quotes or angle brackets$/, '链接里不能有空格、引号或尖括号'],
  [/^must be a list of texts, one per step$/, '必须是文字列表，每步一条'],
  [/^at most (\d+) steps$/, '最多 $1 个步骤'],
  [/^step (\d+) is empty$/, '第 $1 步是空的'],
  [/^step (\d+) is longer than (\d+) characters$/, '第 $1 步超过了 $2 个字符'],
  [/^someone else saved this guide at the same moment; reload and try again$/, '有人同时保存了这份指南，请刷新后重试'],
  [/^the file is not a PDF \(manuals must be PDF files\)$/, '这个文件不是 PDF（说明书必须是 PDF 文件）'],
  [/^the file is empty$/, '文件是空的'],
  [/^a manual can be at most (\d+) MB$/, '说明书最大 $1 MB'],
  [/^send the manual as the body, with Content-Type: application\/pdf$/, '请上传 PDF 格式的说明书'],
  [/^no product '(.*)' in this store$/, '本店没有商品 $1'],
  [/^no version (\d+) of this guide$/, '这份指南没有版本 $1'],
  // secrets and team
  [/^"grace_hours" must be from 0 to 168$/, '旧密钥有效时间必须在 0 到 168 小时之间'],
  [/^'(.*)' is not an email address$/, '“$1” 不是有效的邮箱地址'],
  [/^role must be one of (.*)$/, '角色必须是以下之一：$1'],
  [/^you cannot remove yourself; ask another seller admin of the store$/, '不能移除您自己；请让本店其他卖家管理员操作'],
  [/^no such member of this store(, nor a pending invitation)?$/, '本店没有这个成员，也没有待处理的邀请'],
  [/^give the person's name$/, '请填写对方的姓名'],
  [/^send \{"email".*$/, '请填写邮箱、姓名和角色']
];

function serverError(message) {
  if (language() !== 'zh-CN') return message;
  const text = String(message || '');
  for (const [pattern, chinese] of ERROR_ZH) {
    if (pattern.test(text)) return text.replace(pattern, chinese);
  }
  return text;
}

function fieldError(error, field) {
  return String(error || '').replace(/^nothing saved: /, '').replace(field + ': ', '');
}

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


const api = new ConsoleApi('/seller');

const state = {
  me: null, storeId: null, store: null, data: null,
  edits: {}, errors: {}, previewTimers: {}, previewSeq: {}, history: null, busy: false, notice: null
};

const tabsLoaded = {};

let sessionLapsed = () => {};

function whenSessionLapses(fn) {
  sessionLapsed = fn;
}

function storePath(path) {
  return '/stores/' + encodeURIComponent(state.storeId) + path;
}

function showAlert(text) {
  const alert = $('alert');
  $('alert-text').textContent = text || '';
  alert.classList.toggle('is-empty', !text);
  $('alert-close').hidden = !text;
  const slot = $('console-view').hidden ? $('login-alert-slot') : $('console-alert-slot');
  if (alert.parentNode !== slot) slot.appendChild(alert);
}

/** The common failures: a lapsed session goes back to the login, the rest become an alert. */
function handled(answer) {
  const failure = commonFailure(answer);
  if (!failure) return false;
  if (failure.lapsed) sessionLapsed(t(failure.key));
  else showAlert(t(failure.key, failure.values));
  return true;
}

// The team tab's data: dropped if the seller switched stores meanwhile; after a refused
// session the tab loads again when it is next opened.
function loadForTeamTab(path, use) {
  const storeId = state.storeId;
  return api.request('GET', storePath(path)).then((result) => {
    if (storeId !== state.storeId) return;
    if (handled(result)) { tabsLoaded.team = false; return; }
    if (!result.ok) { showAlert(serverError(result.data.error || '')); return; }
    use(result.data);
  });
}

function copyField(input, status) {
  copyText(input, function (ok) { setStatusKey(status, ok ? 'common.copied' : 'common.copyFailed'); });
}

/**
 * A version history (the settings', or a product guide's): newest first, who and when, and a
 * button on every version but the current one.
 *
 *   renderVersions(list, versions, current, o)   o: {testid, empty, summary(node, summary), restoreText,
 *                                                restoreLabel?, restoreTestid, restore(version, button)}
 *   when(iso)                                    a date and time in the console's language
 */


function when(iso) {
  return dateTime(iso, language());
}

function renderVersions(list, versions, current, o) {
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
    o.summary(summary, v.summary);
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

/**
 * The message templates: a card per template, with its placeholders as chips and a live preview
 * of the text on the store's latest order. The texts are the seller's own and never translated.
 *
 *   renderTemplates()        builds the cards once per store; later calls (a language switch) only re-label them
 *   forgetCards()            the open store's cards, gone (a store switch)
 *   showSavedTemplates()     every card back to the saved text (after a save or a rollback loaded a new version)
 *   discardTemplateEdits()   the seller's unsaved template edits, undone
 *   schedulePreview(key, delay), showTemplateError(key), focusTemplate(key)
 */


const PREVIEW_DELAY_MS = 300;
/** The open store's cards by template key. */
const cards = {};

function forgetCards() {
  Object.keys(cards).forEach(function (key) { delete cards[key]; });
}

function hasCard(key) {
  return Object.prototype.hasOwnProperty.call(cards, key);
}

function focusTemplate(key) {
  cards[key].area.focus();
}

/** Same store, new version: the cards stay (and keep their previews until the new ones arrive). */
function showSavedTemplates() {
  Object.keys(cards).forEach(function (key) {
    var card = cards[key];
    card.area.value = templateText(key);
    card.changed.hidden = card.reset.hidden = true;
    card.root.classList.remove('is-changed');
  });
}

function discardTemplateEdits() {
  Object.keys(cards).forEach(function (key) { cards[key].area.value = state.data.settings.templates[key]; });
  Object.keys(state.edits).forEach(function (key) { delete state.edits[key]; edited(key, cards[key].area.value); });
  state.errors = {};
  Object.keys(cards).forEach(showTemplateError);
}

/** A placeholder's description in the console's language (in English, the server's). */
function describePlaceholder(name) {
  return placeholderDescription(name, state.data.placeholder_descriptions);
}

function templateText(key) {
  return Object.prototype.hasOwnProperty.call(state.edits, key) ? state.edits[key] : state.data.settings.templates[key];
}

/** Builds a card once per template; later calls (a language switch) only re-label it. */
function renderTemplates() {
  var keys = Object.keys(state.data.settings.templates);
  var box = $('templates');
  keys.forEach(function (key) {
    var card = cards[key];
    if (!card) {
      card = buildCard(key);
      cards[key] = card;
      box.appendChild(card.root);
    }
    card.title.textContent = templateName(key);
    card.hint.textContent = templateHint(key);
    card.chipsLabel.textContent = t('templates.placeholders');
    card.previewLabel.textContent = t('templates.preview');
    card.changed.textContent = t('templates.changed');
    card.reset.textContent = t('templates.reset');
    card.chips.forEach(function (chip) {
      var name = chip.getAttribute('data-placeholder');
      var description = describePlaceholder(name);
      chip.setAttribute('title', description);
      chip.setAttribute('aria-label', t('templates.insert', { name: '{' + name + '}', description: description }));
    });
    card.descriptions.forEach(function (dd) { dd.textContent = describePlaceholder(dd.getAttribute('data-placeholder')); });
    showTemplateError(key);
  });
}

function buildCard(key) {
  var root = el('article', 'tpl card', { 'data-testid': 'seller-template', 'data-key': key });
  var head = el('div', 'tpl-head');
  var title = el('h3', 'tpl-title', { id: 'tpl-title-' + key, 'data-testid': 'seller-template-title' });
  var changed = el('span', 'tpl-changed', { 'data-testid': 'seller-template-changed' });
  changed.hidden = true;
  head.appendChild(title);
  head.appendChild(changed);
  var hint = el('p', 'hint tpl-hint', { id: 'tpl-hint-' + key });
  var area = el('textarea', 'textarea', {
    id: 'tpl-' + key, rows: 3, maxlength: 2000, spellcheck: 'true',
    'aria-labelledby': 'tpl-title-' + key, 'aria-describedby': 'tpl-hint-' + key + ' tpl-error-' + key,
    'data-testid': 'seller-template-text'
  });
  area.value = templateText(key);
  area.addEventListener('input', function () { edited(key, area.value); });

  var chipsRow = el('div', 'chips');
  var chipsLabel = el('span', 'chips-label', { id: 'tpl-chips-' + key });
  chipsRow.appendChild(chipsLabel);
  var chips = [];
  var list = el('dl', 'placeholder-list', { 'data-testid': 'seller-placeholder-list' });
  var descriptions = [];
  (state.data.placeholders[key] || []).forEach(function (name) {
    var chip = el('button', 'chip', { type: 'button', 'data-placeholder': name, 'data-testid': 'seller-chip' }, '{' + name + '}');
    chip.addEventListener('click', function () { insertPlaceholder(area, name); edited(key, area.value); });
    chips.push(chip);
    chipsRow.appendChild(chip);
    list.appendChild(el('dt', null, null, '{' + name + '}'));
    var dd = el('dd', null, { 'data-placeholder': name });
    descriptions.push(dd);
    list.appendChild(dd);
  });

  var error = el('p', 'field-error', { id: 'tpl-error-' + key, role: 'alert', 'data-testid': 'seller-template-error' });
  error.hidden = true;
  var previewBox = el('div', 'preview');
  var previewLabel = el('span', 'preview-label');
  var preview = el('p', 'preview-text', { 'aria-live': 'polite', 'data-testid': 'seller-template-preview' });
  previewBox.appendChild(previewLabel);
  previewBox.appendChild(preview);
  var reset = el('button', 'btn btn-quiet btn-small', { type: 'button', 'data-testid': 'seller-template-reset' });
  reset.hidden = true;
  reset.addEventListener('click', function () {
    area.value = state.data.settings.templates[key];
    edited(key, area.value);
  });

  root.appendChild(head);
  root.appendChild(hint);
  root.appendChild(area);
  root.appendChild(error);
  root.appendChild(chipsRow);
  root.appendChild(list);
  root.appendChild(previewBox);
  root.appendChild(reset);
  return {
    root: root, title: title, hint: hint, area: area, chips: chips, chipsLabel: chipsLabel, descriptions: descriptions,
    error: error, preview: preview, previewLabel: previewLabel, changed: changed, reset: reset
  };
}

function insertPlaceholder(area, name) {
  var text = '{' + name + '}';
  var start = area.selectionStart == null ? area.value.length : area.selectionStart;
  var end = area.selectionEnd == null ? start : area.selectionEnd;
  area.value = area.value.slice(0, start) + text + area.value.slice(end);
  area.focus();
  area.setSelectionRange(start + text.length, start + text.length);
}

function edited(key, value) {
  state.notice = null;
  if (value === state.data.settings.templates[key]) delete state.edits[key];
  else state.edits[key] = value;
  var card = cards[key];
  card.changed.hidden = card.reset.hidden = !Object.prototype.hasOwnProperty.call(state.edits, key);
  card.root.classList.toggle('is-changed', !card.changed.hidden);
  schedulePreview(key, PREVIEW_DELAY_MS);
  updateSaveState();
}

function schedulePreview(key, delay) {
  clearTimeout(state.previewTimers[key]);
  var card = cards[key];
  if (card) card.preview.setAttribute('aria-busy', 'true');
  state.previewTimers[key] = setTimeout(function () { runPreview(key); }, delay);
}

function runPreview(key) {
  var storeId = state.storeId;
  var seq = (state.previewSeq[key] || 0) + 1;
  state.previewSeq[key] = seq;
  var text = templateText(key);
  api.request('POST', storePath('/preview'), { template: key, text: text }).then(function (result) {
    if (storeId !== state.storeId || state.previewSeq[key] !== seq || !cards[key]) return; // a newer one is on its way
    var card = cards[key];
    card.preview.removeAttribute('aria-busy');
    if (result.status === 400) {
      state.errors[key] = result.data.error || '';
      card.preview.textContent = '';
      card.preview.classList.add('is-stale');
    } else if (result.ok) {
      delete state.errors[key];
      card.preview.textContent = result.data.rendered;
      card.preview.classList.remove('is-stale');
    } else {
      if (handled(result)) return;
      card.preview.textContent = t('templates.previewFailed');
    }
    showTemplateError(key);
    updateSaveState();
  });
}

function showTemplateError(key) {
  var card = cards[key];
  if (!card) return;
  var message = state.errors[key];
  card.error.hidden = !message;
  card.error.textContent = message ? t('templates.error', { message: serverError(message) }) : '';
  card.area.setAttribute('aria-invalid', message ? 'true' : 'false');
  card.root.classList.toggle('has-error', !!message);
}

/**
 * The "Messages & settings" tab beyond the template cards: review invitations, handoff rules and
 * business hours, the save bar, and the settings' version history with rollback.
 *
 *   loadSettings(), loadHistory()   the open store's current version and its history
 *   renderSettingsLabels()          after a language switch: everything built from data, re-labelled
 *   unsavedSettings()               how many settings differ from the saved version
 *   updateSaveState(), formEdited(), save(), discard()
 */


function unsavedSettings() {
  return state.data ? countChanges(buildPatch()) : 0;
}

function renderSettingsLabels() {
  if (state.data) {
    renderTemplates();
    renderReasons();
    renderHours();
    renderStoreLine();
    updateSaveState();
  }
  if (state.history) renderHistory();
}

function loadSettings() {
  var storeId = state.storeId;
  return api.request('GET', storePath('/settings')).then(function (result) {
    if (storeId !== state.storeId || handled(result)) return;
    if (!result.ok) { showAlert(serverError(result.data.error || '')); return; }
    state.data = result.data;
    state.edits = {};
    state.errors = {};
    showSavedTemplates();
    renderTemplates();
    fillSettings();
    renderStoreLine();
    updateSaveState();
    Object.keys(state.data.settings.templates).forEach(function (key) { schedulePreview(key, 0); });
  });
}

function loadHistory() {
  var storeId = state.storeId;
  return api.request('GET', storePath('/settings/history')).then(function (result) {
    if (storeId !== state.storeId || handled(result)) return;
    if (result.ok) {
      state.history = result.data;
      renderHistory();
    }
  });
}

function renderStoreLine() {
  var store = state.data && state.data.store;
  $('store-name').textContent = store ? store.name : '';
  $('store-timezone').textContent = store && store.timezone ? t('escalation.timezone', { tz: store.timezone }) : '';
}

function fillSettings() {
  var s = state.data.settings;
  $('review-delay').value = s.review.delay_days;
  $('review-reminder').checked = !!s.review.reminder;
  $('review-url').value = s.review.url || '';
  $('reply-time').value = s.escalation.reply_time_minutes;
  clear($('reasons'));
  clear($('hours'));
  renderReasons();
  renderHours();
}

function renderReasons() {
  var box = $('reasons');
  var chosen = {};
  if (!box.firstChild) {
    (state.data.settings.escalation.reasons || []).forEach(function (r) { chosen[r] = true; });
    state.data.reasons.forEach(function (reason) {
      var id = 'reason-' + reason;
      var row = el('div', 'check');
      var box2 = el('input', null, { type: 'checkbox', id: id, 'data-reason': reason, 'data-testid': 'seller-reason' });
      box2.checked = !!chosen[reason];
      if (reason === 'shopper_request') { box2.checked = true; box2.disabled = true; }
      box2.addEventListener('change', formEdited);
      row.appendChild(box2);
      row.appendChild(el('label', null, { 'for': id, 'data-reason-label': reason }));
      box.appendChild(row);
    });
  }
  var labels = box.querySelectorAll('label[data-reason-label]');
  for (var i = 0; i < labels.length; i++) {
    var r = labels[i].getAttribute('data-reason-label');
    labels[i].textContent = reasonName(r);
  }
}

function renderHours() {
  var box = $('hours');
  if (!box.firstChild) {
    var hours = state.data.settings.escalation.business_hours || state.data.default_business_hours || {};
    state.data.weekdays.forEach(function (day) {
      var id = 'hours-' + day;
      var row = el('div', 'hours-row');
      row.appendChild(el('label', null, { 'for': id, 'data-day-label': day }));
      var input = el('input', null, { id: id, type: 'text', spellcheck: 'false', autocomplete: 'off', 'data-day': day, 'data-testid': 'seller-hours-' + day });
      input.value = (hours[day] || []).join(', ');
      input.addEventListener('input', formEdited);
      row.appendChild(input);
      box.appendChild(row);
    });
  }
  var labels = box.querySelectorAll('label[data-day-label]');
  var inputs = box.querySelectorAll('input[data-day]');
  for (var i = 0; i < labels.length; i++) {
    labels[i].textContent = weekdayName(labels[i].getAttribute('data-day-label'));
    inputs[i].setAttribute('placeholder', t('escalation.closed'));
  }
}

function intOr(value, fallback) {
  var text = String(value).trim();
  return /^-?\d+$/.test(text) ? parseInt(text, 10) : (text === '' ? fallback : text);
}

/** The review and escalation parts of the form, as the API takes them. */
function formSettings() {
  var s = state.data.settings;
  var url = $('review-url').value.trim();
  var review = { delay_days: intOr($('review-delay').value, null), reminder: $('review-reminder').checked, url: url || null };
  var reasons = [];
  var boxes = $('reasons').querySelectorAll('input[data-reason]');
  for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) reasons.push(boxes[i].getAttribute('data-reason'));
  reasons.sort();
  var hours = {};
  var inputs = $('hours').querySelectorAll('input[data-day]');
  for (i = 0; i < inputs.length; i++) {
    var spans = inputs[i].value.split(/[,，;；]/).map(function (p) { return p.replace(/\s+/g, '').replace(/[–—~～]/g, '-'); })
      .filter(function (p) { return p; });
    if (spans.length) hours[inputs[i].getAttribute('data-day')] = spans;
  }
  var before = s.escalation.business_hours;
  var sameHours = JSON.stringify(normalHours(before || state.data.default_business_hours)) === JSON.stringify(normalHours(hours));
  var escalation = {
    reasons: reasons,
    business_hours: sameHours ? before : hours,
    reply_time_minutes: intOr($('reply-time').value, null)
  };
  return { review: review, escalation: escalation };
}

function normalHours(hours) {
  var out = {};
  (state.data.weekdays || []).forEach(function (d) { if (hours && hours[d] && hours[d].length) out[d] = hours[d]; });
  return out;
}

/** Only what differs from the current version: the PUT is a patch. */
function buildPatch() {
  var s = state.data.settings;
  var form = formSettings();
  var patch = {};
  if (Object.keys(state.edits).length) patch.templates = JSON.parse(JSON.stringify(state.edits));
  ['review', 'escalation'].forEach(function (section) {
    var changed = {};
    Object.keys(form[section]).forEach(function (k) {
      var now = form[section][k];
      var then = s[section][k];
      if (k === 'reasons') then = (then || []).slice().sort();
      if (JSON.stringify(now) !== JSON.stringify(then)) changed[k] = now;
    });
    if (Object.keys(changed).length) patch[section] = changed;
  });
  return patch;
}

function countChanges(patch) {
  var n = 0;
  Object.keys(patch).forEach(function (section) { n += Object.keys(patch[section]).length; });
  return n;
}

function formEdited() {
  state.notice = null;
  updateSaveState();
}

function updateSaveState() {
  if (!state.data) return;
  var n = countChanges(buildPatch());
  var hasErrors = Object.keys(state.errors).length > 0;
  $('save').disabled = state.busy || n === 0 || hasErrors;
  $('discard').disabled = state.busy || n === 0;
  if (state.busy) $('save-status').textContent = t('save.saving');
  else if (hasErrors) $('save-status').textContent = t('save.fixFirst');
  else if (n) $('save-status').textContent = t('save.pending', { n: n });
  else if (state.notice) $('save-status').textContent = t(state.notice[0], state.notice[1]);
  else $('save-status').textContent = t('save.none', { v: state.data.version });
  $('test-unsaved').hidden = n === 0;
}

function fieldLabel(field) {
  if (!field) return '';
  if (field.indexOf('templates.') === 0) {
    return TEMPLATE_NAMES[field.slice(10)] ? templateName(field.slice(10)) : field;
  }
  var key = 'field.' + field;
  return hasText(key) ? t(key) : field;
}

function save() {
  var patch = buildPatch();
  if (!countChanges(patch) || state.busy) return;
  state.busy = true;
  $('save-error').hidden = true;
  updateSaveState();
  var storeId = state.storeId;
  api.request('PUT', storePath('/settings'), patch).then(function (result) {
    state.busy = false;
    if (storeId !== state.storeId) return;
    if (result.status === 400) {
      var field = result.data.field || '';
      var detail = fieldError(result.data.error, field);
      if (field.indexOf('templates.') === 0 && hasCard(field.slice(10))) {
        state.errors[field.slice(10)] = detail;
        showTemplateError(field.slice(10));
        focusTemplate(field.slice(10));
      }
      $('save-error').textContent = t('save.error', { message: fieldLabel(field) + ': ' + serverError(detail) });
      $('save-error').hidden = false;
      updateSaveState();
      return;
    }
    if (handled(result)) { updateSaveState(); return; }
    if (!result.ok) { showAlert(serverError(result.data.error || '')); updateSaveState(); return; }
    var version = result.data.version;
    state.notice = ['save.saved', { v: version }];
    Promise.all([loadSettings(), loadHistory()]).then(updateSaveState);
  });
}

function discard() {
  discardTemplateEdits();
  fillSettings();
  $('save-error').hidden = true;
  updateSaveState();
}

function describeSummary(summary) {
  var text = String(summary || '');
  if (text === 'as imported') return t('history.asImported');
  if (text === 'no change') return t('history.noChange');
  var m = /^rolled back to version (\d+)$/.exec(text);
  if (m) return t('history.rolledBackTo', { v: m[1] });
  m = /^changed (.*)$/.exec(text);
  if (m) {
    return t('history.changed', {
      what: m[1].split(', ').map(fieldLabel).join(language() === 'zh-CN' ? '、' : ', ')
    });
  }
  return text;
}

function renderHistory() {
  renderVersions($('history-list'), (state.history && state.history.versions) || [], state.history && state.history.current, {
    testid: 'seller-history', empty: 'history.empty',
    summary: function (node, summary) { node.textContent = describeSummary(summary); },
    restoreText: 'history.rollback', restoreTestid: 'seller-rollback', restore: rollback
  });
}

function rollback(version, button) {
  if (countChanges(buildPatch()) && !window.confirm(t('history.confirm', { v: version }))) return;
  button.disabled = true;
  var storeId = state.storeId;
  api.request('POST', storePath('/settings/rollback'), { version: version }).then(function (result) {
    button.disabled = false;
    if (storeId !== state.storeId || handled(result)) return;
    if (!result.ok) { showAlert(serverError(result.data.error || '')); return; }
    state.notice = ['history.rolledBack', { v: result.data.version }];
    Promise.all([loadSettings(), loadHistory()]).then(updateSaveState);
  });
}

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


const GUIDE_FIELDS = ['manual_url', 'video_url', 'install_steps'];

function newGuides() {
  return { products: null, sku: null, saved: null, steps: [], errors: {}, history: null, busy: false, notice: null };
}

const guides = newGuides();

function resetGuides() {
  Object.assign(guides, newGuides());
  clear($('product-list'));
  $('products-status').textContent = '';
  $('guide-form').hidden = true;
  $('guide-empty').hidden = false;
  clear($('guide-history-list'));
  clear($('guide-steps'));
  $('guide-upload-status').textContent = '';
}

function relabelGuides() {
  renderProducts();
  if (guides.saved) { renderGuideHead(); renderSteps(); renderGuideErrors(); updateGuideState(); }
  if (guides.history) renderGuideHistory();
}

function startGuides() {
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

function loadProducts() {
  var storeId = state.storeId;
  $('products-status').textContent = t('common.loading');
  return api.request('GET', storePath('/products')).then(function (result) {
    if (storeId !== state.storeId) return;
    $('products-status').textContent = '';
    if (handled(result)) { tabsLoaded.guides = false; return; }
    if (!result.ok) { tabsLoaded.guides = false; showAlert(serverError(result.data.error || '')); return; }
    guides.products = result.data.products || [];
    renderProducts();
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
  return n === 1 ? t('guides.stepCount.one') : t('guides.stepCount.many', { n: n });
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
function fillGuide(product) {
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

function renderGuideHead() {
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

function guideDirty() {
  if (!guides.saved) return false;
  var form = guideForm();
  var saved = guides.saved;
  return form.manual_url !== (saved.manual_url || null) || form.video_url !== (saved.video_url || null) ||
    JSON.stringify(form.install_steps) !== JSON.stringify((saved.install_steps || []).map(tidyStep));
}

function guideEdited() {
  guides.notice = null;
  updateGuideState();
}

function updateGuideState() {
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

/** Field errors: the server's message (translated when known) under its field. */
function renderGuideErrors() {
  [['manual_url', 'guide-manual-error', 'guide-manual'], ['video_url', 'guide-video-error', 'guide-video'],
    ['install_steps', 'guide-steps-error', null]].forEach(function (f) {
    var message = guides.errors[f[0]];
    var box = $(f[1]);
    box.hidden = !message;
    box.textContent = !message ? '' : (typeof message === 'string' ? serverError(message) : t(message[0], message[1]));
    if (f[2]) $(f[2]).setAttribute('aria-invalid', message ? 'true' : 'false');
  });
  var other = guides.errors.guide;
  $('guide-error').hidden = !other;
  $('guide-error').textContent = other ? t('guides.error', { message: serverError(other) }) : '';
}

function replaceProduct(product) {
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
    if (storeId !== state.storeId || sku !== guides.sku) return;
    guides.busy = false;
    if (result.status === 400) {
      var field = result.data.field || 'guide';
      var message = fieldError(result.data.error, field);
      if (GUIDE_FIELDS.indexOf(field) < 0) field = 'guide';
      guides.errors[field] = message;
      renderGuideErrors();
      updateGuideState();
      var focus = { manual_url: 'guide-manual', video_url: 'guide-video' }[field];
      if (focus) $(focus).focus();
      return;
    }
    if (handled(result)) { updateGuideState(); return; }
    if (!result.ok) { showAlert(serverError(result.data.error || '')); updateGuideState(); return; }
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

/**
 * A guide's install steps: one box per step, in order. Enter splits a step at the caret, pasted lines
 * become steps, and each step can move up or down or go; the focus follows the step it was on.
 *
 *   renderSteps(focus)        the steps of the open guide; focus: {kind: 'text'|'up'|'down'|'remove', index, caret}
 *   addStep(at, text, caret)  a new step (at most MAX_STEPS)
 *   fitAllRows()              each box as tall as its text (once the tab is shown)
 *   tidyStep(text)            a step as it is saved: one line, no extra spaces
 */


const MAX_STEPS = 50;

function tidyStep(text) { return String(text).replace(/\s+/g, ' ').trim(); }

function renderSteps(focus) {
  var list = $('guide-steps');
  clear(list);
  var n = guides.steps.length;
  guides.steps.forEach(function (text, i) {
    var number = i + 1;
    var item = el('li', 'step', { 'data-testid': 'seller-guide-step' });
    item.appendChild(el('span', 'step-number', { 'aria-hidden': 'true' }, String(number)));
    var area = el('textarea', 'textarea step-text', {
      rows: 2, maxlength: 1000, spellcheck: 'true', 'aria-label': t('guides.step', { n: number }),
      'aria-describedby': 'guide-steps-error', 'data-testid': 'seller-guide-step-text', 'data-index': i
    });
    area.value = text;
    area.addEventListener('input', function () { guides.steps[i] = area.value; fitRows(area); guideEdited(); });
    area.addEventListener('keydown', function (event) { stepKey(event, i, area); });
    area.addEventListener('paste', function (event) { stepPaste(event, i, area); });
    item.appendChild(area);
    var tools = el('div', 'step-tools');
    tools.appendChild(stepButton('up', '↑', t('guides.stepUp', { n: number }), i === 0, function () { moveStep(i, -1); }));
    tools.appendChild(stepButton('down', '↓', t('guides.stepDown', { n: number }), i === n - 1, function () { moveStep(i, 1); }));
    tools.appendChild(stepButton('remove', '×', t('guides.stepRemove', { n: number }), false, function () { removeStep(i); }));
    item.appendChild(tools);
    list.appendChild(item);
  });
  $('guide-steps-empty').hidden = n > 0;
  $('guide-add-step').disabled = n >= MAX_STEPS;
  fitAllRows();
  var item = focus ? list.children[focus.index] : null;
  if (item) {
    // The same control on the step's new place; a disabled arrow (at an end of the list) hands over to the other.
    var target = item.querySelector(focus.kind === 'text' ? 'textarea' : '[data-step-action="' + focus.kind + '"]');
    if (!target || target.disabled) target = item.querySelector('[data-step-action="' + (focus.kind === 'up' ? 'down' : 'up') + '"]');
    if (!target || target.disabled) target = item.querySelector('textarea');
    target.focus();
    if (focus.caret != null && target.setSelectionRange) target.setSelectionRange(focus.caret, focus.caret);
  }
}

/** A step's box grows with its text (through rows: the CSP leaves styles to seller.css). */
function fitRows(area) {
  if (!area.clientHeight) return; // hidden: fitted when its tab is shown
  area.rows = 2;
  while (area.scrollHeight > area.clientHeight && area.rows < 12) area.rows += 1;
}

function fitAllRows() {
  var areas = $('guide-steps').querySelectorAll('textarea');
  for (var i = 0; i < areas.length; i++) fitRows(areas[i]);
}

function stepButton(kind, symbol, label, disabled, onClick) {
  var button = el('button', 'btn btn-quiet step-button', {
    type: 'button', 'aria-label': label, title: label, 'data-step-action': kind, 'data-testid': 'seller-guide-step-' + kind
  });
  button.appendChild(el('span', null, { 'aria-hidden': 'true' }, symbol));
  button.disabled = disabled;
  button.addEventListener('click', onClick);
  return button;
}

function moveStep(i, by) {
  var j = i + by;
  if (j < 0 || j >= guides.steps.length) return;
  var moved = guides.steps[i];
  guides.steps[i] = guides.steps[j];
  guides.steps[j] = moved;
  renderSteps({ kind: by < 0 ? 'up' : 'down', index: j });
  guideEdited();
}

function removeStep(i) {
  guides.steps.splice(i, 1);
  if (guides.steps.length) renderSteps({ kind: 'text', index: Math.min(i, guides.steps.length - 1) });
  else { renderSteps(); $('guide-add-step').focus(); }
  guideEdited();
}

function addStep(at, text, caret) {
  if (guides.steps.length >= MAX_STEPS) {
    guides.errors.install_steps = ['guides.maxSteps', { n: MAX_STEPS }];
    renderGuideErrors();
    return;
  }
  guides.steps.splice(at, 0, text || '');
  renderSteps({ kind: 'text', index: at, caret: caret || 0 });
  guideEdited();
}

/** Enter splits the step at the caret into a new one (Shift+Enter too: a step is one line). */
function stepKey(event, i, area) {
  if (event.key !== 'Enter' || event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  var caret = area.selectionStart == null ? area.value.length : area.selectionStart;
  var before = area.value.slice(0, caret);
  var after = area.value.slice(area.selectionEnd == null ? caret : area.selectionEnd);
  guides.steps[i] = before;
  addStep(i + 1, after.replace(/^\s+/, ''), 0);
}

/** Several pasted lines become several steps. */
function stepPaste(event, i, area) {
  var data = event.clipboardData && event.clipboardData.getData('text');
  if (!data || !/[\r\n]/.test(data)) return;
  var lines = data.split(/\r?\n|\r/).map(function (l) { return l.replace(/^\s*(?:\d+[.)、]|[-*•])\s*/, '').trim(); })
    .filter(function (l) { return l; });
  if (!lines.length) return;
  event.preventDefault();
  var start = area.selectionStart == null ? area.value.length : area.selectionStart;
  var end = area.selectionEnd == null ? start : area.selectionEnd;
  var head = area.value.slice(0, start);
  var tail = area.value.slice(end);
  var room = MAX_STEPS - guides.steps.length;
  var extra = lines.slice(1, 1 + room);
  guides.steps[i] = head + lines[0];
  var last = i + extra.length;
  var caret = (extra.length ? extra[extra.length - 1] : guides.steps[i]).length;
  if (extra.length) extra[extra.length - 1] += tail;
  else guides.steps[i] += tail;
  Array.prototype.splice.apply(guides.steps, [i + 1, 0].concat(extra));
  renderSteps({ kind: 'text', index: last, caret: caret });
  if (lines.length - 1 > extra.length) {
    guides.errors.install_steps = ['guides.maxSteps', { n: MAX_STEPS }];
    renderGuideErrors();
  }
  guideEdited();
}

/**
 * Uploading a guide's manual as a PDF: checked in the browser first (type, size, not empty), then sent
 * as the raw body; the upload saves a new guide version with the new link.
 *
 *   uploadManual()    the file chosen in #guide-upload, for the open product
 */


const MAX_MANUAL_BYTES = 10 * 1024 * 1024;

/** What the browser knows before sending: the type, or a .pdf name when the system gives no useful type. */
function isPdf(file) {
  if (file.type === 'application/pdf' || file.type === 'application/x-pdf') return true;
  return /\.pdf$/i.test(file.name) && (!file.type || file.type === 'application/octet-stream');
}

function uploadManual() {
  var input = $('guide-upload');
  var file = input.files && input.files[0];
  input.value = ''; // the same file can be chosen again
  if (!file || !guides.saved) return;
  var status = $('guide-upload-status');
  var error = $('guide-upload-error');
  status.textContent = '';
  error.hidden = true;
  var problem = null;
  if (!isPdf(file)) problem = t('guides.notPdf', { name: file.name });
  else if (file.size > MAX_MANUAL_BYTES) problem = t('guides.tooBig', { name: file.name, size: fileSize(file.size) });
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
        : t('guides.uploadFailed', { message: serverError(result.data.error || String(result.status)) });
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

/**
 * A product guide's version history, with a restore button on every version but the current one.
 *
 *   loadGuideHistory()      the open guide's versions (a promise)
 *   renderGuideHistory()    shows them (again, after a language switch)
 */


function loadGuideHistory() {
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

function renderGuideHistory() {
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
    if (!result.ok) { showAlert(serverError(result.data.error || '')); return; }
    guides.notice = ['guides.restored', { old: version, v: result.data.version }];
    fillGuide(result.data);
    replaceProduct(result.data);
    // The clicked button is gone with the old history: the status, which says what happened, takes the focus.
    loadGuideHistory().then(function () { $('guide-status').focus(); });
  });
}

/**
 * The store's secrets (shopper sign-in, tracking webhook): made or rotated on request, shown once, with
 * a grace period in which the previous one still works.
 *
 *   buildSecretCards()   one card per kind, built once at the start
 *   loadSecrets()        whether each is set, and until when a previous one works
 *   renderSecrets()      the cards as the status says (again, after a language switch)
 *   resetSecrets()       every shown secret and open confirmation gone (a store switch, signing out)
 */


const SECRET_KINDS = ['shopper', 'webhook'];
const secretCards = {};
let secretStatus = null;

function resetSecrets() {
  Object.keys(secretCards).forEach(function (kind) { hideSecret(kind); closeConfirm(kind); secretCards[kind].error.hidden = true; });
  secretStatus = null;
  renderSecrets();
}

function buildSecretCards() {
  var box = $('secret-cards');
  SECRET_KINDS.forEach(function (kind) {
    var id = 'secret-' + kind;
    var card = el('article', 'card secret', { 'aria-labelledby': id + '-title', 'data-kind': kind, 'data-testid': 'seller-secret-' + kind });
    var head = el('div', 'secret-head');
    head.appendChild(el('h3', 'card-title', { id: id + '-title', 'data-i18n': 'secrets.' + kind + '.title' }, t('secrets.' + kind + '.title')));
    var pill = el('span', 'pill', { 'data-testid': 'seller-secret-' + kind + '-state' });
    head.appendChild(pill);
    card.appendChild(head);
    card.appendChild(el('p', 'secret-what', { 'data-i18n': 'secrets.' + kind + '.what' }, t('secrets.' + kind + '.what')));
    var previous = el('p', 'hint', { 'data-testid': 'seller-secret-' + kind + '-previous' });
    previous.hidden = true;
    card.appendChild(previous);

    var field = el('div', 'field');
    field.hidden = true; // shown once the status says there is an old secret to keep for a while
    field.appendChild(el('label', null, { 'for': id + '-grace', 'data-i18n': 'secrets.grace' }, t('secrets.grace')));
    var grace = el('input', null, {
      id: id + '-grace', type: 'number', min: 0, max: 168, step: 1, inputmode: 'numeric', value: 24,
      'aria-describedby': id + '-grace-hint', 'data-testid': 'seller-secret-' + kind + '-grace'
    });
    field.appendChild(grace);
    field.appendChild(el('p', 'hint', { id: id + '-grace-hint', 'data-i18n': 'secrets.graceHint' }, t('secrets.graceHint')));
    card.appendChild(field);

    var rotate = el('button', 'btn', { type: 'button', 'aria-expanded': 'false', 'aria-controls': id + '-confirm', 'data-i18n': 'secrets.rotate', 'data-testid': 'seller-secret-' + kind + '-rotate' }, t('secrets.rotate'));
    card.appendChild(rotate);
    var error = el('p', 'field-error', { role: 'alert', 'data-testid': 'seller-secret-' + kind + '-error' });
    error.hidden = true;
    card.appendChild(error);

    var confirm = el('div', 'confirm', { id: id + '-confirm', role: 'group', 'aria-labelledby': id + '-confirm-text', 'data-testid': 'seller-secret-' + kind + '-confirm' });
    confirm.hidden = true;
    var confirmText = el('p', null, { id: id + '-confirm-text' });
    confirm.appendChild(confirmText);
    var where = el('p', 'hint', { 'data-i18n': 'secrets.' + kind + '.where' }, t('secrets.' + kind + '.where'));
    confirm.appendChild(where);
    var actions = el('div', 'confirm-actions');
    var yes = el('button', 'btn btn-danger', { type: 'button', 'data-i18n': 'secrets.confirm', 'data-testid': 'seller-secret-' + kind + '-confirm-yes' }, t('secrets.confirm'));
    var no = el('button', 'btn', { type: 'button', 'data-i18n': 'common.cancel', 'data-testid': 'seller-secret-' + kind + '-confirm-no' }, t('common.cancel'));
    actions.appendChild(yes);
    actions.appendChild(no);
    confirm.appendChild(actions);
    card.appendChild(confirm);

    var reveal = el('div', 'reveal', { role: 'group', 'aria-labelledby': id + '-value-label', 'data-testid': 'seller-secret-' + kind + '-new' });
    reveal.hidden = true;
    reveal.appendChild(el('label', null, { id: id + '-value-label', 'for': id + '-value', 'data-i18n': 'secrets.newSecret' }, t('secrets.newSecret')));
    var row = el('div', 'copy-row');
    var value = el('input', 'mono', {
      id: id + '-value', type: 'text', readonly: '', translate: 'no', autocomplete: 'off', spellcheck: 'false',
      'aria-describedby': id + '-once', 'data-testid': 'seller-secret-' + kind + '-value'
    });
    var copy = el('button', 'btn', { type: 'button', 'data-i18n': 'common.copy', 'data-testid': 'seller-secret-' + kind + '-copy' }, t('common.copy'));
    row.appendChild(value);
    row.appendChild(copy);
    reveal.appendChild(row);
    var copyStatus = el('p', 'copy-status', { role: 'status' });
    reveal.appendChild(copyStatus);
    reveal.appendChild(el('p', 'callout-warn', { id: id + '-once', 'data-i18n': 'secrets.once' }, t('secrets.once')));
    var until = el('p', 'hint', { 'data-testid': 'seller-secret-' + kind + '-until' });
    reveal.appendChild(until);
    var done = el('button', 'btn btn-small', { type: 'button', 'data-i18n': 'common.done', 'data-testid': 'seller-secret-' + kind + '-done' }, t('common.done'));
    reveal.appendChild(done);
    card.appendChild(reveal);
    box.appendChild(card);

    var c = {
      kind: kind, pill: pill, previous: previous, grace: grace, rotate: rotate, error: error, confirm: confirm,
      confirmText: confirmText, yes: yes, no: no, reveal: reveal, value: value, copy: copy, copyStatus: copyStatus,
      until: until, untilValue: undefined, graceField: field, busy: false, wasSet: true
    };
    secretCards[kind] = c;
    rotate.addEventListener('click', function () { openConfirm(kind); });
    no.addEventListener('click', function () { closeConfirm(kind); rotate.focus(); });
    yes.addEventListener('click', function () { rotateSecret(kind); });
    copy.addEventListener('click', function () { copyField(value, copyStatus); });
    done.addEventListener('click', function () { hideSecret(kind); rotate.focus(); });
    grace.addEventListener('input', function () { error.hidden = true; if (!confirm.hidden) renderConfirm(kind); });
  });
}

function isSet(kind) {
  return !!(secretStatus && secretStatus[kind] && secretStatus[kind].set);
}

function graceHours(kind) {
  if (!isSet(kind)) return 0; // nothing to keep working
  var text = String(secretCards[kind].grace.value).trim();
  if (!/^\d+$/.test(text)) return null;
  var hours = parseInt(text, 10);
  return hours >= 0 && hours <= 168 ? hours : null;
}

function openConfirm(kind) {
  var c = secretCards[kind];
  c.error.hidden = true;
  if (graceHours(kind) === null) {
    c.error.textContent = t('secrets.graceBad');
    c.error.hidden = false;
    c.grace.setAttribute('aria-invalid', 'true');
    c.grace.focus();
    return;
  }
  c.grace.setAttribute('aria-invalid', 'false');
  hideSecret(kind);
  c.confirm.hidden = false;
  c.rotate.setAttribute('aria-expanded', 'true');
  renderConfirm(kind);
  c.yes.focus();
}

function renderConfirm(kind) {
  var c = secretCards[kind];
  var hours = graceHours(kind);
  c.confirmText.textContent = !isSet(kind) ? t('secrets.confirmFirst')
    : (hours ? t('secrets.confirmText', { h: hours }) : t('secrets.confirmTextNow'));
  c.yes.disabled = c.busy || hours === null;
}

function closeConfirm(kind) {
  var c = secretCards[kind];
  c.confirm.hidden = true;
  c.rotate.setAttribute('aria-expanded', 'false');
}

function hideSecret(kind) {
  var c = secretCards[kind];
  c.value.value = '';
  setStatusKey(c.copyStatus, '');
  c.untilValue = undefined;
  c.reveal.hidden = true;
}

function rotateSecret(kind) {
  var c = secretCards[kind];
  var hours = graceHours(kind);
  if (hours === null || c.busy) return;
  var storeId = state.storeId;
  var wasSet = isSet(kind);
  c.busy = true;
  c.yes.disabled = true;
  c.yes.textContent = t('secrets.rotating');
  api.request('POST', storePath('/secrets/' + kind + '/rotate'), { grace_hours: hours }).then(function (result) {
    c.busy = false;
    c.yes.textContent = t('secrets.confirm');
    c.yes.disabled = false;
    if (storeId !== state.storeId || handled(result)) return;
    if (!result.ok || typeof result.data.secret !== 'string') {
      c.error.textContent = t('secrets.failed', { message: serverError(result.data.error || String(result.status)) });
      c.error.hidden = false;
      return;
    }
    closeConfirm(kind);
    c.value.value = result.data.secret;
    c.untilValue = result.data.previous_valid_until || null;
    c.wasSet = wasSet;
    c.reveal.hidden = false;
    renderSecrets();
    c.value.focus();
    c.value.select();
    loadSecrets();
  });
}

function loadSecrets() {
  return loadForTeamTab('/secrets', function (data) {
    secretStatus = data;
    renderSecrets();
  });
}

function renderSecrets() {
  SECRET_KINDS.forEach(function (kind) {
    var c = secretCards[kind];
    if (!c) return;
    var s = secretStatus && secretStatus[kind];
    c.pill.hidden = !s;
    c.pill.textContent = s ? t(s.set ? 'secrets.set' : 'secrets.notSet') : '';
    c.pill.className = 'pill ' + (s && s.set ? 'pill-ok' : 'pill-off');
    c.previous.hidden = !(s && s.previous_valid_until);
    if (s && s.previous_valid_until) c.previous.textContent = t('secrets.previous', { when: when(s.previous_valid_until) });
    if (!c.confirm.hidden) renderConfirm(kind);
    c.graceField.hidden = !(s && s.set);
    var action = s && !s.set ? 'secrets.create' : 'secrets.rotate';
    c.rotate.setAttribute('data-i18n', action);
    c.rotate.textContent = t(action);
    if (c.untilValue !== undefined) {
      c.until.textContent = c.untilValue ? t('secrets.until', { when: when(c.untilValue) })
        : t(c.wasSet ? 'secrets.untilNone' : 'secrets.first');
    }
  });
}

/**
 * Messages that did not go out: the store's failed jobs, each of which can be tried again.
 *
 *   loadFailedJobs()     the open store's failed jobs
 *   renderFailedJobs()   the table (again, after a language switch)
 *   resetFailedJobs()    the table emptied (a store switch, signing out)
 *   failedJobsShown()    whether the jobs are loaded
 */


const failedJobs = { list: null, busy: null, notice: null };

function resetFailedJobs() {
  Object.assign(failedJobs, { list: null, busy: null, notice: null });
  clear($('jobs-rows'));
  $('jobs-status').textContent = '';
}

function failedJobsShown() {
  return !!failedJobs.list;
}

function loadFailedJobs() {
  return loadForTeamTab('/jobs?status=failed', function (data) {
    failedJobs.list = data.jobs || [];
    renderFailedJobs();
  });
}

function renderFailedJobs() {
  var rows = $('jobs-rows');
  clear(rows);
  var list = failedJobs.list || [];
  if (!list.length) {
    var empty = el('tr');
    empty.appendChild(el('td', 'empty empty-small', { colspan: 5 }, t('jobs.none')));
    rows.appendChild(empty);
  }
  list.forEach(function (job) {
    var row = el('tr', null, { 'data-testid': 'seller-failed-job', 'data-job': String(job.id) });
    row.appendChild(el('td', null, { id: 'job-' + job.id }, knownText('jobs.kind.', job.kind)));
    var about = [job.order_number, job.tracking_number].filter(Boolean).join(' · ');
    row.appendChild(el('td', 'mono', { translate: 'no' }, about || '—'));
    row.appendChild(el('td', null, { 'data-testid': 'seller-failed-job-reason' }, knownText('jobs.reason.', job.reason)));
    row.appendChild(el('td', null, null, job.failed_at ? when(job.failed_at) : '—'));
    var cell = el('td', 'member-actions');
    var retry = el('button', 'btn btn-small', {
      type: 'button', id: 'job-' + job.id + '-retry', 'aria-labelledby': 'job-' + job.id + '-retry job-' + job.id,
      'data-testid': 'seller-failed-job-retry'
    }, t(failedJobs.busy === job.id ? 'jobs.retrying' : 'jobs.retry'));
    retry.disabled = failedJobs.busy !== null;
    retry.addEventListener('click', function () { retryJob(job); });
    cell.appendChild(retry);
    row.appendChild(cell);
    rows.appendChild(row);
  });
  var status = $('jobs-status');
  status.textContent = failedJobs.notice ? t(failedJobs.notice[0], failedJobs.notice[1]) : '';
}

function retryJob(job) {
  if (failedJobs.busy !== null) return;
  var storeId = state.storeId;
  failedJobs.busy = job.id;
  failedJobs.notice = null;
  renderFailedJobs();
  api.request('POST', storePath('/jobs/' + encodeURIComponent(job.id) + '/retry')).then(function (result) {
    if (storeId !== state.storeId) return;
    failedJobs.busy = null;
    if (handled(result)) { renderFailedJobs(); return; }
    if (result.ok) {
      failedJobs.list = (failedJobs.list || []).filter(function (j) { return j.id !== job.id; });
      failedJobs.notice = ['jobs.retried', {}];
    } else {
      failedJobs.notice = ['jobs.retryFailed', { message: serverError(result.data.error || '') }];
    }
    renderFailedJobs();
  });
}

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


const team = { members: null, invitations: [], confirming: null, busy: false, notice: null };
let created = null; // {email, url}: the invitation link, shown once, forgotten on "hide", a store switch or signing out

function resetTeam() {
  Object.assign(team, { members: null, invitations: [], confirming: null, busy: false, notice: null });
  clear($('team-rows'));
  $('team-status').textContent = '';
  $('team-error').hidden = true;
  hideLink();
}

function teamShown() {
  return !!team.members;
}

function startTeam() {
  $('team-form').addEventListener('submit', addMember);
  $('team-copy').addEventListener('click', function () { copyField($('team-link'), $('team-copy-status')); });
  $('team-created-done').addEventListener('click', function () { hideLink(); $('team-name').focus(); });
}

function loadTeam() {
  return loadForTeamTab('/team', function (data) {
    team.members = data.team || [];
    team.invitations = data.invitations || [];
    renderTeam();
  });
}

function isMe(email) {
  return !!(state.me && String(state.me.email || '').toLowerCase() === String(email).toLowerCase());
}

function renderTeam() {
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
      showAlert(serverError(result.data.error || ''));
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
      error.textContent = t('team.failed', { message: serverError(result.data.error || String(result.status)) });
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

function renderCreated() {
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

/**
 * The test conversation: the store's own widget, signed in as a made-up shopper, in a frame.
 *
 *   startTest()     a fresh sample shopper each time, with the settings as saved now
 *   renderTest()    the button and status line (again, after a language switch)
 *   resetTest()     the frame gone (a store switch, signing out)
 */


const test = { started: false, busy: false, notice: null };
let testRuns = 0; // numbers the frames, for whoever waits for the new one

function resetTest() {
  Object.assign(test, { started: false, busy: false, notice: null });
  var box = $('test-frame-box');
  var frame = box.querySelector('iframe');
  if (frame) box.removeChild(frame);
  $('test-placeholder').hidden = false;
  renderTest();
}

function renderTest() {
  var button = $('test-start');
  var key = test.busy ? 'test.starting' : (test.started ? 'test.restart' : 'test.start');
  button.setAttribute('data-i18n', key);
  button.textContent = t(key);
  button.disabled = test.busy;
  $('test-status').textContent = test.notice ? t(test.notice[0], test.notice[1]) : '';
}

/** A fresh sample shopper each time: the chat starts from the greeting, with the settings as saved now. */
function startTest() {
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
      test.notice = ['test.failed', { message: serverError(result.data.error || String(result.status)) }];
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

/**
 * The console's tabs (settings, product guides, team & security, test conversation): the one shown is in
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


const TABS = ['settings', 'guides', 'team', 'test'];
let currentTab = 'settings';

function currentTabName() {
  return currentTab;
}

function tabFromHash() {
  var name = String(window.location.hash || '').replace(/^#/, '');
  return TABS.indexOf(name) >= 0 ? name : 'settings';
}

function showTab(name, focus) {
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

function loadTab(name) {
  if (!state.storeId || tabsLoaded[name]) return;
  tabsLoaded[name] = true;
  if (name === 'guides') loadProducts();
  else if (name === 'team') { loadSecrets(); loadTeam(); loadFailedJobs(); }
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

function resetPanels() {
  Object.keys(tabsLoaded).forEach(function (tab) { delete tabsLoaded[tab]; });
  resetGuides();
  resetSecrets();
  resetFailedJobs();
  resetTeam();
  resetTest();
}

function relabelPanels() {
  if (!$('product-list')) return;
  relabelGuides();
  renderSecrets();
  if (teamShown()) renderTeam();
  if (failedJobsShown()) renderFailedJobs();
  renderCreated();
  renderTest();
}

function startTabs() {
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
  $('test-start').addEventListener('click', startTest);
  resetPanels();
  showTab(tabFromHash(), false);
}

/**
 * Team invitations. A link is /seller#invitation=TOKEN: the token rides in the fragment (never sent
 * to a server, so no log holds it), is taken out of the address at once and kept for this page.
 * Signed out, the person answers it with a password (a new one, or their existing account's);
 * signed in, they accept it. Only the link accepts: seeing an invitation is not enough.
 *
 *   takeInvitationToken()    the link's token, out of the address
 *   hasInvitationToken()     whether this page was opened with a link not yet answered
 *   openedInvitationLink()   a link pasted into a console already open
 *   showJoin()               signed out with a link: what it invites to, and the password form
 *   joinTeam(event)          the join form sent
 *   loadMyInvitations(), renderMyInvitations()   the invitations waiting for the signed-in account
 *   forgetMyInvitations()    on signing out
 */


const invite = { token: null, mine: [], notice: null, busy: false };

function hasInvitationToken() {
  return !!invite.token;
}

function forgetMyInvitations() {
  invite.mine = [];
  invite.notice = null;
}

function takeInvitationToken() {
  var match = /^#invitation=([A-Za-z0-9_-]{20,200})$/.exec(String(window.location.hash || ''));
  if (!match) return;
  invite.token = match[1];
  try { window.history.replaceState(null, '', window.location.pathname + window.location.search); } catch (e) { /* fine */ }
}

/** A link pasted into a console already open: signed in, offer to accept it; else the join form. */
function openedInvitationLink() {
  takeInvitationToken();
  if (!invite.token) return;
  if (state.me) { invite.notice = null; renderMyInvitations(); }
  else showJoin();
}

/** Signed out with a link: what it invites to, and the password form. */
function showJoin() {
  api.loginForm('/invitation', { token: invite.token }).then(function (result) {
    if (result.status === 404) { invite.token = null; showLogin(); showAlert(t('join.dead')); return; }
    if (!result.ok || !result.data.invitation) { showLogin(); showAlert(t('error.server', { status: result.status })); return; }
    var inv = result.data.invitation;
    showLogin();
    fillNodes($('join-text'), 'join.text', { store: inv.store.name, email: inv.email, role: roleName(inv.role) }, ['role']);
    $('join-name').value = inv.name || '';
    $('login-form').hidden = true;
    $('join-form').hidden = false;
    $('join-password').focus();
  });
}

function joinTeam(event) {
  event.preventDefault();
  if (invite.busy || !invite.token) return;
  var password = $('join-password').value;
  if (password.length < 10) { showAlert(t('join.short')); $('join-password').focus(); return; }
  invite.busy = true;
  var submit = $('join-submit');
  submit.disabled = true;
  submit.textContent = t('join.joining');
  api.loginForm('/join', { token: invite.token, password: password, name: $('join-name').value.trim() }).then(function (result) {
    invite.busy = false;
    submit.disabled = false;
    submit.textContent = t('join.submit');
    if (result.ok) {
      $('join-password').value = '';
      invite.token = null;
      $('join-form').hidden = true;
      $('login-form').hidden = false;
      signedIn(result.data);
    } else if (result.status === 401) {
      showAlert(t('join.wrong'));
    } else if (result.status === 400) {
      showAlert(t('join.short'));
    } else if (result.status === 404) {
      invite.token = null;
      $('join-form').hidden = true;
      $('login-form').hidden = false;
      showAlert(t('join.dead'));
    } else if (result.status === 429) {
      showAlert(t('login.throttled', { s: retryAfter(result) }));
    } else if (result.status === 403) {
      api.refreshLoginToken().then(function () { showAlert(t('error.csrf')); });
    } else {
      showAlert(result.status ? t('error.server', { status: result.status }) : t('error.network'));
    }
  });
}

function loadMyInvitations() {
  return api.request('GET', '/invitations').then(function (result) {
    if (!result.ok) return;
    invite.mine = result.data.invitations || [];
    renderMyInvitations();
  });
}

function renderMyInvitations() {
  var list = $('my-invites-list');
  clear(list);
  if (invite.token) {
    var opened = el('li', 'invite', { 'data-testid': 'seller-invite-opened' });
    opened.appendChild(el('span', null, null, t('invites.opened') + ' '));
    var accept = el('button', 'btn btn-primary btn-small', { type: 'button', 'data-testid': 'seller-invite-accept' }, t('invites.accept'));
    accept.disabled = invite.busy;
    accept.addEventListener('click', acceptInvitation);
    opened.appendChild(accept);
    list.appendChild(opened);
  }
  invite.mine.forEach(function (inv) {
    var item = el('li', 'invite', { 'data-testid': 'seller-invite', 'data-id': inv.id });
    item.appendChild(fillNodes(el('span'), 'invites.item', { store: inv.store.name, role: roleName(inv.role), by: inv.invited_by }, ['role']));
    item.appendChild(document.createTextNode(' '));
    var decline = el('button', 'btn btn-small', { type: 'button', 'data-testid': 'seller-invite-decline' }, t('invites.decline'));
    decline.disabled = invite.busy;
    decline.addEventListener('click', function () { declineInvitation(inv); });
    item.appendChild(decline);
    list.appendChild(item);
  });
  if (invite.mine.length && !invite.token) list.appendChild(el('li', 'invite-hint', null, t('invites.howTo')));
  var status = $('my-invites-status');
  if (invite.notice) fillNodes(status, invite.notice[0], invite.notice[1], ['role']);
  else clear(status);
  $('my-invites').hidden = !invite.token && !invite.mine.length && !invite.notice;
}

function acceptInvitation() {
  if (invite.busy || !invite.token) return;
  invite.busy = true;
  renderMyInvitations();
  api.request('POST', '/invitations/accept', { token: invite.token }).then(function (result) {
    invite.busy = false;
    if (result.status === 404) { invite.token = null; invite.notice = ['invites.dead', {}]; renderMyInvitations(); return; }
    if (handled(result)) { renderMyInvitations(); return; }
    if (!result.ok) { showAlert(serverError(result.data.error || '')); renderMyInvitations(); return; }
    invite.token = null;
    var inv = result.data.accepted;
    invite.notice = ['invites.accepted', { store: inv.store.name, role: roleName(inv.role) }];
    signedIn(result.data); // the new store is in the account now
  });
}

function declineInvitation(inv) {
  if (invite.busy) return;
  invite.busy = true;
  renderMyInvitations();
  api.request('POST', '/invitations/' + encodeURIComponent(inv.id) + '/decline').then(function (result) {
    invite.busy = false;
    if (handled(result)) { renderMyInvitations(); return; }
    invite.notice = result.ok ? ['invites.declined', {}] : null;
    if (!result.ok) showAlert(serverError(result.data.error || ''));
    loadMyInvitations();
  });
}

/**
 * Signing in and out, and opening a store.
 *
 *   showLogin()          the sign-in screen
 *   signedIn(body)       the console for the account the API answered with (its stores, its CSRF token)
 *   signedOut(message)   back to the sign-in, with everything the account saw forgotten
 *   openStore(storeId)   a store's settings and history, and the tab shown loaded for it
 *   login(event), logout()
 */


function showLogin() {
  $('boot').hidden = true;
  $('console-view').hidden = true;
  $('login-view').hidden = false;
  showAlert('');
  $('login-email').focus();
}

function signedOut(message) {
  state.me = null; api.csrf = ''; state.data = null; state.history = null; state.storeId = null;
  forgetMyInvitations();
  resetPanels();
  api.refreshLoginToken().then(function () {
    showLogin();
    if (message) showAlert(message);
  });
}

function signedIn(body) {
  state.me = body.agent;
  api.csrf = body.csrf_token;
  $('boot').hidden = true;
  $('login-view').hidden = true;
  $('console-view').hidden = false;
  showAlert('');
  $('seller-name').textContent = state.me.name;
  renderMyInvitations();
  loadMyInvitations();
  var stores = state.me.stores || [];
  var picker = $('store-picker');
  clear(picker);
  stores.forEach(function (s) { picker.appendChild(el('option', null, { value: s.id }, s.name)); });
  $('store-pick').hidden = stores.length < 2;
  $('no-stores').hidden = stores.length > 0;
  $('workspace').hidden = stores.length === 0;
  if (stores.length) {
    var remembered = null;
    try { remembered = sessionStorage.getItem('seller-store'); } catch (e) { remembered = null; }
    var first = stores.some(function (s) { return s.id === remembered; }) ? remembered : stores[0].id;
    picker.value = first;
    openStore(first);
  } else {
    $('store-name').textContent = '';
  }
}

function openStore(storeId) {
  state.storeId = storeId;
  try { sessionStorage.setItem('seller-store', storeId); } catch (e) { /* fine */ }
  state.data = null; state.edits = {}; state.errors = {}; state.history = null; state.notice = null;
  forgetCards();
  clear($('templates'));
  clear($('history-list'));
  resetPanels();
  loadTab(currentTabName());
  return Promise.all([loadSettings(), loadHistory()]);
}

function login(event) {
  event.preventDefault();
  var email = $('login-email').value.trim();
  var password = $('login-password').value;
  if (!email || !password) { showAlert(t('login.missing')); return; }
  var submit = $('login-submit');
  submit.disabled = true;
  submit.textContent = t('login.signingIn');
  api.loginForm('/login', { email: email, password: password }).then(function (result) {
    submit.disabled = false;
    submit.textContent = t('login.submit');
    if (result.ok) {
      $('login-password').value = '';
      signedIn(result.data);
    } else if (result.status === 0) {
      showAlert(t('error.network'));
    } else if (result.status === 429) {
      showAlert(t('login.throttled', { s: retryAfter(result) }));
    } else if (result.status === 403) {
      api.refreshLoginToken().then(function () { showAlert(t('error.csrf')); });
    } else if (result.status === 401) {
      showAlert(t('login.wrong'));
    } else {
      showAlert(t('error.server', { status: result.status }));
    }
  });
}

function logout() {
  api.request('POST', '/logout').then(function () {
    try { sessionStorage.removeItem('seller-store'); } catch (e) { /* fine */ }
    signedOut('');
  });
}

const LANGUAGES = ['en', 'zh-CN'];

function applyLanguage() {
  applyTexts(document);
  $('lang-en').setAttribute('aria-pressed', String(language() === 'en'));
  $('lang-zh').setAttribute('aria-pressed', String(language() === 'zh-CN'));
  renderSettingsLabels();
  if (state.me) renderMyInvitations();
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
    await loadTexts('seller', LANGUAGES);
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
  ['review-delay', 'review-url', 'reply-time'].forEach(function (id) { $(id).addEventListener('input', formEdited); });
  startTabs();
  $('review-reminder').addEventListener('change', formEdited);
  api.request('GET', '/me').then(function (result) {
    if (result.ok) signedIn(result.data);
    else if (hasInvitationToken()) showJoin();
    else showLogin();
  });
}

start();
