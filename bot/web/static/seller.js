/*!
 * Seller console: a store's seller admins set the assistant's words and rules.
 * No dependencies, no build step; seller.html holds the skeleton, this file
 * fills it from the JSON API under /seller/api.
 *
 * Safety: the page is served with a strict CSP (no inline script or style).
 * Everything from the server (templates, previews, names) reaches the page
 * through textContent and setAttribute only; nothing is parsed as HTML.
 *
 * Languages: every console text is in STRINGS, in English and Simplified
 * Chinese; the choice is kept in localStorage. The shopper-facing templates
 * are the seller's own text and are never translated.
 */
(function () {
  'use strict';

  var doc = document;
  var API = '/seller/api';
  var LANG_KEY = 'seller-console-lang';
  var PREVIEW_DELAY_MS = 300;

  var STRINGS = {
    en: {
      'page.title': 'Seller console',
      'boot.loading': 'Loading the seller console…',
      'alert.dismiss': 'Dismiss this message',
      'login.title': 'Seller console',
      'login.lead': 'Sign in with your seller admin account to set how the assistant speaks for your store.',
      'login.email': 'Email',
      'login.password': 'Password',
      'login.submit': 'Sign in',
      'login.signingIn': 'Signing in…',
      'login.missing': 'Enter your email and password.',
      'login.wrong': 'Wrong email or password.',
      'login.throttled': 'Too many failed sign-ins. Try again in {s} seconds.',
      'console.brand': 'Seller console',
      'console.store': 'Store',
      'console.logout': 'Sign out',
      'console.switchConfirm': 'Switch stores? Your unsaved changes will be lost.',
      'console.noStoresTitle': 'No store to administer',
      'console.noStores': "This account is not a seller admin of any store. Ask the store's owner to make you one.",
      'templates.heading': 'Message templates',
      'templates.lead': "What the assistant says to shoppers at each step. Shoppers see exactly what you type; click a placeholder to insert it. The preview uses your store's latest order.",
      'templates.placeholders': 'Placeholders',
      'templates.insert': 'Insert {name}: {description}',
      'templates.preview': 'Preview',
      'templates.previewLoading': 'Updating the preview…',
      'templates.previewFailed': 'The preview is not available right now.',
      'templates.changed': 'Changed',
      'templates.reset': 'Undo changes',
      'templates.error': 'This template cannot be saved: {message}',
      'review.heading': 'Review invitations',
      'review.delay': 'Days after delivery',
      'review.delayHint': 'From 5 to 30 days.',
      'review.reminder': 'Send one reminder',
      'review.url': 'Review link',
      'review.urlHint': 'Leave empty for none. May use {order_number} and {sku}.',
      'escalation.heading': 'Handoff to your team',
      'escalation.reasons': 'Hand these cases to a person',
      'escalation.hours': 'Business hours',
      'escalation.hoursHint': 'Like 09:00-12:00, 13:30-18:00. Leave a day empty when closed.',
      'escalation.timezone': '(time zone {tz})',
      'escalation.closed': 'closed',
      'escalation.replyTime': 'Usual reply time (minutes)',
      'save.heading': 'Changes',
      'save.button': 'Save',
      'save.saving': 'Saving…',
      'save.discard': 'Discard changes',
      'save.hint': 'A saved change applies to the next message, with no restart.',
      'save.none': 'No unsaved changes. Current version: {v}.',
      'save.pending': 'Unsaved changes: {n}.',
      'save.saved': 'Saved as version {v}.',
      'save.fixFirst': 'Fix the errors marked in red first.',
      'save.error': 'Nothing was saved: {message}',
      'history.heading': 'History',
      'history.version': 'Version {v}',
      'history.current': 'Current',
      'history.rollback': 'Roll back to this version',
      'history.rolledBack': 'Rolled back: version {v} is now current.',
      'history.confirm': 'Roll back to version {v}? Your unsaved changes will be lost.',
      'history.asImported': 'As imported',
      'history.rolledBackTo': 'Rolled back to version {v}',
      'history.changed': 'Changed: {what}',
      'history.noChange': 'No change',
      'history.empty': 'No changes yet: the store is as imported.',
      'history.by': 'by {who}',
      'history.system': 'import',
      'error.session': 'Your session has ended. Please sign in again.',
      'error.network': 'The server cannot be reached. Check your connection and try again.',
      'error.server': 'Something went wrong on the server ({status}). Try again.',
      'error.csrf': 'This page is out of date. Reload it and try again.',
      'field.templates': 'templates',
      'field.review.delay_days': 'days after delivery',
      'field.review.reminder': 'reminder',
      'field.review.url': 'review link',
      'field.escalation.reasons': 'handoff cases',
      'field.escalation.business_hours': 'business hours',
      'field.escalation.reply_time_minutes': 'reply time'
    },
    'zh-CN': {
      'page.title': '卖家控制台',
      'boot.loading': '正在加载卖家控制台…',
      'alert.dismiss': '关闭此消息',
      'login.title': '卖家控制台',
      'login.lead': '使用卖家管理员账号登录，设置智能助手代表您的店铺说的话。',
      'login.email': '邮箱',
      'login.password': '密码',
      'login.submit': '登录',
      'login.signingIn': '正在登录…',
      'login.missing': '请输入邮箱和密码。',
      'login.wrong': '邮箱或密码错误。',
      'login.throttled': '登录失败次数过多，请在 {s} 秒后重试。',
      'console.brand': '卖家控制台',
      'console.store': '店铺',
      'console.logout': '退出登录',
      'console.switchConfirm': '切换店铺？未保存的更改将丢失。',
      'console.noStoresTitle': '没有可管理的店铺',
      'console.noStores': '此账号不是任何店铺的卖家管理员。请联系店铺负责人为您开通。',
      'templates.heading': '消息模板',
      'templates.lead': '智能助手在每个环节对买家说的话。买家看到的就是您输入的内容；点击占位符即可插入。预览使用您店铺的最新订单。',
      'templates.placeholders': '占位符',
      'templates.insert': '插入 {name}：{description}',
      'templates.preview': '预览',
      'templates.previewLoading': '正在更新预览…',
      'templates.previewFailed': '暂时无法预览。',
      'templates.changed': '已修改',
      'templates.reset': '撤销修改',
      'templates.error': '此模板无法保存：{message}',
      'review.heading': '评价邀请',
      'review.delay': '签收后天数',
      'review.delayHint': '5 到 30 天。',
      'review.reminder': '发送一次提醒',
      'review.url': '评价链接',
      'review.urlHint': '留空表示不使用。可包含 {order_number} 和 {sku}。',
      'escalation.heading': '转接人工客服',
      'escalation.reasons': '以下情况转接人工',
      'escalation.hours': '营业时间',
      'escalation.hoursHint': '例如 09:00-12:00, 13:30-18:00。休息日请留空。',
      'escalation.timezone': '（时区 {tz}）',
      'escalation.closed': '休息',
      'escalation.replyTime': '通常回复时间（分钟）',
      'save.heading': '更改',
      'save.button': '保存',
      'save.saving': '正在保存…',
      'save.discard': '放弃更改',
      'save.hint': '保存后，从下一条消息起生效，无需重启。',
      'save.none': '没有未保存的更改。当前版本：{v}。',
      'save.pending': '未保存的更改：{n} 项。',
      'save.saved': '已保存为版本 {v}。',
      'save.fixFirst': '请先修正标红的错误。',
      'save.error': '未保存任何内容：{message}',
      'history.heading': '历史版本',
      'history.version': '版本 {v}',
      'history.current': '当前',
      'history.rollback': '回滚到此版本',
      'history.rolledBack': '已回滚：版本 {v} 现为当前版本。',
      'history.confirm': '回滚到版本 {v}？未保存的更改将丢失。',
      'history.asImported': '导入时的设置',
      'history.rolledBackTo': '回滚到版本 {v}',
      'history.changed': '修改了：{what}',
      'history.noChange': '无更改',
      'history.empty': '尚无更改：店铺仍为导入时的设置。',
      'history.by': '操作人：{who}',
      'history.system': '导入',
      'error.session': '您的登录已过期，请重新登录。',
      'error.network': '无法连接服务器。请检查网络后重试。',
      'error.server': '服务器出错（{status}），请重试。',
      'error.csrf': '此页面已过期，请刷新后重试。',
      'field.templates': '模板',
      'field.review.delay_days': '签收后天数',
      'field.review.reminder': '提醒',
      'field.review.url': '评价链接',
      'field.escalation.reasons': '转人工情况',
      'field.escalation.business_hours': '营业时间',
      'field.escalation.reply_time_minutes': '回复时间'
    }
  };

  /** Names and hints of the templates, reasons, weekdays and placeholders, in both languages. */
  var TEMPLATE_NAMES = {
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
  var REASON_NAMES = {
    not_received: ['Parcel not received', '未收到包裹'],
    damaged: ['Arrived damaged', '商品损坏'],
    missing_parts: ['Missing parts', '缺少零件'],
    wrong_item: ['Wrong item', '发错商品'],
    shopper_request: ['Shopper asks for a person (always)', '买家要求人工（始终转接）'],
    not_understood: ['The assistant did not understand', '智能助手无法理解'],
    identity_check_failed: ['Identity check failed', '身份验证失败']
  };
  var WEEKDAY_NAMES = {
    mon: ['Monday', '星期一'], tue: ['Tuesday', '星期二'], wed: ['Wednesday', '星期三'], thu: ['Thursday', '星期四'],
    fri: ['Friday', '星期五'], sat: ['Saturday', '星期六'], sun: ['Sunday', '星期日']
  };
  var PLACEHOLDER_ZH = {
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
  /** The server's template errors, in Chinese (the English text is the server's own). */
  var ERROR_ZH = [
    [/^unknown placeholder \{([^}]*)\}; this message can use (.*)$/, '未知占位符 {$1}；此消息可以使用 $2'],
    [/^\{(.*)\} at character (\d+) is not a placeholder.*$/, '第 $2 个字符处的 {$1} 不是占位符：只允许 {order_number} 这样的名称（不能有属性、索引、格式或代码）'],
    [/^unmatched '\{' at character (\d+).*$/, '第 $1 个字符处的 "{" 没有配对；如需输入字面上的大括号，请写 {{'],
    [/^unmatched '\}' at character (\d+).*$/, '第 $1 个字符处的 "}" 没有配对；如需输入字面上的大括号，请写 }}'],
    [/^empty placeholder \{\} at character (\d+).*$/, '第 $1 个字符处的占位符 {} 为空；请填写名称，例如 {order_number}'],
    [/^a template cannot be empty$/, '模板不能为空'],
    [/^a template can have at most ([\d,]+) characters$/, '模板最多 $1 个字符']
  ];

  var lang = 'en';
  var state = {
    me: null, csrf: '', storeId: null, store: null, data: null,
    edits: {}, errors: {}, previewTimers: {}, previewSeq: {}, history: null, busy: false, notice: null
  };
  var cards = {};

  // ------------------------------------------------------------- helpers --

  function $(id) { return doc.getElementById(id); }

  function el(tag, cls, attrs, text) {
    var node = doc.createElement(tag);
    if (cls) node.className = cls;
    if (attrs) {
      for (var k in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, k) && attrs[k] != null) node.setAttribute(k, String(attrs[k]));
      }
    }
    if (text != null) node.textContent = text;
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) {
      return values && Object.prototype.hasOwnProperty.call(values, k) ? String(values[k]) : m;
    });
  }

  function t(key, values) {
    var table = STRINGS[lang] || STRINGS.en;
    var text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : STRINGS.en[key];
    return values ? fill(text, values) : text;
  }

  function pick(pair) { return lang === 'zh-CN' ? pair[1] : pair[0]; }

  function serverError(message) {
    if (lang !== 'zh-CN') return message;
    var text = String(message || '');
    for (var i = 0; i < ERROR_ZH.length; i++) {
      if (ERROR_ZH[i][0].test(text)) return text.replace(ERROR_ZH[i][0], ERROR_ZH[i][1]);
    }
    return text;
  }

  function clone(v) { return JSON.parse(JSON.stringify(v)); }

  // --------------------------------------------------------------- alert --

  function showAlert(text) {
    var alert = $('alert');
    $('alert-text').textContent = text || '';
    alert.classList.toggle('is-empty', !text);
    $('alert-close').hidden = !text;
    var slot = $('console-view').hidden ? $('login-alert-slot') : $('console-alert-slot');
    if (alert.parentNode !== slot) slot.appendChild(alert);
  }

  // ------------------------------------------------------------ language --

  function applyLanguage() {
    doc.documentElement.setAttribute('lang', lang);
    doc.title = t('page.title');
    var nodes = doc.querySelectorAll('[data-i18n]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-i18n'));
    nodes = doc.querySelectorAll('[data-i18n-aria-label]');
    for (i = 0; i < nodes.length; i++) nodes[i].setAttribute('aria-label', t(nodes[i].getAttribute('data-i18n-aria-label')));
    $('lang-en').setAttribute('aria-pressed', String(lang === 'en'));
    $('lang-zh').setAttribute('aria-pressed', String(lang === 'zh-CN'));
    if (state.data) {
      renderTemplates();
      renderReasons();
      renderHours();
      renderStoreLine();
      updateSaveState();
    }
    if (state.history) renderHistory();
    if ($('alert-text').textContent) showAlert('');
  }

  function setLanguage(next) {
    lang = next === 'zh-CN' ? 'zh-CN' : 'en';
    try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* private mode: the choice lasts this page only */ }
    applyLanguage();
  }

  // ----------------------------------------------------------------- API --

  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      headers['X-CSRF-Token'] = state.csrf;
    }
    return fetch(API + path, {
      method: method, headers: headers, credentials: 'same-origin', cache: 'no-store',
      body: method === 'GET' ? undefined : JSON.stringify(body || {})
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return { status: response.status, ok: response.ok, data: data || {}, headers: response.headers };
      });
    }, function () {
      return { status: 0, ok: false, data: {} };
    });
  }

  /** The common failures: a lapsed session goes back to the login, the rest become an alert. */
  function handled(result) {
    if (result.status === 401) {
      signedOut(t('error.session'));
      return true;
    }
    if (result.status === 0) { showAlert(t('error.network')); return true; }
    if (result.status === 403) { showAlert(t('error.csrf')); return true; }
    if (result.status >= 500) { showAlert(t('error.server', { status: result.status })); return true; }
    return false;
  }

  function loginToken() {
    var meta = doc.querySelector('meta[name="login-csrf"]');
    return meta ? meta.getAttribute('content') : '';
  }

  /** A fresh login CSRF token (and its cookie), from a re-fetched page. */
  function refreshLoginToken() {
    return fetch('/seller', { credentials: 'same-origin', cache: 'no-store' }).then(function (r) { return r.text(); })
      .then(function (page) {
        var match = /<meta name="login-csrf" content="([^"]+)">/.exec(page);
        if (match) doc.querySelector('meta[name="login-csrf"]').setAttribute('content', match[1]);
      }, function () { /* the login will say */ });
  }

  // -------------------------------------------------------------- screens --

  function showLogin() {
    $('boot').hidden = true;
    $('console-view').hidden = true;
    $('login-view').hidden = false;
    showAlert('');
    $('login-email').focus();
  }

  function signedOut(message) {
    state.me = null; state.csrf = ''; state.data = null; state.history = null; state.storeId = null;
    refreshLoginToken().then(function () {
      showLogin();
      if (message) showAlert(message);
    });
  }

  function signedIn(body) {
    state.me = body.agent;
    state.csrf = body.csrf_token;
    $('boot').hidden = true;
    $('login-view').hidden = true;
    $('console-view').hidden = false;
    showAlert('');
    $('seller-name').textContent = state.me.name;
    var stores = state.me.stores || [];
    var picker = $('store-picker');
    clear(picker);
    stores.forEach(function (s) { picker.appendChild(el('option', null, { value: s.id }, s.name)); });
    $('store-pick').hidden = stores.length < 2;
    $('no-stores').hidden = stores.length > 0;
    $('layout').hidden = stores.length === 0;
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

  // ------------------------------------------------------------- a store --

  function openStore(storeId) {
    state.storeId = storeId;
    try { sessionStorage.setItem('seller-store', storeId); } catch (e) { /* fine */ }
    state.data = null; state.edits = {}; state.errors = {}; state.history = null; state.notice = null;
    cards = {};
    clear($('templates'));
    clear($('history-list'));
    return Promise.all([loadSettings(), loadHistory()]);
  }

  function loadSettings() {
    var storeId = state.storeId;
    return api('GET', '/stores/' + encodeURIComponent(storeId) + '/settings').then(function (result) {
      if (storeId !== state.storeId || handled(result)) return;
      if (!result.ok) { showAlert(serverError(result.data.error || '')); return; }
      state.data = result.data;
      state.edits = {};
      state.errors = {};
      // Same store, new version: the cards stay (and keep their previews until the new ones arrive).
      Object.keys(cards).forEach(function (key) {
        var card = cards[key];
        card.area.value = templateText(key);
        card.changed.hidden = card.reset.hidden = true;
        card.root.classList.remove('is-changed');
      });
      renderTemplates();
      fillSettings();
      renderStoreLine();
      updateSaveState();
      Object.keys(state.data.settings.templates).forEach(function (key) { schedulePreview(key, 0); });
    });
  }

  function loadHistory() {
    var storeId = state.storeId;
    return api('GET', '/stores/' + encodeURIComponent(storeId) + '/settings/history').then(function (result) {
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

  // ----------------------------------------------------------- templates --

  function templateText(key) {
    return Object.prototype.hasOwnProperty.call(state.edits, key) ? state.edits[key] : state.data.settings.templates[key];
  }

  function placeholderDescription(name) {
    if (lang === 'zh-CN' && PLACEHOLDER_ZH[name]) return PLACEHOLDER_ZH[name];
    return (state.data.placeholder_descriptions || {})[name] || name;
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
      var names = TEMPLATE_NAMES[key] || [key, key, '', ''];
      card.title.textContent = lang === 'zh-CN' ? names[1] : names[0];
      card.hint.textContent = lang === 'zh-CN' ? names[3] : names[2];
      card.chipsLabel.textContent = t('templates.placeholders');
      card.previewLabel.textContent = t('templates.preview');
      card.changed.textContent = t('templates.changed');
      card.reset.textContent = t('templates.reset');
      card.chips.forEach(function (chip) {
        var name = chip.getAttribute('data-placeholder');
        var description = placeholderDescription(name);
        chip.setAttribute('title', description);
        chip.setAttribute('aria-label', t('templates.insert', { name: '{' + name + '}', description: description }));
      });
      card.descriptions.forEach(function (dd) { dd.textContent = placeholderDescription(dd.getAttribute('data-placeholder')); });
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
    api('POST', '/stores/' + encodeURIComponent(storeId) + '/preview', { template: key, text: text }).then(function (result) {
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

  // --------------------------------------------- review and escalation --

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
      labels[i].textContent = REASON_NAMES[r] ? pick(REASON_NAMES[r]) : r;
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
      labels[i].textContent = pick(WEEKDAY_NAMES[labels[i].getAttribute('data-day-label')] || ['', '']);
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
    if (Object.keys(state.edits).length) patch.templates = clone(state.edits);
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
  }

  function fieldLabel(field) {
    if (!field) return '';
    if (field.indexOf('templates.') === 0) {
      var names = TEMPLATE_NAMES[field.slice(10)];
      return names ? pick(names) : field;
    }
    var key = 'field.' + field;
    return Object.prototype.hasOwnProperty.call(STRINGS.en, key) ? t(key) : field;
  }

  function save() {
    var patch = buildPatch();
    if (!countChanges(patch) || state.busy) return;
    state.busy = true;
    $('save-error').hidden = true;
    updateSaveState();
    var storeId = state.storeId;
    api('PUT', '/stores/' + encodeURIComponent(storeId) + '/settings', patch).then(function (result) {
      state.busy = false;
      if (storeId !== state.storeId) return;
      if (result.status === 400) {
        var field = result.data.field || '';
        var detail = String(result.data.error || '').replace(/^nothing saved: /, '').replace(field + ': ', '');
        if (field.indexOf('templates.') === 0 && cards[field.slice(10)]) {
          state.errors[field.slice(10)] = detail;
          showTemplateError(field.slice(10));
          cards[field.slice(10)].area.focus();
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
    Object.keys(cards).forEach(function (key) { cards[key].area.value = state.data.settings.templates[key]; });
    Object.keys(state.edits).forEach(function (key) { delete state.edits[key]; edited(key, cards[key].area.value); });
    state.errors = {};
    Object.keys(cards).forEach(showTemplateError);
    fillSettings();
    $('save-error').hidden = true;
    updateSaveState();
  }

  // -------------------------------------------------------------- history --

  function describeSummary(summary) {
    var text = String(summary || '');
    if (text === 'as imported') return t('history.asImported');
    if (text === 'no change') return t('history.noChange');
    var m = /^rolled back to version (\d+)$/.exec(text);
    if (m) return t('history.rolledBackTo', { v: m[1] });
    m = /^changed (.*)$/.exec(text);
    if (m) {
      return t('history.changed', {
        what: m[1].split(', ').map(fieldLabel).join(lang === 'zh-CN' ? '、' : ', ')
      });
    }
    return text;
  }

  function renderHistory() {
    var list = $('history-list');
    clear(list);
    var versions = (state.history && state.history.versions) || [];
    if (!versions.length) {
      list.appendChild(el('li', 'empty empty-small', { 'data-testid': 'seller-history-empty' }, t('history.empty')));
      return;
    }
    var current = state.history.current;
    versions.forEach(function (v) {
      var item = el('li', 'history-item', { 'data-testid': 'seller-history-item', 'data-version': v.version });
      var head = el('div', 'history-head');
      head.appendChild(el('span', 'history-version', { 'data-testid': 'seller-history-version' }, t('history.version', { v: v.version })));
      if (v.version === current) head.appendChild(el('span', 'pill pill-current', null, t('history.current')));
      item.appendChild(head);
      item.appendChild(el('p', 'history-summary', { 'data-testid': 'seller-history-summary' }, describeSummary(v.summary)));
      var meta = [];
      if (v.created_at) {
        var when = new Date(v.created_at);
        meta.push(isNaN(when.getTime()) ? v.created_at : when.toLocaleString(lang === 'zh-CN' ? 'zh-CN' : 'en-GB'));
      }
      meta.push(t('history.by', { who: v.changed_by || t('history.system') }));
      item.appendChild(el('p', 'history-meta', { 'data-testid': 'seller-history-meta' }, meta.join(' · ')));
      if (v.version !== current) {
        var button = el('button', 'btn btn-small', { type: 'button', 'data-testid': 'seller-rollback' }, t('history.rollback'));
        button.addEventListener('click', function () { rollback(v.version, button); });
        item.appendChild(button);
      }
      list.appendChild(item);
    });
  }

  function rollback(version, button) {
    if (countChanges(buildPatch()) && !window.confirm(t('history.confirm', { v: version }))) return;
    button.disabled = true;
    var storeId = state.storeId;
    api('POST', '/stores/' + encodeURIComponent(storeId) + '/settings/rollback', { version: version }).then(function (result) {
      button.disabled = false;
      if (storeId !== state.storeId || handled(result)) return;
      if (!result.ok) { showAlert(serverError(result.data.error || '')); return; }
      state.notice = ['history.rolledBack', { v: result.data.version }];
      Promise.all([loadSettings(), loadHistory()]).then(updateSaveState);
    });
  }

  // ---------------------------------------------------------------- login --

  function login(event) {
    event.preventDefault();
    var email = $('login-email').value.trim();
    var password = $('login-password').value;
    if (!email || !password) { showAlert(t('login.missing')); return; }
    var submit = $('login-submit');
    submit.disabled = true;
    submit.textContent = t('login.signingIn');
    fetch(API + '/login', {
      method: 'POST', credentials: 'same-origin', cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': loginToken() },
      body: JSON.stringify({ email: email, password: password })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        submit.disabled = false;
        submit.textContent = t('login.submit');
        if (response.ok) {
          $('login-password').value = '';
          signedIn(body);
        } else if (response.status === 429) {
          showAlert(t('login.throttled', { s: response.headers.get('Retry-After') || '60' }));
        } else if (response.status === 403) {
          refreshLoginToken().then(function () { showAlert(t('error.csrf')); });
        } else if (response.status === 401) {
          showAlert(t('login.wrong'));
        } else {
          showAlert(t('error.server', { status: response.status }));
        }
      });
    }, function () {
      submit.disabled = false;
      submit.textContent = t('login.submit');
      showAlert(t('error.network'));
    });
  }

  function logout() {
    api('POST', '/logout').then(function () {
      try { sessionStorage.removeItem('seller-store'); } catch (e) { /* fine */ }
      signedOut('');
    });
  }

  // ---------------------------------------------------------------- start --

  function start() {
    try { lang = localStorage.getItem(LANG_KEY) === 'zh-CN' ? 'zh-CN' : 'en'; } catch (e) { lang = 'en'; }
    applyLanguage();
    $('lang-en').addEventListener('click', function () { setLanguage('en'); });
    $('lang-zh').addEventListener('click', function () { setLanguage('zh-CN'); });
    $('alert-close').addEventListener('click', function () { showAlert(''); });
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('save').addEventListener('click', save);
    $('discard').addEventListener('click', discard);
    $('store-picker').addEventListener('change', function () {
      if (state.data && countChanges(buildPatch()) && !window.confirm(t('console.switchConfirm'))) {
        $('store-picker').value = state.storeId;
        return;
      }
      openStore($('store-picker').value);
    });
    ['review-delay', 'review-url', 'reply-time'].forEach(function (id) { $(id).addEventListener('input', formEdited); });
    $('review-reminder').addEventListener('change', formEdited);
    api('GET', '/me').then(function (result) {
      if (result.ok) signedIn(result.data);
      else showLogin();
    });
  }

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', start);
  else start();
})();
