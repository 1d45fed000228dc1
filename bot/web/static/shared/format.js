/**
 * Dates and sizes as a console's reader reads them.
 *
 *   dateTime(iso, language)   "30/11/2026, 14:05:00" (en) or "2026/11/30 14:05:00" (zh-CN); an unreadable date as given
 *   fileSize(bytes)           "812 B", "34 KB", "2.4 MB", "1,536.0 MB" (through count(): in the console's language)
 *
 * Counts themselves are i18n.js's count(), which both consoles load (this module only the seller's).
 */

import { count } from './i18n.js';

/** The locale of each console language (English dates read day before month, as they always have in the consoles). */
const LOCALES = { en: 'en-GB', 'zh-CN': 'zh-CN' };

export function dateTime(iso, language) {
  if (!iso) return '';
  const date = new Date(iso);
  return isNaN(date.getTime()) ? String(iso) : date.toLocaleString(LOCALES[language] || LOCALES.en);
}

export function fileSize(n) {
  if (n >= 1024 * 1024) return count(n / (1024 * 1024), 1) + ' MB';
  if (n >= 1024) return count(Math.round(n / 1024)) + ' KB';
  return count(n) + ' B';
}
