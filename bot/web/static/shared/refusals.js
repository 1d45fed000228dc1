/**
 * The server's refusals in the console's language, by their code: both consoles read them here.
 *
 *   await loadRefusals(languages)  every language's texts, from static/i18n/refusals.<language>.json
 *   refusalText(data)              a refusal ({error, code, params, field?}, an answer's data) in the current
 *                                  language: the code's text with its params filled in (a number that counts
 *                                  with the language's thousands separator); a code this console
 *                                  has no text for (a newer server), or none: the server's English as is
 *   fieldRefusalText(data)         the same for a refused field, which the console shows beside the field:
 *                                  without the words saying where the server's English starts with (its `context`)
 *
 * The texts come from the code, never from the English: rewording a refusal in bot/core/refusals.py changes
 * nothing here (a test keeps refusals.en.json equal to the registry's English and every language's
 * placeholders equal to the code's params). A param fills its {name} once: what a param holds (a
 * seller's "{password}") is shown as given, never filled in again. The text is for textContent only.
 */

import { count, fill, language } from './i18n.js';

const tables = {};
/** Number params that name something rather than count it: shown as given ("no version 1234"). */
const NAMES_NOT_COUNTS = ['version'];

export async function loadRefusals(languages) {
  await Promise.all(languages.map(async (name) => {
    const url = new URL('../i18n/refusals.' + name + '.json', import.meta.url);
    const response = await fetch(url, { credentials: 'same-origin' });
    if (!response.ok) throw new Error('no refusal texts for ' + name + ' (' + response.status + ')');
    tables[name] = await response.json();
  }));
}

/** The code's text in the current language, or undefined when this console does not know the code. */
function codeText(code) {
  const table = tables[language()] || {};
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(table, code) ? table[code] : undefined;
}

/** The text with its params: a number that counts (a limit, a position, seconds) with the language's separators. */
function filled(text, data) {
  const params = data.params && typeof data.params === 'object' ? data.params : {};
  const shown = {};
  for (const name of Object.keys(params)) {
    const value = params[name];
    shown[name] = typeof value === 'number' && NAMES_NOT_COUNTS.indexOf(name) < 0 ? count(value) : value;
  }
  return fill(text, shown);
}

/** The server's English: read only for a code this console has no text for. */
function serverEnglish(refusal) {
  const english = refusal.error;
  return typeof english === 'string' ? english : '';
}

export function refusalText(data) {
  const refusal = data || {};
  const text = codeText(refusal.code);
  return text !== undefined ? filled(text, refusal) : serverEnglish(refusal);
}

export function fieldRefusalText(data) {
  const refusal = data || {};
  const text = codeText(refusal.code);
  if (text !== undefined) return filled(text, refusal);
  const english = serverEnglish(refusal);
  const context = typeof refusal.context === 'string' ? refusal.context : '';
  return context && english.startsWith(context) ? english.slice(context.length) : english;
}
