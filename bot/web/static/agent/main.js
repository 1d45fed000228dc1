/**
 * Support console: the page store staff use to take over conversations from
 * the assistant, in English or Simplified Chinese. No dependencies, no build
 * step; agent.html holds the static skeleton, these modules fill it from the
 * JSON API under /agent/api.
 *
 * Safety: the page is served with a strict CSP (no inline script or style).
 * Text from shoppers, the bot, other agents and the order data only ever
 * reaches the page through textContent, text nodes and setAttribute on
 * harmless attributes; links are built only from URLs that safeUrl() accepted
 * as http(s). Nothing here parses a string as HTML, and nothing the shopper
 * wrote is ever translated.
 */
import { applyTexts, chooseLanguage, language, loadTexts } from '../shared/i18n.js';
import { loadRefusals } from '../shared/refusals.js';
import { errorMessage, request } from './api.js';
import { initCannedReplies } from './canned-replies.js';
import { initComposer, updateCounter } from './composer.js';
import { initPhotoTools } from './photos.js';
import { initConversation, relabelConversation } from './conversation.js';
import { hasInvitationToken, initInvitations, renderMyInvitations, showJoin, takeInvitationToken } from './invitations.js';
import { initLive } from './live.js';
import { initNotes } from './notes.js';
import { initPage, showError, ui } from './page.js';
import { initQueue, renderQueue } from './queue.js';
import { initSession, renderWho, showLogin, startConsole } from './session.js';
import { acceptMe, session } from './state.js';
import { initTranscript } from './transcript.js';

const LANGUAGES = ['en', 'zh-CN'];

function markLanguageButtons() {
  ui.langEn.setAttribute('aria-pressed', String(language() === 'en'));
  ui.langZh.setAttribute('aria-pressed', String(language() === 'zh-CN'));
}

/** Every text the console wrote, in the chosen language; what people wrote stays as it is. */
function setLanguage(name) {
  chooseLanguage(name);
  applyTexts();
  markLanguageButtons();
  updateCounter();
  renderMyInvitations();
  if (session.view === 'console') {
    renderWho();
    renderQueue();
    relabelConversation();
  }
}

function boot() {
  applyTexts();
  markLanguageButtons();
  ui.langEn.addEventListener('click', () => setLanguage('en'));
  ui.langZh.addEventListener('click', () => setLanguage('zh-CN'));
  initPage();
  initSession();
  initInvitations();
  initLive();
  initQueue();
  initConversation();
  initTranscript();
  initComposer();
  initPhotoTools();
  initCannedReplies();
  initNotes();
  updateCounter();
  takeInvitationToken();
  request('GET', '/me').then((r) => {
    if (r.ok && acceptMe(r.data)) {
      startConsole();
      return;
    }
    if (hasInvitationToken()) {
      showJoin();
      return;
    }
    showLogin();
    // 401 is the normal "not signed in"; anything else the agent should know about.
    if (r.status !== 401) showError(errorMessage(r));
  });
}

Promise.all([loadTexts('agent', LANGUAGES), loadRefusals(LANGUAGES)]).then(boot, () => {
  // Without its texts the console cannot speak: say so in both languages, where the spinner was.
  ui.boot.textContent = 'The support console could not load. Reload the page. / 客服控制台加载失败，请刷新页面。';
});
