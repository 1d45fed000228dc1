/*!
 * Support console: the page store staff use to take over conversations from
 * the assistant. No dependencies, no build step; agent.html holds the static
 * skeleton, this file fills it from the JSON API under /agent/api.
 *
 * Safety: the page is served with a strict CSP (no inline script or style).
 * Text from shoppers, the bot, other agents and the order data only ever
 * reaches the page through textContent, text nodes and setAttribute on
 * harmless attributes; links are built only from URLs that new URL() parsed
 * as http(s). Nothing here parses a string as HTML.
 */
(function () {
  'use strict';

  var doc = document;
  var win = window;

  var API = '/agent/api';
  var MAX_REPLY = 2000;
  var REPLY_WARN_FROM = 1800;
  var MAX_NOTE = 4000;
  var QUEUE_REFRESH_MS = 30000; // fallback when server-sent events are missed, and the waiting-time tick
  var RECONNECT_MIN_MS = 1000;
  var RECONNECT_MAX_MS = 30000;
  var MAX_LOCKOUT_S = 3600;
  var NARROW = '(max-width: 759px)'; // keep in step with the phone breakpoint in agent.css

  var SENDER_CLASS = { shopper: 1, bot: 1, agent: 1, store: 1 };
  var PRIORITY_LABEL = { urgent: 'Urgent', high: 'High', normal: 'Normal' };
  var ESCALATION_STATUS = { open: 'Waiting', claimed: 'Claimed', handed_back: 'Handed back', resolved: 'Resolved', spam: 'Closed as spam' };
  var QUEUE_PAGE = 50; // cases per page; a refresh reloads as many as are shown, up to QUEUE_PAGE_MAX
  var QUEUE_PAGE_MAX = 200;
  var SPAM_BATCH_MAX = 200;
  var ATTACHMENT_LABEL = { pdf: 'PDF', video: 'Video', image: 'Image', link: 'Link' };

  // ------------------------------------------------------------- helpers --

  function $(id) {
    return doc.getElementById(id);
  }

  /** A new element; attribute values and text are always set as text, never parsed. */
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

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function str(v) {
    return typeof v === 'string' ? v : v == null ? '' : String(v);
  }

  function num(v) {
    var n = Number(v);
    return isFinite(n) ? n : 0;
  }

  /** Conversation ids go into URL paths: refuse anything that could climb out of the path segment. */
  function validId(id) {
    return typeof id === 'string' && id.length > 0 && id.length <= 200 && id !== '.' && id !== '..';
  }

  function convPath(cid, suffix) {
    return '/conversations/' + encodeURIComponent(cid) + (suffix || '');
  }

  /** An http(s) URL object, or null. Relative URLs resolve against this page. */
  function safeUrl(value) {
    if (typeof value !== 'string' || !value.trim()) return null;
    var u;
    try {
      u = new URL(value.trim(), win.location.href);
    } catch (e) {
      return null;
    }
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null;
  }

  function externalLink(url, text, cls) {
    var a = el('a', cls || null, { target: '_blank', rel: 'noopener noreferrer' }, text);
    a.href = url.href; // only ever a URL safeUrl() accepted
    return a;
  }

  var URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  var TRAILING = /[.,;:!?'"\])}>]$/;

  /** Text as text nodes, with http(s) URLs as links that open in a new tab. */
  function appendLinkified(parent, text) {
    var last = 0;
    var match;
    URL_RE.lastIndex = 0;
    while ((match = URL_RE.exec(text)) !== null) {
      var raw = match[0];
      while (raw && TRAILING.test(raw)) raw = raw.slice(0, -1); // sentence punctuation stays outside the link
      var url = safeUrl(raw);
      if (!url || raw.length < 9) continue;
      if (match.index > last) parent.appendChild(doc.createTextNode(text.slice(last, match.index)));
      parent.appendChild(externalLink(url, raw));
      last = match.index + raw.length;
      URL_RE.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(doc.createTextNode(text.slice(last)));
  }

  function parseDate(iso) {
    if (typeof iso !== 'string' || !iso) return null;
    var d = new Date(iso);
    return isNaN(d.getTime()) ? null : d;
  }

  function localeString(d, opts) {
    try {
      return d.toLocaleString(undefined, opts);
    } catch (e) {
      return d.toLocaleString();
    }
  }

  /** "14:05" today, "26 Nov, 14:05" otherwise. */
  function formatTime(iso) {
    var d = parseDate(iso);
    if (!d) return '';
    var today = d.toDateString() === new Date().toDateString();
    return localeString(
      d,
      today ? { hour: 'numeric', minute: '2-digit' } : { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' }
    );
  }

  function formatDate(iso) {
    var d = parseDate(iso);
    return d ? localeString(d, { year: 'numeric', month: 'short', day: 'numeric' }) : '';
  }

  function fullTime(iso) {
    var d = parseDate(iso);
    return d ? localeString(d, { dateStyle: 'full', timeStyle: 'short' }) : '';
  }

  /** A <time> element with the machine date, the short form shown and the full form on hover. */
  function timeEl(iso, cls, text) {
    var t = el('time', cls, { datetime: iso, title: fullTime(iso) || null }, text != null ? text : formatTime(iso));
    return t;
  }

  /** "< 1 min", "4 min", "2 h 5 min", "3 d 4 h": what an agent scans for in a queue. */
  function formatWaiting(seconds) {
    var m = Math.floor(Math.max(0, seconds) / 60);
    if (m < 1) return '< 1 min';
    if (m < 60) return m + ' min';
    var h = Math.floor(m / 60);
    if (h < 24) return h + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
    var d = Math.floor(h / 24);
    return d + ' d' + (h % 24 ? ' ' + (h % 24) + ' h' : '');
  }

  /** "in_transit" / "OutForDelivery" → "In transit" / "Out for delivery". */
  function humanize(value) {
    var s = str(value)
      .replace(/[_-]+/g, ' ')
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .trim()
      .toLowerCase();
    return s ? s.charAt(0).toUpperCase() + s.slice(1) : '';
  }

  function thousands(n) {
    try {
      return n.toLocaleString('en');
    } catch (e) {
      return String(n);
    }
  }

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function focusQuietly(node) {
    if (!node) return;
    try {
      node.focus({ preventScroll: true });
    } catch (e) {
      node.focus();
    }
  }

  function isNarrow() {
    return !!(win.matchMedia && win.matchMedia(NARROW).matches);
  }

  // ----------------------------------------------------------------- DOM --

  var ui = {
    boot: $('boot'),
    alert: $('alert'),
    alertText: $('alert-text'),
    alertClose: $('alert-close'),
    loginView: $('login-view'),
    loginAlertSlot: $('login-alert-slot'),
    loginForm: $('login-form'),
    loginEmail: $('login-email'),
    loginPassword: $('login-password'),
    loginSubmit: $('login-submit'),
    consoleView: $('console-view'),
    consoleAlertSlot: $('console-alert-slot'),
    connection: $('connection'),
    connectionText: $('connection-text'),
    agentName: $('agent-name'),
    agentStores: $('agent-stores'),
    logout: $('logout'),
    layout: $('layout'),
    queue: $('queue'),
    queueList: $('queue-list'),
    queueEmpty: $('queue-empty'),
    queueCount: $('queue-count'),
    queueOrder: $('queue-order'),
    queueBulk: $('queue-bulk'),
    queueBulkCount: $('queue-bulk-count'),
    queueSpam: $('queue-spam'),
    queueUnselect: $('queue-unselect'),
    queueMore: $('queue-more'),
    queueMoreRow: $('queue-more-row'),
    convEmpty: $('conv-empty'),
    conv: $('conv'),
    back: $('back'),
    convHeading: $('conv-heading'),
    convMeta: $('conv-meta'),
    convStatus: $('conv-status'),
    claim: $('claim'),
    handback: $('handback'),
    resolve: $('resolve'),
    transcript: $('transcript'),
    jump: $('jump'),
    replyForm: $('reply-form'),
    canned: $('canned'),
    replyText: $('reply-text'),
    replyCounter: $('reply-counter'),
    replySend: $('reply-send'),
    sidePane: $('side-pane'),
    order: $('order'),
    escalations: $('escalations'),
    notesList: $('notes-list'),
    notesEmpty: $('notes-empty'),
    noteForm: $('note-form'),
    noteText: $('note-text'),
    noteSave: $('note-save')
  };

  // --------------------------------------------------------------- state --

  var loginCsrf = (function () {
    var meta = doc.querySelector('meta[name="login-csrf"]');
    var v = meta ? meta.getAttribute('content') || '' : '';
    return v.charAt(0) === '$' ? '' : v; // the placeholder itself: the page was not served through the gateway
  })();
  var LOGIN_CSRF_RE = /<meta name="login-csrf" content="([^"<>]+)">/;
  // Calls made signed out: they carry the page's login token, not a session's.
  var SIGNED_OUT_PATHS = { '/login': true, '/join': true, '/invitation': true };

  var me = null; // {id, email, name, stores}
  var csrfToken = '';
  var view = 'boot'; // boot | login | console
  var lockedUntil = 0; // too many failed logins: no point trying before this (ms)
  var lockTimer = null;
  var loggingIn = false;

  var queueItems = [];
  var queueFetchedAt = 0; // when waiting_seconds were true, to age them locally
  var queueLoading = false;
  var queueAgain = false;
  var queueNext = null; // the cursor of the page after the ones shown, or null at the end
  var queueTotal = 0; // every open and claimed case, shown or not
  var queueWaiting = 0; // ...of which not claimed
  var queueOrder = 'newest'; // or 'oldest': both most urgent first
  var queueMoreLoading = false;
  var picked = {}; // escalation id -> true: waiting cases ticked for closing as spam
  var closingSpam = false;
  var tickTimer = null;

  var events = null; // EventSource
  var reconnectTimer = null;
  var reconnectDelay = RECONNECT_MIN_MS;

  var openId = null; // the conversation in the main pane
  var conv = null; // its last body from the server
  var seen = {}; // seq -> true for the messages shown
  var convRequests = 0; // numbers every request for a conversation body...
  var convApplied = 0; // ...so an older answer never overwrites a newer one
  var convLoading = null; // the id of the conversation whose GET is in flight
  var convAgain = false; // ...and whether it needs one more when that ends
  var actionBusy = false;
  var sending = false;
  var savingNote = false;
  var shown = { escalations: null, order: undefined, notes: null, canned: null }; // what the side panels show, to skip needless redraws

  // Typed text outlives re-renders, switching conversations and even a lapsed session.
  var replyDrafts = {};
  var noteDrafts = {};
  var draftsOwner = null;

  // ----------------------------------------------------------------- API --

  /**
   * One call to the JSON API. Resolves (never rejects) with
   * {status, ok, data, retryAfter}; status 0 means the network failed.
   */
  function api(method, path, body) {
    var headers = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-CSRF-Token'] = SIGNED_OUT_PATHS[path] ? loginCsrf : csrfToken;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    var init = { method: method, headers: headers, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(API + path, init).then(
      function (res) {
        return res.text().then(
          function (t) {
            var data = null;
            try {
              data = t ? JSON.parse(t) : null;
            } catch (e) { /* not JSON (a proxy's error page): use the status */ }
            if (!data || typeof data !== 'object') data = {};
            return { status: res.status, ok: res.ok, data: data, retryAfter: res.headers.get('Retry-After') };
          },
          function () {
            return { status: res.status, ok: res.ok, data: {}, retryAfter: null };
          }
        );
      },
      function () {
        return { status: 0, ok: false, data: {}, retryAfter: null };
      }
    );
  }

  /**
   * A state-changing call. A 403 that names the CSRF token means ours went
   * stale (the server rotated it): fetch the current one once and try again.
   */
  function post(path, body) {
    return api('POST', path, body).then(function (r) {
      if (r.status !== 403 || !/csrf/i.test(str(r.data.error))) return r;
      return api('GET', '/me').then(function (m) {
        if (!m.ok || !acceptMe(m.data)) return m.status === 401 ? m : r;
        return api('POST', path, body);
      });
    });
  }

  function parseRetryAfter(r) {
    var h = r.retryAfter;
    if (h) {
      var n = parseInt(h, 10);
      if (isFinite(n) && String(n) === h.trim()) return Math.max(1, n);
      var when = Date.parse(h);
      if (!isNaN(when)) return Math.max(1, Math.ceil((when - Date.now()) / 1000));
    }
    return 0;
  }

  function seconds(n) {
    return n + (n === 1 ? ' second' : ' seconds');
  }

  /** What to tell the agent: the server's own words when it gave any. */
  function errorMessage(r, context) {
    var text = typeof r.data.error === 'string' ? r.data.error.trim().slice(0, 300) : '';
    if (r.status === 429) {
      var wait = parseRetryAfter(r);
      if (!text) text = 'Too many attempts.';
      // Only add the wait when the server's text does not already say it.
      if (wait && !/\d/.test(text)) text += ' Try again in ' + seconds(wait) + '.';
      return text;
    }
    if (text) return text;
    switch (r.status) {
      case 0: return "Can't reach the server. Check your connection and try again.";
      case 401: return context === 'login' ? 'Wrong email or password.' : 'Your session has ended. Please sign in again.';
      case 403: return context === 'login' ? 'This sign-in form has expired. Reload the page and try again.' : "You don't have access to that.";
      case 404: return 'That conversation no longer exists.';
      case 409: return 'Someone else changed this conversation; it has been refreshed.';
      case 413: return 'That is too long.';
      case 502: return "The assistant isn't responding right now. Try again in a moment.";
      default: return 'Something went wrong on the server (' + r.status + '). Please try again.';
    }
  }

  /** The common failure path: a lapsed session goes back to sign-in, anything else is shown. */
  function failed(r, context) {
    if (r.status === 401 && context !== 'login') {
      sessionEnded();
      return;
    }
    showError(errorMessage(r, context));
  }

  // -------------------------------------------------------------- alerts --

  function showError(text) {
    // Setting the text of the always-present role="alert" element makes screen readers announce it.
    ui.alertText.textContent = text;
    ui.alert.classList.remove('is-empty');
    ui.alertClose.hidden = false;
  }

  function clearError() {
    ui.alertText.textContent = '';
    ui.alert.classList.add('is-empty');
    ui.alertClose.hidden = true;
  }

  ui.alertClose.addEventListener('click', function () {
    clearError();
  });

  // --------------------------------------------------------------- views --

  function showView(name) {
    view = name;
    ui.boot.hidden = true;
    ui.loginView.hidden = name !== 'login';
    ui.consoleView.hidden = name !== 'console';
    // The alert sits where the agent is looking: above the form, or under the header.
    var slot = name === 'login' ? ui.loginAlertSlot : ui.consoleAlertSlot;
    if (ui.alert.parentNode !== slot) slot.appendChild(ui.alert);
  }

  /** Phones show one column at a time: the queue, or the open conversation. */
  function showPane(name) {
    ui.layout.setAttribute('data-pane', name);
  }

  // --------------------------------------------------------------- login --

  function acceptMe(data) {
    var agent = data && data.agent;
    if (!agent || typeof agent !== 'object' || typeof data.csrf_token !== 'string' || !data.csrf_token) return false;
    me = {
      id: agent.id,
      email: str(agent.email),
      name: str(agent.name) || str(agent.email),
      stores: Array.isArray(agent.stores) ? agent.stores.filter(function (s) { return s && typeof s === 'object'; }) : []
    };
    csrfToken = data.csrf_token;
    return true;
  }

  function startConsole() {
    // Drafts belong to one agent: a different person signing in on this browser starts clean.
    // Nor do they reopen the conversation the previous person had open.
    if (draftsOwner !== me.id) {
      replyDrafts = {};
      noteDrafts = {};
      if (draftsOwner !== null) openId = null;
      draftsOwner = me.id;
    }
    ui.agentName.textContent = me.name;
    ui.agentName.setAttribute('title', me.email);
    var storeNames = me.stores.map(function (s) { return str(s.name) || str(s.id); }).filter(Boolean);
    ui.agentStores.textContent = storeNames.join(', ');
    ui.agentStores.setAttribute('title', storeNames.join(', '));
    showView('console');
    showPane('queue');
    renderMyInvitations();
    loadMyInvitations();
    // Not "No one is waiting." before we know: that would be a false all-clear.
    ui.queueEmpty.hidden = true;
    ui.queue.setAttribute('aria-busy', 'true');
    refreshQueue();
    connectEvents();
    clearInterval(tickTimer);
    tickTimer = setInterval(function () {
      updateWaiting(); // the local clock keeps the times honest even if the fetch below fails
      refreshQueue();
    }, QUEUE_REFRESH_MS);

    var wanted = openId || conversationFromHash();
    if (wanted) openConversation(wanted, false);
  }

  /**
   * The login token is a double-submit pair: the meta tag and an HttpOnly
   * cookie the server sets with the page, and deletes when a login succeeds.
   * Signing in again after a session ended therefore needs a fresh pair:
   * fetch the page again (the response sets the cookie) and read the token
   * from its meta tag. The text is only matched, never put into the DOM.
   */
  function refreshLoginToken() {
    return fetch(win.location.pathname, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/html' } })
      .then(function (res) {
        return res.ok ? res.text() : '';
      })
      .then(
        function (text) {
          var m = LOGIN_CSRF_RE.exec(text);
          if (m && m[1].charAt(0) !== '$') {
            loginCsrf = m[1];
            return true;
          }
          return false;
        },
        function () {
          return false;
        }
      );
  }

  function showLogin() {
    showView('login');
    ui.loginPassword.value = '';
    updateLoginButton();
    focusQuietly(ui.loginEmail.value ? ui.loginPassword : ui.loginEmail);
  }

  function updateLoginButton() {
    ui.loginSubmit.disabled = loggingIn || Date.now() < lockedUntil;
    ui.loginForm.setAttribute('aria-busy', loggingIn ? 'true' : 'false');
  }

  function lockLogin(secondsToWait) {
    var s = Math.min(secondsToWait, MAX_LOCKOUT_S);
    lockedUntil = Date.now() + s * 1000;
    clearTimeout(lockTimer);
    lockTimer = setTimeout(function () {
      lockedUntil = 0;
      updateLoginButton();
    }, s * 1000);
    updateLoginButton();
  }

  ui.loginForm.addEventListener('submit', function (e) {
    e.preventDefault();
    if (loggingIn || Date.now() < lockedUntil) return;
    var email = ui.loginEmail.value.trim();
    var password = ui.loginPassword.value;
    if (!email || !password) {
      showError('Enter your email and password.');
      focusQuietly(email ? ui.loginPassword : ui.loginEmail);
      return;
    }
    loggingIn = true;
    updateLoginButton();
    login(email, password, false).then(function (r) {
      loggingIn = false;
      if (r.ok && acceptMe(r.data)) {
        ui.loginPassword.value = '';
        clearError();
        updateLoginButton();
        startConsole();
        return;
      }
      if (r.status === 429) lockLogin(parseRetryAfter(r) || 30);
      showError(r.ok ? 'Unexpected answer from the server. Please try again.' : errorMessage(r, 'login'));
      ui.loginPassword.value = '';
      updateLoginButton();
      focusQuietly(ui.loginPassword);
    });
  });

  /** A 403 here is a stale sign-in token (see refreshLoginToken): get a fresh one and try once more. */
  function login(email, password, retried) {
    return api('POST', '/login', { email: email, password: password }).then(function (r) {
      if (r.status !== 403 || retried) return r;
      return refreshLoginToken().then(function (ok) {
        return ok ? login(email, password, true) : r;
      });
    });
  }

  ui.logout.addEventListener('click', function () {
    ui.logout.disabled = true;
    post('/logout', {}).then(function (r) {
      if (r.ok || r.status === 401) {
        stopLive();
        // A fresh page: a new sign-in token from the server, and nothing of the
        // conversations left in memory or in the DOM.
        win.location.replace(win.location.pathname + win.location.search);
        return;
      }
      ui.logout.disabled = false;
      showError(errorMessage(r));
    });
  });

  /** The server no longer knows this browser (401): stop everything and ask for a sign-in. */
  function sessionEnded() {
    if (view !== 'console') return;
    if (openId) saveDrafts(openId);
    stopLive();
    csrfToken = '';
    var reopen = openId; // offered again once the same agent signs back in
    closeConversation();
    openId = reopen;
    queueItems = [];
    queueNext = null;
    queueTotal = queueWaiting = 0;
    picked = {};
    renderQueue();
    ui.logout.disabled = false;
    showLogin();
    showError('Your session has ended. Please sign in again.');
    refreshLoginToken(); // the old one died with the last successful login
  }

  // --------------------------------------------------------- live events --

  function setConnection(state) {
    var labels = { live: 'Live', connecting: 'Connecting…', offline: 'Offline — retrying' };
    ui.connection.setAttribute('data-state', state);
    ui.connectionText.textContent = labels[state];
  }

  function connectEvents() {
    closeEvents();
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (typeof win.EventSource !== 'function') {
      setConnection('offline'); // the 30 s queue refresh still works
      return;
    }
    setConnection('connecting');
    var es = new win.EventSource(API + '/events'); // same origin: the session cookie goes along
    events = es;
    es.onopen = function () {
      if (events !== es) return;
      setConnection('live');
      reconnectDelay = RECONNECT_MIN_MS;
      // Whatever happened while we were not listening: catch up once.
      refreshQueue();
      if (openId) fetchConversation(openId);
    };
    es.addEventListener('queue', function () {
      if (events === es) refreshQueue();
    });
    es.addEventListener('conversation', function (ev) {
      if (events !== es) return;
      var data = null;
      try {
        data = JSON.parse(ev.data);
      } catch (e) { /* ignore a malformed event */ }
      if (data && openId && data.conversation_id === openId) fetchConversation(openId);
    });
    es.onerror = function () {
      if (events !== es) return;
      if (es.readyState !== 2) {
        setConnection('connecting'); // the browser is reconnecting by itself
        return;
      }
      // Closed for good (e.g. a 401 instead of the stream): find out why, then retry with backoff.
      closeEvents();
      setConnection('offline');
      api('GET', '/me').then(function (r) {
        if (view !== 'console') return;
        if (r.status === 401) {
          sessionEnded();
          return;
        }
        if (r.ok) acceptMe(r.data);
        scheduleReconnect();
      });
    };
  }

  function scheduleReconnect() {
    if (reconnectTimer || view !== 'console') return;
    var delay = reconnectDelay;
    reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
    reconnectTimer = setTimeout(function () {
      reconnectTimer = null;
      if (view === 'console') connectEvents();
    }, delay);
  }

  function closeEvents() {
    if (!events) return;
    var es = events;
    events = null;
    es.onopen = es.onerror = null;
    es.close();
  }

  function stopLive() {
    closeEvents();
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    clearInterval(tickTimer);
    tickTimer = null;
    reconnectDelay = RECONNECT_MIN_MS;
  }

  win.addEventListener('online', function () {
    if (view !== 'console') return;
    reconnectDelay = RECONNECT_MIN_MS;
    if (!events) connectEvents();
    refreshQueue();
  });

  doc.addEventListener('visibilitychange', function () {
    // Timers are throttled in background tabs: bring the queue up to date on return.
    if (!doc.hidden && view === 'console') refreshQueue();
  });

  // --------------------------------------------------------------- queue --

  function refreshQueue() {
    if (view !== 'console') return;
    if (queueLoading) {
      queueAgain = true; // one more fetch when this one ends, however many events arrived
      return;
    }
    queueLoading = true;
    // As many as are shown (the agent may have asked for more), from the top of the queue.
    var limit = Math.min(QUEUE_PAGE_MAX, Math.max(QUEUE_PAGE, queueItems.length));
    api('GET', '/queue?order=' + encodeURIComponent(queueOrder) + '&limit=' + limit).then(function (r) {
      queueLoading = false;
      if (view !== 'console') return;
      if (r.ok) {
        queueItems = queueList(r.data.escalations);
        takeQueuePage(r.data);
        queueFetchedAt = Date.now();
        renderQueue();
      } else if (r.status === 401) {
        sessionEnded();
        return;
      } else if (r.status !== 0) {
        // A dropped connection shows in the indicator; anything else is worth saying.
        showError(errorMessage(r));
      }
      if (queueAgain) {
        queueAgain = false;
        refreshQueue();
      }
    });
  }

  function queueList(list) {
    return Array.isArray(list) ? list.filter(function (e) { return e && typeof e === 'object'; }) : [];
  }

  function takeQueuePage(data) {
    queueNext = typeof data.next_cursor === 'string' && data.next_cursor ? data.next_cursor : null;
    queueTotal = Math.max(num(data.total), queueItems.length);
    queueWaiting = Math.min(num(data.waiting), queueTotal);
  }

  /** The next page, after the cases shown. */
  function moreQueue() {
    if (!queueNext || queueMoreLoading || view !== 'console') return;
    queueMoreLoading = true;
    ui.queueMore.disabled = true;
    var path = '/queue?order=' + encodeURIComponent(queueOrder) + '&limit=' + QUEUE_PAGE + '&cursor=' + encodeURIComponent(queueNext);
    api('GET', path).then(function (r) {
      queueMoreLoading = false;
      ui.queueMore.disabled = false;
      if (view !== 'console') return;
      if (!r.ok) {
        failed(r);
        return;
      }
      var shown = {};
      queueItems.forEach(function (e) { shown[str(e.id)] = true; });
      queueItems = queueItems.concat(queueList(r.data.escalations).filter(function (e) { return !shown[str(e.id)]; }));
      takeQueuePage(r.data);
      renderQueue();
    });
  }

  ui.queueMore.addEventListener('click', moreQueue);

  ui.queueOrder.addEventListener('change', function () {
    queueOrder = ui.queueOrder.value === 'oldest' ? 'oldest' : 'newest';
    queueItems = []; // back to one page, in the new order
    refreshQueue();
  });

  function pickedIds() {
    return Object.keys(picked).map(Number).filter(function (n) { return isFinite(n) && n > 0; });
  }

  function updateBulk() {
    var n = pickedIds().length;
    ui.queueBulk.hidden = n === 0;
    ui.queueBulkCount.textContent = n === 1 ? '1 case selected' : n + ' cases selected';
    ui.queueSpam.disabled = closingSpam || n === 0 || n > SPAM_BATCH_MAX;
    ui.queueSpam.title = n > SPAM_BATCH_MAX ? 'At most ' + SPAM_BATCH_MAX + ' at a time' : '';
  }

  ui.queueUnselect.addEventListener('click', function () {
    picked = {};
    renderQueue();
  });

  ui.queueSpam.addEventListener('click', function () {
    var ids = pickedIds();
    if (!ids.length || closingSpam) return;
    var question = ids.length === 1
      ? 'Close this case as spam? The shopper is not told, and it leaves the queue.'
      : 'Close these ' + ids.length + ' cases as spam? The shoppers are not told, and they leave the queue.';
    if (!win.confirm(question)) return;
    closingSpam = true;
    updateBulk();
    post('/escalations/spam', { escalation_ids: ids }).then(function (r) {
      closingSpam = false;
      if (!r.ok) {
        updateBulk();
        failed(r);
        return;
      }
      picked = {};
      var missed = Array.isArray(r.data.not_closed) ? r.data.not_closed.length : 0;
      if (missed) {
        showError(missed === 1
          ? '1 case was not closed: someone claimed or closed it meanwhile.'
          : missed + ' cases were not closed: someone claimed or closed them meanwhile.');
      }
      refreshQueue();
      if (openId) fetchConversation(openId);
    });
  });

  function waitingNow(item) {
    return num(item.waiting_seconds) + (Date.now() - queueFetchedAt) / 1000;
  }

  function claimLine(item) {
    var by = item.claimed_by;
    if (by && typeof by === 'object') {
      return me && by.id === me.id ? 'Claimed by you' : 'Claimed by ' + (str(by.name) || 'another agent');
    }
    return item.status === 'claimed' ? 'Claimed' : 'Waiting for a person';
  }

  function renderQueueItem(item) {
    var cid = str(item.conversation_id);
    var priority = PRIORITY_LABEL[item.priority] ? item.priority : 'normal';
    var status = str(item.status) || 'open';
    var li = el('li', 'queue-row');
    var button = el('button', 'qitem qitem--' + priority + ' qitem--' + (status === 'claimed' ? 'claimed' : 'open'), {
      type: 'button',
      'data-testid': 'agent-queue-item',
      'data-conversation-id': cid,
      'data-escalation-id': str(item.id),
      'data-priority': priority,
      'data-status': status
    });

    var top = el('span', 'qitem-top');
    top.appendChild(el('span', 'badge badge--' + priority, { 'data-testid': 'agent-queue-priority' }, PRIORITY_LABEL[priority]));
    top.appendChild(el('span', 'qitem-reason', null, str(item.reason_title) || humanize(item.reason) || 'Needs a person'));
    var wait = el('span', 'qitem-wait', { 'data-testid': 'agent-queue-waiting' });
    wait.appendChild(el('span', 'sr', null, ', waiting '));
    wait.appendChild(el('span', 'qitem-wait-value', null, formatWaiting(waitingNow(item))));
    top.appendChild(wait);
    button.appendChild(top);

    var meta = [str(item.store_name) || str(item.store_id)];
    if (item.order_number) meta.push('Order ' + str(item.order_number));
    if (item.reference) meta.push(str(item.reference));
    button.appendChild(el('span', 'qitem-meta', null, meta.filter(Boolean).join(' · ')));
    if (item.summary) button.appendChild(el('span', 'qitem-summary', null, str(item.summary)));
    var mineClaim = item.claimed_by && me && item.claimed_by.id === me.id;
    button.appendChild(
      el('span', 'qitem-claim' + (item.claimed_by ? ' is-claimed' : '') + (mineClaim ? ' is-mine' : ''), { 'data-testid': 'agent-queue-claimed' }, claimLine(item))
    );

    button.addEventListener('click', function () {
      openConversation(cid, true);
    });
    // Only waiting cases can be closed as spam; a claimed one is someone's work.
    var id = str(item.id);
    if (status === 'open' && /^[0-9]{1,10}$/.test(id)) {
      var pick = el('label', 'qpick', { title: 'Select ' + (str(item.reference) || 'this case') });
      var box = el('input', null, {
        type: 'checkbox',
        'data-testid': 'agent-queue-pick',
        'aria-label': 'Select ' + (str(item.reference) || 'this case') + ' to close as spam'
      });
      box.checked = !!picked[id];
      box.addEventListener('change', function () {
        if (box.checked) picked[id] = true;
        else delete picked[id];
        updateBulk();
      });
      pick.appendChild(box);
      li.appendChild(pick);
    }
    li.appendChild(button);
    return li;
  }

  function renderQueue() {
    // Rebuilding moves focus to <body>: remember which row had it and give it back.
    var active = doc.activeElement;
    var focusedEscalation = active && ui.queueList.contains(active) ? active.getAttribute('data-escalation-id') : null;

    clear(ui.queueList);
    // Ticks survive a refresh only for cases still waiting in view.
    var stillPicked = {};
    queueItems.forEach(function (item) {
      if (picked[str(item.id)] && item.status === 'open') stillPicked[str(item.id)] = true;
      ui.queueList.appendChild(renderQueueItem(item));
    });
    picked = stillPicked;
    var total = Math.max(queueTotal, queueItems.length);
    ui.queueEmpty.hidden = queueItems.length > 0;
    ui.queueCount.textContent = total ? String(total) : '';
    ui.queueCount.setAttribute('title', queueWaiting + ' waiting, ' + (total - queueWaiting) + ' claimed');
    ui.queueMoreRow.hidden = !queueNext;
    ui.queueMore.textContent = 'Show more (' + (total - queueItems.length) + ' not shown)';
    updateBulk();
    ui.queue.setAttribute('aria-busy', 'false');
    markSelected();

    if (focusedEscalation) {
      var again = ui.queueList.querySelector('[data-escalation-id="' + cssEscape(focusedEscalation) + '"]');
      focusQuietly(again || ui.queueList.querySelector('.qitem') || ui.queue);
    }
  }

  function cssEscape(v) {
    return win.CSS && win.CSS.escape ? win.CSS.escape(v) : v.replace(/[^a-zA-Z0-9_-]/g, '\\$&');
  }

  /** Age the waiting times from the local clock between fetches. */
  function updateWaiting() {
    var buttons = ui.queueList.querySelectorAll('.qitem');
    for (var i = 0; i < buttons.length && i < queueItems.length; i++) {
      var value = buttons[i].querySelector('.qitem-wait-value');
      if (value) value.textContent = formatWaiting(waitingNow(queueItems[i]));
    }
  }

  function markSelected() {
    var buttons = ui.queueList.querySelectorAll('.qitem');
    for (var i = 0; i < buttons.length; i++) {
      var selected = !!openId && buttons[i].getAttribute('data-conversation-id') === openId;
      buttons[i].classList.toggle('is-selected', selected);
      if (selected) buttons[i].setAttribute('aria-current', 'true');
      else buttons[i].removeAttribute('aria-current');
    }
  }

  // -------------------------------------------------------- conversation --

  function conversationFromHash() {
    var m = /^#conversation=(.+)$/.exec(win.location.hash || '');
    if (!m) return null;
    var id;
    try {
      id = decodeURIComponent(m[1]);
    } catch (e) {
      return null;
    }
    return validId(id) ? id : null;
  }

  /** The open conversation goes in the URL fragment so a reload reopens it (replaceState: no history spam). */
  function setHash(cid) {
    if (!win.history || !win.history.replaceState) return;
    var url = win.location.pathname + win.location.search + (cid ? '#conversation=' + encodeURIComponent(cid) : '');
    try {
      win.history.replaceState(null, '', url);
    } catch (e) { /* ignore */ }
  }

  function saveDrafts(cid) {
    if (!cid) return;
    replyDrafts[cid] = ui.replyText.value;
    noteDrafts[cid] = ui.noteText.value;
  }

  function openConversation(cid, fromUser) {
    if (!validId(cid)) return;
    if (cid !== openId || !conv) {
      if (openId && openId !== cid) saveDrafts(openId);
      resetConversation();
      openId = cid;
      ui.replyText.value = replyDrafts[cid] || '';
      ui.noteText.value = noteDrafts[cid] || '';
      updateCounter();
      setHash(cid);
    }
    ui.convEmpty.hidden = true;
    ui.conv.hidden = false;
    ui.sidePane.hidden = false;
    markSelected();
    showPane('conversation');
    // On a phone the queue disappears: take keyboard and screen reader focus to what replaced it.
    if (fromUser && isNarrow()) focusQuietly(ui.convHeading);
    fetchConversation(cid);
  }

  /** Empty the main and side panes (before showing another conversation). */
  function resetConversation() {
    conv = null;
    seen = {};
    convApplied = convRequests; // answers to anything asked before now are stale
    convLoading = null;
    convAgain = false;
    clear(ui.transcript);
    ui.jump.hidden = true;
    ui.convHeading.textContent = 'Conversation';
    ui.convMeta.textContent = '';
    setStatus('loading', 'Loading…');
    clear(ui.order);
    clear(ui.escalations);
    clear(ui.notesList);
    ui.notesEmpty.hidden = true;
    shown = { escalations: null, order: undefined, notes: null, canned: null };
    renderCanned([]);
    updateControls();
  }

  function closeConversation() {
    resetConversation();
    openId = null;
    ui.replyText.value = '';
    ui.noteText.value = '';
    updateCounter();
    ui.conv.hidden = true;
    ui.sidePane.hidden = true;
    ui.convEmpty.hidden = false;
    setHash(null);
    markSelected();
    showPane('queue');
  }

  ui.back.addEventListener('click', function () {
    showPane('queue');
    focusQuietly(ui.queueList.querySelector('.qitem.is-selected') || ui.queueList.querySelector('.qitem') || ui.queue);
  });

  function fetchConversation(cid) {
    if (!cid || cid !== openId || view !== 'console') return;
    if (convLoading === cid) {
      convAgain = true; // a burst of events costs at most one more fetch
      return;
    }
    // A GET still running for a conversation the agent has left is simply ignored when it lands.
    convLoading = cid;
    var n = ++convRequests;
    api('GET', convPath(cid)).then(function (r) {
      if (convLoading === cid) convLoading = null;
      if (cid === openId && view === 'console') {
        if (r.ok) {
          applyConversation(r.data, cid, n);
        } else if (r.status === 401) {
          sessionEnded();
          return;
        } else if (r.status === 403 || r.status === 404) {
          showError(errorMessage(r));
          closeConversation();
          return;
        } else if (r.status !== 0 || !conv) {
          showError(errorMessage(r));
          if (!conv) setStatus('error', "Couldn't load this conversation.");
        }
      }
      if (convAgain && !convLoading) {
        convAgain = false;
        fetchConversation(openId);
      }
    });
  }

  function isMine(c) {
    if (!c) return false;
    if (typeof c.mine === 'boolean') return c.mine;
    return !!(c.handled_by && me && c.handled_by.id === me.id);
  }

  /** Apply a conversation body (from GET, claim, hand back or resolve) if it is the newest one. */
  function applyConversation(body, cid, n) {
    if (cid !== openId || !body || typeof body.conversation !== 'object' || !body.conversation) return;
    if (n <= convApplied) return; // an older answer arrived late, or one from before a reset
    convApplied = n;
    conv = body.conversation;

    renderHeading();
    addMessages(body.messages);
    var escalations = Array.isArray(body.escalations) ? body.escalations : [];
    if (!same(escalations, shown.escalations)) renderEscalations(escalations);
    var order = body.order && typeof body.order === 'object' ? body.order : null;
    if (!same(order, shown.order)) renderOrder(order);
    var notes = Array.isArray(body.notes) ? body.notes : [];
    if (!same(notes, shown.notes)) renderNotes(notes);
    var canned = Array.isArray(body.canned_replies) ? body.canned_replies : [];
    if (!same(canned, shown.canned)) renderCanned(canned);
    renderStatus(escalations);
    updateControls();
  }

  function shopperLabel() {
    return (conv && (str(conv.shopper_name) || str(conv.shopper_email))) || 'Shopper';
  }

  function renderHeading() {
    var name = conv.shopper_name ? str(conv.shopper_name) : conv.shopper_email ? str(conv.shopper_email) : 'Anonymous shopper';
    ui.convHeading.textContent = name;
    var meta = [];
    if (conv.shopper_name && conv.shopper_email) meta.push(str(conv.shopper_email));
    else if (!conv.shopper_email) meta.push('Not signed in at the store');
    meta.push(str(conv.store_name) || str(conv.store_id));
    ui.convMeta.textContent = meta.filter(Boolean).join(' · ');
  }

  function setStatus(state, text) {
    ui.convStatus.setAttribute('data-state', state);
    ui.convStatus.textContent = text;
  }

  function renderStatus(escalations) {
    if (isMine(conv)) {
      setStatus('mine', 'You are handling this conversation');
    } else if (conv.handled_by) {
      setStatus('other', 'Handled by ' + (str(conv.handled_by.name) || 'another agent'));
    } else {
      var pending = escalations.some(function (e) {
        return e && (e.status === 'open' || e.status === 'claimed');
      });
      // Nobody handles it and nothing is pending: the bot has it (handed back, or resolved).
      if (pending || !escalations.length) setStatus('waiting', 'Waiting for a person');
      else setStatus('bot', 'The assistant is handling this conversation');
    }
  }

  /** Which buttons work follows who handles the conversation, and whether a request is in flight. */
  function updateControls() {
    var loaded = !!conv;
    var mine = loaded && isMine(conv);
    var handled = loaded && !!conv.handled_by;
    ui.claim.disabled = !loaded || handled || actionBusy;
    ui.handback.disabled = !mine || actionBusy;
    ui.resolve.disabled = !mine || actionBusy;

    ui.replyText.disabled = !mine;
    ui.replyText.readOnly = sending; // what is being sent must not change under us
    ui.replyText.setAttribute('placeholder', mine ? 'Write a reply to the shopper…' : 'Claim this conversation to reply.');
    ui.replySend.disabled = !mine || sending;
    ui.canned.disabled = !mine || ui.canned.options.length < 2;

    ui.noteText.disabled = !loaded;
    ui.noteText.readOnly = savingNote;
    ui.noteSave.disabled = !loaded || savingNote;
  }

  // ------------------------------------------------------------ messages --

  function normaliseMessage(m) {
    if (!m || typeof m !== 'object') return null;
    var seq = Number(m.seq);
    if (!isFinite(seq)) return null;
    return {
      seq: seq,
      sender: Object.prototype.hasOwnProperty.call(SENDER_CLASS, m.sender) ? m.sender : 'bot',
      author: str(m.author),
      text: str(m.text),
      buttons: Array.isArray(m.buttons) ? m.buttons.filter(function (b) { return b && b.title; }) : [],
      attachment: m.attachment && typeof m.attachment === 'object' ? m.attachment : null,
      created_at: m.created_at
    };
  }

  function senderLabel(m) {
    if (m.sender === 'shopper') return shopperLabel();
    if (m.sender === 'agent') return m.author || 'Agent';
    if (m.sender === 'store') return m.author || (conv && str(conv.store_name)) || 'Store';
    return 'Assistant';
  }

  function filenameOf(url) {
    var parts = url.pathname.split('/');
    var last = parts[parts.length - 1] || '';
    try {
      last = decodeURIComponent(last);
    } catch (e) { /* keep it encoded */ }
    return last || url.hostname;
  }

  function renderAttachment(a) {
    var kind = ATTACHMENT_LABEL[a.type] ? a.type : 'link';
    var title = str(a.title).trim();
    var box = el('div', 'att att--' + kind, { 'data-testid': 'agent-attachment', 'data-type': kind });
    box.appendChild(el('span', 'att-kind', null, ATTACHMENT_LABEL[kind]));
    var url = safeUrl(a.url);
    if (url) {
      box.appendChild(externalLink(url, title || filenameOf(url), 'att-link'));
      box.appendChild(el('span', 'att-host', null, url.hostname));
    } else {
      // Not http(s) (javascript:, data:, garbage): show it inert so the agent knows what the shopper saw.
      box.appendChild(el('span', 'att-title', null, title || 'Attachment'));
      if (a.url) box.appendChild(el('span', 'att-raw', null, '(link not opened: ' + str(a.url).slice(0, 200) + ')'));
    }
    return box;
  }

  function renderMessage(m) {
    var node = el('div', 'msg msg--' + m.sender, {
      'data-testid': 'agent-message',
      'data-sender': m.sender,
      'data-seq': String(m.seq)
    });
    var head = el('div', 'msg-head');
    head.appendChild(el('span', 'msg-author', { 'data-testid': 'agent-message-author' }, senderLabel(m)));
    if (m.sender === 'agent') head.appendChild(el('span', 'msg-role', null, 'Agent'));
    if (m.created_at) head.appendChild(timeEl(m.created_at, 'msg-time'));
    node.appendChild(head);

    if (m.text) {
      var bubble = el('div', 'msg-text', { 'data-testid': 'agent-message-text' });
      // Links in the shopper's own words stay plain text: an agent should copy, not click, what a stranger typed.
      if (m.sender === 'shopper') bubble.textContent = m.text;
      else appendLinkified(bubble, m.text);
      node.appendChild(bubble);
    }
    if (m.attachment) node.appendChild(renderAttachment(m.attachment));
    if (m.buttons.length) {
      // What the shopper was offered, for context: not clickable here.
      var chips = el('ul', 'chips', { 'aria-label': 'Buttons offered to the shopper' });
      m.buttons.forEach(function (b) {
        chips.appendChild(el('li', 'chip', { 'data-testid': 'agent-message-button', title: b.payload ? str(b.payload) : null }, str(b.title)));
      });
      node.appendChild(chips);
    }
    return node;
  }

  function nearBottom() {
    var t = ui.transcript;
    return t.scrollHeight - t.scrollTop - t.clientHeight < 60;
  }

  function scrollToBottom() {
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
    ui.jump.hidden = true;
  }

  /** Add the messages not shown yet, in seq order, without disturbing what the agent is reading. */
  function addMessages(list, forceScroll) {
    if (!Array.isArray(list)) return;
    var first = !ui.transcript.firstChild;
    var stick = first || forceScroll || nearBottom();
    var added = 0;
    if (first) ui.transcript.setAttribute('aria-busy', 'true'); // the history is not news: don't read it all out
    list
      .map(normaliseMessage)
      .filter(Boolean)
      .sort(function (a, b) { return a.seq - b.seq; })
      .forEach(function (m) {
        if (seen[m.seq]) return;
        seen[m.seq] = true;
        var node = renderMessage(m);
        // Usually the end; an earlier seq (a late write) goes where it belongs.
        var ref = null;
        var child = ui.transcript.lastElementChild;
        while (child && Number(child.getAttribute('data-seq')) > m.seq) {
          ref = child;
          child = child.previousElementSibling;
        }
        ui.transcript.insertBefore(node, ref);
        added++;
      });
    if (first) ui.transcript.setAttribute('aria-busy', 'false');
    if (!added) return;
    if (stick) scrollToBottom();
    else ui.jump.hidden = false; // the agent scrolled up to read: say there is more, don't yank them down
  }

  ui.jump.addEventListener('click', function () {
    scrollToBottom();
    focusQuietly(ui.transcript);
  });

  ui.transcript.addEventListener('scroll', function () {
    if (!ui.jump.hidden && nearBottom()) ui.jump.hidden = true;
  }, { passive: true });

  // ------------------------------------------------------------- actions --

  function conversationAction(kind) {
    var cid = openId;
    if (!cid || actionBusy) return;
    actionBusy = true;
    updateControls();
    var n = ++convRequests;
    post(convPath(cid, '/' + kind), {}).then(function (r) {
      actionBusy = false;
      if (r.status === 401) {
        sessionEnded();
        return;
      }
      if (cid !== openId) {
        if (!r.ok) failed(r);
        else refreshQueue();
        return;
      }
      if (r.ok) {
        clearError();
        if (r.data && r.data.conversation) applyConversation(r.data, cid, n);
        else fetchConversation(cid);
        refreshQueue();
        updateControls();
        // Claiming is for replying; after hand back/resolve the buttons went grey, so focus the heading.
        focusQuietly(kind === 'claim' && !ui.replyText.disabled ? ui.replyText : ui.convHeading);
        return;
      }
      updateControls();
      failed(r);
      // 409 and friends: someone else got there first; show the state as it now is.
      fetchConversation(cid);
      refreshQueue();
    });
  }

  ui.claim.addEventListener('click', function () {
    conversationAction('claim');
  });
  ui.handback.addEventListener('click', function () {
    conversationAction('handback');
  });
  ui.resolve.addEventListener('click', function () {
    conversationAction('resolve');
  });

  // --------------------------------------------------------------- reply --

  function updateCounter() {
    var n = ui.replyText.value.length;
    ui.replyCounter.textContent = thousands(n) + ' / ' + thousands(MAX_REPLY);
    ui.replyCounter.classList.toggle('is-near', n >= REPLY_WARN_FROM && n < MAX_REPLY);
    ui.replyCounter.classList.toggle('is-full', n >= MAX_REPLY);
  }

  function sendReply() {
    var cid = openId;
    if (!cid || sending || ui.replyText.disabled) return;
    var text = ui.replyText.value.trim();
    if (!text) {
      focusQuietly(ui.replyText);
      return;
    }
    if (text.length > MAX_REPLY) {
      showError('A reply can be at most ' + thousands(MAX_REPLY) + ' characters.');
      return;
    }
    sending = true;
    updateControls();
    post(convPath(cid, '/messages'), { text: text }).then(function (r) {
      sending = false;
      if (cid === openId) {
        if (r.ok) {
          clearError();
          ui.replyText.value = '';
          replyDrafts[cid] = '';
          updateCounter();
          if (r.data && r.data.message) addMessages([r.data.message], true);
          else fetchConversation(cid);
        } else {
          // The text stays in the box so nothing typed is lost.
          failed(r);
          if (r.status === 409) fetchConversation(cid);
        }
        updateControls();
        if (!ui.replyText.disabled) focusQuietly(ui.replyText);
      } else if (r.ok) {
        replyDrafts[cid] = ''; // sent from a conversation the agent has since left
      } else {
        failed(r);
      }
    });
  }

  ui.replyForm.addEventListener('submit', function (e) {
    e.preventDefault();
    sendReply();
  });

  ui.replyText.addEventListener('keydown', function (e) {
    // Enter sends, Shift+Enter is a new line; not while an IME is composing a character.
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      sendReply();
    }
  });

  ui.replyText.addEventListener('input', function () {
    updateCounter();
    if (openId) replyDrafts[openId] = ui.replyText.value;
  });

  // ------------------------------------------------------ canned replies --

  function renderCanned(list) {
    shown.canned = list;
    while (ui.canned.options.length > 1) ui.canned.remove(1);
    list.forEach(function (c) {
      if (!c || typeof c !== 'object' || !c.text) return;
      var option = el('option', null, { value: str(c.id), title: str(c.text).slice(0, 300) }, str(c.title) || str(c.text).slice(0, 60));
      ui.canned.appendChild(option);
    });
    ui.canned.value = '';
    updateControls();
  }

  ui.canned.addEventListener('change', function () {
    var id = ui.canned.value;
    ui.canned.value = ''; // back to the prompt, so the same reply can be picked twice
    if (!id || !shown.canned) return;
    var reply = null;
    shown.canned.forEach(function (c) {
      if (c && str(c.id) === id) reply = c;
    });
    if (!reply || ui.replyText.disabled) return;
    insertIntoReply(str(reply.text));
  });

  /** Put text at the cursor (replacing any selection); the agent reviews it and sends it themselves. */
  function insertIntoReply(text) {
    var box = ui.replyText;
    var value = box.value;
    var start = typeof box.selectionStart === 'number' ? box.selectionStart : value.length;
    var end = typeof box.selectionEnd === 'number' ? box.selectionEnd : value.length;
    if (doc.activeElement !== box && start === 0 && end === 0) start = end = value.length; // never focused: append
    var before = value.slice(0, start);
    var insert = before && !/\s$/.test(before) ? ' ' + text : text;
    var next = before + insert + value.slice(end);
    if (next.length > MAX_REPLY) {
      showError('That canned reply does not fit: a reply can be at most ' + thousands(MAX_REPLY) + ' characters.');
      return;
    }
    box.value = next;
    var caret = before.length + insert.length;
    focusQuietly(box);
    try {
      box.setSelectionRange(caret, caret);
    } catch (e) { /* ignore */ }
    if (openId) replyDrafts[openId] = box.value;
    updateCounter();
  }

  // ---------------------------------------------------------- side panes --

  function dl(rows) {
    var list = el('dl', 'kv');
    rows.forEach(function (row) {
      if (!row[1]) return;
      list.appendChild(el('dt', null, null, row[0]));
      var dd = el('dd');
      if (row[1].nodeType) dd.appendChild(row[1]);
      else dd.textContent = row[1];
      list.appendChild(dd);
    });
    return list;
  }

  function statusPill(value) {
    var key = str(value).toLowerCase().replace(/[^a-z]/g, '');
    return el('span', 'pill pill--' + (key || 'unknown'), null, humanize(value) || 'Unknown');
  }

  function renderOrder(order) {
    shown.order = order;
    clear(ui.order);
    if (!order) {
      ui.order.appendChild(el('p', 'empty empty-small', { 'data-testid': 'agent-order-none' }, 'No order linked'));
      return;
    }
    var head = el('div', 'order-head');
    head.appendChild(el('span', 'order-number', { 'data-testid': 'agent-order-number' }, str(order.order_number)));
    if (order.status) head.appendChild(statusPill(order.status));
    ui.order.appendChild(head);
    ui.order.appendChild(dl([
      ['Placed', formatDate(order.placed_at)],
      ['Customer', str(order.shopper_name)]
    ]));

    var items = Array.isArray(order.items) ? order.items : [];
    if (items.length) {
      ui.order.appendChild(el('h3', 'sub-title', null, 'Items'));
      var ul = el('ul', 'items');
      items.forEach(function (it) {
        if (!it || typeof it !== 'object') return;
        var li = el('li', 'item', { 'data-testid': 'agent-order-item' });
        li.appendChild(el('span', 'item-qty', null, num(it.quantity) + ' ×'));
        li.appendChild(el('span', 'item-name', null, str(it.name) || str(it.sku)));
        if (it.sku) li.appendChild(el('span', 'item-sku', null, str(it.sku)));
        ul.appendChild(li);
      });
      ui.order.appendChild(ul);
    }

    var shipments = Array.isArray(order.shipments) ? order.shipments : [];
    ui.order.appendChild(el('h3', 'sub-title', null, shipments.length > 1 ? 'Shipments' : 'Shipment'));
    if (!shipments.length) ui.order.appendChild(el('p', 'empty empty-small', null, 'Not shipped yet.'));
    shipments.forEach(function (s) {
      if (s && typeof s === 'object') ui.order.appendChild(renderShipment(s));
    });
  }

  function renderShipment(s) {
    var box = el('div', 'shipment', { 'data-testid': 'agent-shipment' });
    var head = el('div', 'shipment-head');
    head.appendChild(el('span', 'shipment-carrier', null, str(s.carrier) || 'Carrier'));
    if (s.status) head.appendChild(statusPill(s.status));
    box.appendChild(head);

    var tracking = null;
    if (s.tracking_number) {
      var url = safeUrl(s.tracking_url);
      tracking = url ? externalLink(url, str(s.tracking_number), 'tracking-link') : el('span', 'mono', null, str(s.tracking_number));
    }
    box.appendChild(dl([
      ['Tracking', tracking],
      ['Delivered', s.delivered_at ? formatTime(s.delivered_at) : ''],
      ['Expected', !s.delivered_at && s.estimated_delivery ? formatDate(s.estimated_delivery) : '']
    ]));

    var events = Array.isArray(s.events) ? s.events.filter(function (e) { return e && typeof e === 'object'; }) : [];
    if (events.length) {
      // Newest first: the latest scan is what the shopper is asking about.
      events = events.slice().sort(function (a, b) {
        var da = parseDate(a.occurred_at);
        var db = parseDate(b.occurred_at);
        return (db ? db.getTime() : 0) - (da ? da.getTime() : 0);
      });
      var ol = el('ol', 'timeline', { 'aria-label': 'Tracking events, newest first', 'data-testid': 'agent-tracking-events' });
      events.forEach(function (ev, i) {
        var li = el('li', 'tl-item' + (i === 0 ? ' is-latest' : ''), { 'data-testid': 'agent-tracking-event' });
        var top = el('div', 'tl-top');
        if (ev.occurred_at) top.appendChild(timeEl(ev.occurred_at, 'tl-time'));
        if (ev.tag) top.appendChild(el('span', 'tl-tag', null, humanize(ev.tag)));
        li.appendChild(top);
        if (ev.message) li.appendChild(el('div', 'tl-message', null, str(ev.message)));
        if (ev.location) li.appendChild(el('div', 'tl-location', null, str(ev.location)));
        ol.appendChild(li);
      });
      box.appendChild(ol);
    } else {
      box.appendChild(el('p', 'empty empty-small', null, 'No tracking events yet.'));
    }
    return box;
  }

  function renderEscalations(list) {
    shown.escalations = list;
    clear(ui.escalations);
    if (!list.length) {
      ui.escalations.appendChild(el('li', 'empty empty-small', null, 'None.'));
      return;
    }
    // Newest first: the current one on top, closed ones below for history.
    list.slice().reverse().forEach(function (e) {
      if (!e || typeof e !== 'object') return;
      var priority = PRIORITY_LABEL[e.priority] ? e.priority : 'normal';
      var status = str(e.status);
      var li = el('li', 'esc esc--' + (status || 'open'), {
        'data-testid': 'agent-escalation',
        'data-status': status,
        'data-priority': priority
      });
      var top = el('div', 'esc-top');
      top.appendChild(el('span', 'badge badge--' + priority, null, PRIORITY_LABEL[priority]));
      top.appendChild(el('span', 'esc-reason', null, str(e.reason_title) || humanize(e.reason)));
      top.appendChild(el('span', 'esc-status', null, ESCALATION_STATUS[status] || humanize(status)));
      li.appendChild(top);
      if (e.summary) li.appendChild(el('p', 'esc-summary', null, str(e.summary)));
      var meta = [str(e.reference)];
      if (e.order_number) meta.push('Order ' + str(e.order_number));
      if (e.claimed_by && e.claimed_by.name) meta.push('Claimed by ' + str(e.claimed_by.name));
      var metaLine = el('p', 'esc-meta', null, meta.filter(Boolean).join(' · '));
      if (e.created_at) {
        if (metaLine.textContent) metaLine.appendChild(doc.createTextNode(' · '));
        metaLine.appendChild(timeEl(e.created_at, null));
      }
      li.appendChild(metaLine);
      ui.escalations.appendChild(li);
    });
  }

  function renderNote(n) {
    var li = el('li', 'note', { 'data-testid': 'agent-note', 'data-note-id': str(n.id) });
    var head = el('div', 'note-head');
    head.appendChild(el('span', 'note-author', null, str(n.author) || 'Agent'));
    if (n.created_at) head.appendChild(timeEl(n.created_at, 'note-time'));
    li.appendChild(head);
    li.appendChild(el('p', 'note-text', null, str(n.text)));
    return li;
  }

  function renderNotes(list) {
    shown.notes = list;
    clear(ui.notesList);
    list.forEach(function (n) {
      if (n && typeof n === 'object') ui.notesList.appendChild(renderNote(n));
    });
    ui.notesEmpty.hidden = ui.notesList.children.length > 0;
  }

  ui.noteForm.addEventListener('submit', function (e) {
    e.preventDefault();
    var cid = openId;
    if (!cid || savingNote || !conv) return;
    var text = ui.noteText.value.trim();
    if (!text) {
      focusQuietly(ui.noteText);
      return;
    }
    if (text.length > MAX_NOTE) {
      showError('A note can be at most ' + thousands(MAX_NOTE) + ' characters.');
      return;
    }
    savingNote = true;
    updateControls();
    post(convPath(cid, '/notes'), { text: text }).then(function (r) {
      savingNote = false;
      if (cid === openId) {
        if (r.ok) {
          clearError();
          ui.noteText.value = '';
          noteDrafts[cid] = '';
          var note = r.data && r.data.note;
          var notes = (shown.notes || []).slice();
          if (note && typeof note === 'object' && !notes.some(function (x) { return x && note.id != null && x.id === note.id; })) {
            notes.push(note);
            renderNotes(notes);
          } else if (!note) {
            fetchConversation(cid);
          }
        } else {
          failed(r); // the note stays in the box
        }
        updateControls();
      } else if (r.ok) {
        noteDrafts[cid] = '';
      } else {
        failed(r);
      }
    });
  });

  ui.noteText.addEventListener('input', function () {
    if (openId) noteDrafts[openId] = ui.noteText.value;
  });

  // --------------------------------------------------------- invitations --
  // A team invitation link is /agent#invitation=TOKEN: the token rides in the fragment (never sent
  // to a server, so no log holds it), is taken out of the address at once and kept for this page.
  // Signed out, the person answers it with a password (a new one, or their existing account's);
  // signed in, they accept it. Only the link accepts: seeing an invitation is not enough.

  var invite = { token: null, mine: [], notice: '', busy: false };
  var ROLE_LABEL = { agent: 'Support agent', seller_admin: 'Seller admin' };
  var NO_INVITATION = 'This invitation link does not work: it was used, withdrawn or declined, or it expired.';

  function takeInvitationToken() {
    var m = /^#invitation=([A-Za-z0-9_-]{20,200})$/.exec(win.location.hash || '');
    if (!m) return false;
    invite.token = m[1];
    setHash(null);
    return true;
  }

  function roleLabel(role) {
    return ROLE_LABEL[role] || str(role);
  }

  /** Signed out with a link: what it invites to, and the password form. */
  function showJoin() {
    api('POST', '/invitation', { token: invite.token }).then(function (r) {
      showLogin();
      if (r.status === 404) {
        invite.token = null;
        showError(NO_INVITATION);
        return;
      }
      var inv = r.data.invitation;
      if (!r.ok || !inv || typeof inv !== 'object') {
        showError(errorMessage(r));
        return;
      }
      $('join-text').textContent = str(inv.store && inv.store.name) + ' invites ' + str(inv.email) + ' to join as ' + roleLabel(inv.role) + '.';
      $('join-name').value = str(inv.name);
      ui.loginForm.hidden = true;
      $('join-form').hidden = false;
      focusQuietly($('join-password'));
    });
  }

  function showSignInForm() {
    $('join-form').hidden = true;
    ui.loginForm.hidden = false;
  }

  $('join-form').addEventListener('submit', function (e) {
    e.preventDefault();
    if (invite.busy || !invite.token) return;
    var password = $('join-password').value;
    if (password.length < 10) {
      showError('The password needs at least 10 characters.');
      focusQuietly($('join-password'));
      return;
    }
    invite.busy = true;
    $('join-submit').disabled = true;
    api('POST', '/join', { token: invite.token, password: password, name: $('join-name').value.trim() }).then(function (r) {
      invite.busy = false;
      $('join-submit').disabled = false;
      if (r.ok && acceptMe(r.data)) {
        $('join-password').value = '';
        invite.token = null;
        showSignInForm();
        clearError();
        startConsole();
        return;
      }
      if (r.status === 404) {
        invite.token = null;
        showSignInForm();
        showError(NO_INVITATION);
      } else if (r.status === 401) {
        showError('This email already has an account, and that is not its password.');
      } else if (r.status === 403) {
        refreshLoginToken().then(function () { showError(errorMessage(r, 'login')); });
      } else {
        showError(errorMessage(r, 'login'));
      }
    });
  });

  $('join-sign-in').addEventListener('click', function () {
    showSignInForm();
    focusQuietly(ui.loginEmail);
  });

  function loadMyInvitations() {
    return api('GET', '/invitations').then(function (r) {
      if (!r.ok) return;
      invite.mine = Array.isArray(r.data.invitations) ? r.data.invitations.filter(function (i) { return i && typeof i === 'object'; }) : [];
      renderMyInvitations();
    });
  }

  function renderMyInvitations() {
    var list = $('my-invites-list');
    clear(list);
    if (invite.token) {
      var opened = el('li', 'invite', { 'data-testid': 'agent-invite-opened' });
      opened.appendChild(el('span', null, null, 'You opened an invitation link.'));
      var accept = el('button', 'btn btn-primary btn-small', { type: 'button', 'data-testid': 'agent-invite-accept' }, 'Accept');
      accept.disabled = invite.busy;
      accept.addEventListener('click', acceptInvitation);
      opened.appendChild(accept);
      list.appendChild(opened);
    }
    invite.mine.forEach(function (inv) {
      var item = el('li', 'invite', { 'data-testid': 'agent-invite' });
      item.appendChild(el('span', null, null,
        str(inv.store && inv.store.name) + ' invites you as ' + roleLabel(inv.role) + ' (from ' + str(inv.invited_by) + ').'));
      var decline = el('button', 'btn btn-small', { type: 'button', 'data-testid': 'agent-invite-decline' }, 'Decline');
      decline.disabled = invite.busy;
      decline.addEventListener('click', function () { declineInvitation(inv); });
      item.appendChild(decline);
      list.appendChild(item);
    });
    if (invite.mine.length && !invite.token) list.appendChild(el('li', 'invite-hint', null, 'To accept, open the invitation link the store sent you.'));
    $('my-invites-status').textContent = invite.notice;
    $('my-invites').hidden = !invite.token && !invite.mine.length && !invite.notice;
  }

  function acceptInvitation() {
    if (invite.busy || !invite.token) return;
    invite.busy = true;
    renderMyInvitations();
    post('/invitations/accept', { token: invite.token }).then(function (r) {
      invite.busy = false;
      if (r.status === 404) {
        invite.token = null;
        invite.notice = 'This invitation link does not work for you: it was used, withdrawn or declined, it expired, or it is for another email.';
        renderMyInvitations();
        return;
      }
      if (!r.ok || !acceptMe(r.data)) {
        renderMyInvitations();
        failed(r);
        return;
      }
      invite.token = null;
      var inv = r.data.accepted || {};
      invite.notice = 'You joined ' + str(inv.store && inv.store.name) + ' as ' + roleLabel(inv.role) + '.';
      startConsole(); // the new store's queue and live feed
    });
  }

  function declineInvitation(inv) {
    if (invite.busy) return;
    invite.busy = true;
    renderMyInvitations();
    post('/invitations/' + encodeURIComponent(num(inv.id)) + '/decline', {}).then(function (r) {
      invite.busy = false;
      if (!r.ok) {
        renderMyInvitations();
        failed(r);
        return;
      }
      invite.notice = 'Invitation declined.';
      loadMyInvitations();
    });
  }

  win.addEventListener('hashchange', function () {
    // A link pasted into a console already open.
    if (!takeInvitationToken()) return;
    invite.notice = '';
    if (view === 'console') renderMyInvitations();
    else showJoin();
  });

  // ---------------------------------------------------------------- boot --

  function boot() {
    updateCounter();
    takeInvitationToken();
    api('GET', '/me').then(function (r) {
      if (r.ok && acceptMe(r.data)) {
        startConsole();
        return;
      }
      if (invite.token) {
        showJoin();
        return;
      }
      showLogin();
      // 401 is the normal "not signed in"; anything else the agent should know about.
      if (r.status !== 401) showError(errorMessage(r));
    });
  }

  boot();
})();
