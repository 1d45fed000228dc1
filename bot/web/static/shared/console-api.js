/**
 * Requests to a console's JSON API under /<console>/api, with its session cookie and CSRF token.
 *
 *   const api = new ConsoleApi('/seller')
 *   api.csrf = token                      the session's token, from the sign-in answer ('' when signed out)
 *   api.renewed = fn                      told of the /me answer when a stale token was replaced (optional)
 *   api.request(method, path, body)       JSON in, an Answer out; every change carries X-CSRF-Token
 *   api.upload(path, blob, contentType)   a file as the raw body (a manual as application/pdf)
 *   api.loginForm(path, body)             a POST before signing in (sign-in, invitation links), with the page's login
 *                                         token; refused (403) for a stale one, sent once more with a fresh one
 *   api.refreshLoginToken()               a fresh login token (and its cookie) from a re-fetched page
 *   commonFailure(answer)                 null, or what every screen says alike: {key, values, lapsed}
 *   retryAfter(answer)                    the seconds a throttled (429) request must wait (Retry-After in
 *                                         seconds or as an HTTP date); 0 when the answer does not say
 *
 * An Answer is {status, ok, data, headers}: data is the JSON object ({} when there is none) and
 * status 0 means the server could not be reached. Requests never reject.
 *
 * A change refused because its CSRF token went stale (403 with the code csrf_token_wrong: the server
 * rotated the session's token) is sent once more with the current token, fetched from /me; should /me
 * answer 401, that answer is the change's (the session lapsed). Any other 403 is left to the caller.
 */

const NETWORK_FAILURE = { status: 0, ok: false, data: {}, headers: null };

async function readAnswer(response) {
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  return { status: response.status, ok: response.ok, data: data && typeof data === 'object' ? data : {}, headers: response.headers };
}

function send(url, options) {
  return fetch(url, { credentials: 'same-origin', cache: 'no-store', ...options }).then(readAnswer, () => NETWORK_FAILURE);
}

/** The page's login CSRF token, which the gateway wrote into <meta name="login-csrf">. */
function loginToken() {
  const meta = document.querySelector('meta[name="login-csrf"]');
  return meta ? meta.getAttribute('content') : '';
}

export class ConsoleApi {
  constructor(consolePath) {
    this.page = consolePath;
    this.base = consolePath + '/api';
    this.csrf = '';
    this.renewed = null;
  }

  request(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') headers['Content-Type'] = 'application/json';
    const payload = method === 'GET' ? undefined : JSON.stringify(body || {});
    return this.sendChange(method, path, headers, payload);
  }

  upload(path, blob, contentType) {
    return this.sendChange('POST', path, { Accept: 'application/json', 'Content-Type': contentType }, blob);
  }

  /** A request with the session's token; once more with a fresh token if the server rotated it meanwhile. */
  sendChange(method, path, headers, payload) {
    const attempt = () => send(this.base + path, {
      method, headers: method === 'GET' ? headers : { ...headers, 'X-CSRF-Token': this.csrf }, body: payload
    });
    return attempt().then((answer) => {
      if (method === 'GET' || answer.status !== 403 || answer.data.code !== 'csrf_token_wrong') return answer;
      return send(this.base + '/me', { method: 'GET', headers: { Accept: 'application/json' } }).then((me) => {
        const token = me.ok ? me.data.csrf_token : null;
        if (typeof token !== 'string' || !token) return me.status === 401 ? me : answer;
        this.csrf = token;
        if (this.renewed) this.renewed(me.data);
        return attempt();
      });
    });
  }

  loginForm(path, body) {
    // The token is read for each attempt: the second carries the one the re-fetched page brought.
    const attempt = () => send(this.base + path, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': loginToken() }, body: JSON.stringify(body)
    });
    // A 403 before signing in is a stale login token (the page outlived it, or a login since deleted its cookie).
    return attempt().then((answer) => (answer.status === 403 ? this.refreshLoginToken().then(attempt) : answer));
  }

  /** After a lapsed session or a refused login token: the re-fetched page carries a fresh one on its
   *  <meta name="login-csrf"> line (and sets its cookie). Never rejects: the next sign-in says what failed. */
  refreshLoginToken() {
    return fetch(this.page, { credentials: 'same-origin', cache: 'no-store' }).then((r) => r.text())
      .then((page) => {
        const match = /<meta name="login-csrf" content="([^"]+)">/.exec(page);
        const meta = document.querySelector('meta[name="login-csrf"]');
        if (match && meta) meta.setAttribute('content', match[1]);
      }, () => { /* the login will say */ });
  }
}

/** The failures every screen handles alike: a lapsed session (back to the sign-in), no network,
 *  a stale page (wrong CSRF token), a server error. Null for the rest, which the screen explains. */
export function commonFailure(answer) {
  if (answer.status === 401) return { key: 'error.session', values: null, lapsed: true };
  if (answer.status === 0) return { key: 'error.network', values: null, lapsed: false };
  if (answer.status === 403) return { key: 'error.csrf', values: null, lapsed: false };
  if (answer.status >= 500) return { key: 'error.server', values: { status: answer.status }, lapsed: false };
  return null;
}

export function retryAfter(answer) {
  const header = answer.headers && answer.headers.get('Retry-After');
  if (!header) return 0;
  const seconds = parseInt(header, 10);
  if (isFinite(seconds) && String(seconds) === header.trim()) return Math.max(1, seconds);
  const when = Date.parse(header);
  return isNaN(when) ? 0 : Math.max(1, Math.ceil((when - Date.now()) / 1000));
}
