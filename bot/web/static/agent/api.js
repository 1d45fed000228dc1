/**
 * The agent console's calls to /agent/api (through the shared ConsoleApi), and
 * what to tell the agent when one fails, in the console's language.
 */
import { ConsoleApi, retryAfter } from '../shared/console-api.js';
import { count, language, t } from '../shared/i18n.js';
import { refusalText } from '../shared/refusals.js';
import { acceptMe, session } from './state.js';

const api = new ConsoleApi('/agent');
// A stale CSRF token (the server rotated it) is replaced from /me by the shared client: the agent's state takes it too.
api.renewed = acceptMe;

export const EVENTS_URL = api.base + '/events';

/** One call; resolves (never rejects) with {status, ok, data, headers}; status 0 means the network failed. */
export function request(method, path, body) {
  api.csrf = session.csrfToken;
  return api.request(method, path, body);
}

/** A state-changing call (a stale CSRF token is renewed and the call sent again by the shared client). */
export function post(path, body) {
  return request('POST', path, body);
}

/** A file as the raw body (an image the agent sends), with the session's CSRF token. */
export function upload(path, blob) {
  api.csrf = session.csrfToken;
  return api.upload(path, blob, blob.type || 'application/octet-stream');
}

/** A call made signed out (sign-in, an invitation link): it carries the page's login token. */
export function signedOutPost(path, body) {
  return api.loginForm(path, body);
}

/**
 * The login token is a double-submit pair: the meta tag and an HttpOnly cookie
 * the server sets with the page, and deletes when a login succeeds. Signing in
 * again after a session ended therefore needs a fresh pair from a re-fetched page.
 */
export function refreshLoginToken() {
  return api.refreshLoginToken();
}

/**
 * What to tell the agent: a refusal in the console's language, by its code (a code this console
 * has no text for: the server's English as it is). Without a code (no network, a proxy's error
 * page) the status says what happened, except in English when the answer says it itself.
 */
export function errorMessage(r, context) {
  const coded = typeof r.data.code === 'string' && r.data.code !== '';
  const text = coded || language() === 'en' ? refusalText(r.data).trim().slice(0, 300) : '';
  if (r.status === 429) {
    const wait = retryAfter(r);
    const said = text || t('error.tooMany');
    // Only add the wait when the text does not already say it.
    if (!wait || /\d/.test(said)) return said;
    const retry = wait === 1 ? t('error.retryIn.one') : t('error.retryIn.many', { s: count(wait) });
    return said + (language() === 'en' ? ' ' : '') + retry;
  }
  if (text) return text;
  switch (r.status) {
    case 0: return t('error.network');
    case 401: return t(context === 'login' ? 'error.loginWrong' : 'error.session');
    case 403: return t(context === 'login' ? 'error.loginExpired' : 'error.forbidden');
    case 404: return t('error.notFound');
    case 409: return t('error.conflict');
    case 413: return t('error.tooLong');
    case 502: return t('error.engine');
    default: return t('error.server', { status: r.status });
  }
}
