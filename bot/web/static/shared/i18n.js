/**
 * A console's texts in the reader's language, from static/i18n/<console>.<language>.json.
 *
 *   await loadTexts(console, languages)  every language's table (the first is the fallback); the choice
 *                                        remembered in localStorage ("<console>-console-lang") becomes current
 *   t(key, values)                       the current language's text, "{name}" filled from values
 *   hasText(key)                         whether the key has a text (in the fallback language)
 *   language()                           the current language, like "zh-CN"
 *   chooseLanguage(language)             makes it current and remembers it; then call applyTexts()
 *   applyTexts(root)                     data-i18n (text), data-i18n-aria-label and data-i18n-title, html lang, title
 *   fillNodes(parent, key, values, plain) a text with data in it: the data marked translate="no", except `plain` names
 *   setStatusKey(node, key)              a status line that follows the language ('' empties it)
 *   count(n, fractionDigits)             a count or an amount in the current language: "12,345" (the one
 *                                        number formatter of both consoles; shared/format.js builds on it)
 *
 * All languages load at the start, so switching is immediate. The texts are the console's own words:
 * data (a shopper's message, a seller's template) is never looked up here.
 */

import { clear, el } from './dom.js';

const tables = {};
let languages = ['en'];
let current = 'en';
let storageKey = '';

function remembered() {
  try { return localStorage.getItem(storageKey); } catch (e) { return null; } // storage blocked: the default
}

export async function loadTexts(consoleName, names) {
  languages = names.slice();
  storageKey = consoleName + '-console-lang';
  await Promise.all(languages.map(async (name) => {
    const url = new URL('../i18n/' + consoleName + '.' + name + '.json', import.meta.url);
    const response = await fetch(url, { credentials: 'same-origin' });
    if (!response.ok) throw new Error('no texts for ' + name + ' (' + response.status + ')');
    tables[name] = await response.json();
  }));
  const chosen = remembered();
  current = languages.indexOf(chosen) >= 0 ? chosen : languages[0];
}

export function fill(text, values) {
  return String(text).replace(/\{(\w+)\}/g, (m, k) => (values && Object.prototype.hasOwnProperty.call(values, k) ? String(values[k]) : m));
}

function lookup(key) {
  const table = tables[current] || {};
  if (Object.prototype.hasOwnProperty.call(table, key)) return table[key];
  const fallback = tables[languages[0]] || {};
  return Object.prototype.hasOwnProperty.call(fallback, key) ? fallback[key] : undefined;
}

export function t(key, values) {
  const text = lookup(key);
  if (text === undefined) return key; // a missing text shows its key: a visible bug, not a blank
  return values ? fill(text, values) : text;
}

export function hasText(key) {
  return Object.prototype.hasOwnProperty.call(tables[languages[0]] || {}, key);
}

export function language() {
  return current;
}

export function chooseLanguage(name) {
  current = languages.indexOf(name) >= 0 ? name : languages[0];
  try { localStorage.setItem(storageKey, current); } catch (e) { /* private mode: the choice lasts this page only */ }
}

export function applyTexts(root) {
  const scope = root || document;
  document.documentElement.setAttribute('lang', current);
  if (hasText('page.title')) document.title = t('page.title');
  for (const node of scope.querySelectorAll('[data-i18n]')) node.textContent = t(node.getAttribute('data-i18n'));
  for (const node of scope.querySelectorAll('[data-i18n-aria-label]')) node.setAttribute('aria-label', t(node.getAttribute('data-i18n-aria-label')));
  for (const node of scope.querySelectorAll('[data-i18n-title]')) node.setAttribute('title', t(node.getAttribute('data-i18n-title')));
}

/** A translated text with data in it: the data (names, links, files) is marked translate="no",
 *  except the values named in `plain` (words of the console itself, already translated). */
export function fillNodes(parent, key, values, plain) {
  clear(parent);
  const text = t(key);
  const re = /\{(\w+)\}/g;
  let last = 0;
  let match;
  while ((match = re.exec(text)) !== null) {
    if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
    const value = values && values[match[1]] != null ? String(values[match[1]]) : match[0];
    if (plain && plain.indexOf(match[1]) >= 0) parent.appendChild(document.createTextNode(value));
    else parent.appendChild(el('span', 'data', { translate: 'no' }, value));
    last = match.index + match[0].length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  return parent;
}

/** One Intl.NumberFormat per language and precision: a queue formats hundreds of counts. */
const numberFormats = {};

/** A count or an amount with the current language's thousands separator ("12,345", "2.4" with one
 *  fraction digit); what is not a number, as given. Call it when the text is made, as t() is. */
export function count(n, fractionDigits) {
  const value = typeof n === 'number' ? n : typeof n === 'string' && n.trim() ? Number(n) : NaN;
  if (!isFinite(value)) return n == null ? '' : String(n);
  const digits = fractionDigits || 0;
  const key = current + '/' + digits;
  if (!numberFormats[key]) {
    numberFormats[key] = new Intl.NumberFormat(current, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  return numberFormats[key].format(value);
}

/** A status line that follows the language (applyTexts re-translates [data-i18n]); '' empties it. */
export function setStatusKey(node, key) {
  if (key) {
    node.setAttribute('data-i18n', key);
    node.textContent = t(key);
  } else {
    node.removeAttribute('data-i18n');
    node.textContent = '';
  }
}
