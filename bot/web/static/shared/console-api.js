/**
 * Requests to a console's JSON API under /<console>/api, with its session cookie and CSRF token.
 *
 *   const api = new ConsoleApi('/seller')
 *   api.csrf = token                      the session's token, from the sign-in answer ('' when signed out)
 *   api.request(method, path, body)       JSON in, an Answer out; every change carries X-CSRF-Token
 *   api.upload(path, blob, contentType)   a file as the raw body (a manual as application/pdf)
 *   api.loginForm(path, body)             a POST before signing in (sign-in, invitation links), with the page's login token
 *   api.refreshLoginToken()               a fresh login token (and its cookie) from a re-fetched page
 *   commonFailure(answer)                 null, or what every screen says alike: {key, values, lapsed}
 *   retryAfter(answer)                    the seconds a throttled (429) request must wait, as text
 *
 * An Answer is {status, ok, data, headers}: data is the JSON object ({} when there is none) and
 * status 0 means the server could not be reached. Requests never reject.
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
  }

  request(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      headers['X-CSRF-Token'] = this.csrf;
    }
    return send(this.base + path, { method, headers, body: method === 'GET' ? undefined : JSON.stringify(body || {}) });
  }

  upload(path, blob, contentType) {
    return send(this.base + path, {
      method: 'POST', headers: { Accept: 'application/json', 'Content-Type': contentType, 'X-CSRF-Token': this.csrf }, body: blob
    });
  }

  loginForm(path, body) {
    return send(this.base + path, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': loginToken() }, body: JSON.stringify(body)
    });
  }

  /** After a lapsed session or a refused login token: the re-fetched page carries a fresh one on its
   *  <meta name="login-csrf"> line (and sets its cookie). Never rejects: the next sign-in says what failed. */
  refreshLoginToken() {
    return fetch(this.page, { credentials: 'same-origin', cache: 'no-store' }).then((r) => r.text())
      .then((page) => {
        const match = /<meta name="login-csrf" content="([^"]+)">/.exec(page);
        if (match) document.querySelector('meta[name="login-csrf"]').setAttribute('content', match[1]);
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
  return (answer.headers && answer.headers.get('Retry-After')) || '60';
}
