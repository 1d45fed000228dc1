/**
 * Times, waits and codes as the agent reads them: short times in lists and in
 * full on hover, how long a shopper has waited, and the console's own name for
 * a code the server sends (a reason, a status), in the console's language.
 */
import { el } from '../shared/dom.js';
import { count, hasText, language, t } from '../shared/i18n.js';

/** The text of `prefix + code` when the console has one; else `fallback` (the server's words, or the code made readable). */
export function codeText(prefix, code, fallback) {
  const key = prefix + code;
  return typeof code === 'string' && code && hasText(key) ? t(key) : fallback;
}

export function parseDate(iso) {
  if (typeof iso !== 'string' || !iso) return null;
  const d = new Date(iso);
  return isNaN(d.getTime()) ? null : d;
}

function localeString(d, opts) {
  // English follows the browser's own locale, as it always has; Chinese is written the Chinese way.
  const locale = language() === 'en' ? undefined : language();
  try {
    return d.toLocaleString(locale, opts);
  } catch (e) {
    return d.toLocaleString();
  }
}

/** "14:05" today, "26 Nov, 14:05" otherwise. */
export function formatTime(iso) {
  const d = parseDate(iso);
  if (!d) return '';
  const today = d.toDateString() === new Date().toDateString();
  return localeString(
    d,
    today ? { hour: 'numeric', minute: '2-digit' } : { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' }
  );
}

export function formatDate(iso) {
  const d = parseDate(iso);
  return d ? localeString(d, { year: 'numeric', month: 'short', day: 'numeric' }) : '';
}

function fullTime(iso) {
  const d = parseDate(iso);
  return d ? localeString(d, { dateStyle: 'full', timeStyle: 'short' }) : '';
}

/** A <time> element with the machine date, the short form shown and the full form on hover. */
export function timeEl(iso, cls, text) {
  return el('time', cls, { datetime: iso, title: fullTime(iso) || null }, text != null ? text : formatTime(iso));
}

/** "< 1 min", "4 min", "2 h 5 min", "3 d 4 h": what an agent scans for in a queue. */
export function formatWaiting(seconds) {
  const m = Math.floor(Math.max(0, seconds) / 60);
  if (m < 1) return t('waiting.underMinute');
  if (m < 60) return t('waiting.minutes', { m: count(m) });
  const h = Math.floor(m / 60);
  if (h < 24) {
    return m % 60 ? t('waiting.hoursMinutes', { h: count(h), m: count(m % 60) }) : t('waiting.hours', { h: count(h) });
  }
  const d = Math.floor(h / 24);
  return h % 24 ? t('waiting.daysHours', { d: count(d), h: count(h % 24) }) : t('waiting.days', { d: count(d) });
}

/** "in_transit" / "OutForDelivery" → "In transit" / "Out for delivery": a code with no text of its own. */
export function humanize(value) {
  const s = (typeof value === 'string' ? value : value == null ? '' : String(value))
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : '';
}
