/**
 * The live feed: server-sent events say when the queue or the open conversation
 * changed, and the console fetches them again. Reconnects with backoff, and the
 * connection indicator says whether what the agent sees is live.
 */
import { t } from '../shared/i18n.js';
import { EVENTS_URL, request } from './api.js';
import { fetchConversation } from './conversation.js';
import { ui } from './page.js';
import { refreshQueue } from './queue.js';
import { sessionEnded } from './session.js';
import { acceptMe, current, session } from './state.js';

const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;
const CONNECTION_TEXT = { live: 'connection.live', connecting: 'connection.connecting', offline: 'connection.offline' };

let events = null; // EventSource
let reconnectTimer = null;
let reconnectDelay = RECONNECT_MIN_MS;

function setConnection(state) {
  ui.connection.setAttribute('data-state', state);
  // data-i18n: a language switch re-labels it with the rest of the page.
  ui.connectionText.setAttribute('data-i18n', CONNECTION_TEXT[state]);
  ui.connectionText.textContent = t(CONNECTION_TEXT[state]);
}

export function connectEvents() {
  closeEvents();
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (typeof window.EventSource !== 'function') {
    setConnection('offline'); // the 30 s queue refresh still works
    return;
  }
  setConnection('connecting');
  const es = new window.EventSource(EVENTS_URL); // same origin: the session cookie goes along
  events = es;
  es.onopen = function () {
    if (events !== es) return;
    setConnection('live');
    reconnectDelay = RECONNECT_MIN_MS;
    // Whatever happened while we were not listening: catch up once.
    refreshQueue();
    if (current.id) fetchConversation(current.id);
  };
  es.addEventListener('queue', () => {
    if (events === es) refreshQueue();
  });
  es.addEventListener('conversation', (ev) => {
    if (events !== es) return;
    let data = null;
    try {
      data = JSON.parse(ev.data);
    } catch (e) { /* ignore a malformed event */ }
    if (data && current.id && data.conversation_id === current.id) fetchConversation(current.id);
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
    request('GET', '/me').then((r) => {
      if (session.view !== 'console') return;
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
  // A feed opened meanwhile (the browser came back online while /me was asked) is not torn down again.
  if (events || reconnectTimer || session.view !== 'console') return;
  const delay = reconnectDelay;
  reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
  reconnectTimer = setTimeout(() => {
    reconnectTimer = null;
    if (session.view === 'console') connectEvents();
  }, delay);
}

function closeEvents() {
  if (!events) return;
  const es = events;
  events = null;
  es.onopen = es.onerror = null;
  es.close();
}

export function stopLive() {
  closeEvents();
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  reconnectDelay = RECONNECT_MIN_MS;
}

export function initLive() {
  window.addEventListener('online', () => {
    if (session.view !== 'console') return;
    reconnectDelay = RECONNECT_MIN_MS;
    if (!events) connectEvents();
    refreshQueue();
  });
  document.addEventListener('visibilitychange', () => {
    // Timers are throttled in background tabs: bring the queue up to date on return.
    if (!document.hidden && session.view === 'console') refreshQueue();
  });
}
