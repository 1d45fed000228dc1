/**
 * What the support console's modules share: who is signed in, which screen
 * shows, which conversation is open, what is in flight, and the drafts.
 * One object per concern; each module owns the rest of its state itself.
 */

/** The signed-in agent ({id, email, name, stores}) and the session's CSRF token; view is boot | login | console.
 *  limits: the server's, in characters ({replyChars, noteChars}), sent with the account; 0 while unknown. */
export const session = { me: null, csrfToken: '', view: 'boot', limits: { replyChars: 0, noteChars: 0 } };

/** The conversation in the main pane: its id and its last body from the server. */
export const current = { id: null, conv: null };

/** Requests whose buttons stay disabled until they end. */
export const busy = { action: false, sending: false, savingNote: false, photo: false };

/**
 * Typed text outlives re-renders, switching conversations and even a lapsed
 * session; it belongs to one agent (owner), so another person signing in on
 * this browser starts clean.
 */
export const drafts = { owner: null, reply: {}, note: {} };

/** Take the /me, /login or /join answer; false when it is not a signed-in agent. */
export function acceptMe(data) {
  const agent = data && data.agent;
  if (!agent || typeof agent !== 'object' || typeof data.csrf_token !== 'string' || !data.csrf_token) return false;
  session.me = {
    id: agent.id,
    email: str(agent.email),
    name: str(agent.name) || str(agent.email),
    stores: Array.isArray(agent.stores) ? agent.stores.filter((s) => s && typeof s === 'object') : []
  };
  session.csrfToken = data.csrf_token;
  const limits = data.limits && typeof data.limits === 'object' ? data.limits : {};
  session.limits = { replyChars: num(limits.reply_chars), noteChars: num(limits.note_chars) };
  return true;
}

export function str(v) {
  return typeof v === 'string' ? v : v == null ? '' : String(v);
}

export function num(v) {
  const n = Number(v);
  return isFinite(n) ? n : 0;
}
