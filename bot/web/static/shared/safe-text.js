/**
 * The one link-maker: text stays text, and only http(s) URLs ever become links.
 *
 *   safeUrl(value, base)                      a URL object if value is an http(s) URL, else null
 *                                             (javascript:, data:, vbscript:… in any case or spacing);
 *                                             with base, a relative URL resolves against it
 *   externalLink(url, text, cls, label)       <a> opening url (from safeUrl) in a new tab, without a handle on this page
 *   appendLinkified(parent, text)             text appended as text nodes, each http(s) URL in it a link; sentence
 *                                             punctuation (ASCII or CJK) and unopened closing brackets after a URL
 *                                             stay outside it
 *
 * widget.js holds a copy of the block below (it stays one classic script, which host pages load by tag);
 * tests/web/test_safe_text.py keeps the two equal. Hence `var` and no imports in the block.
 */

// ---- begin shared safe-text ----
/** An http(s) URL object, or null. With `base`, a relative URL resolves against it. */
export function safeUrl(value, base) {
  if (typeof value !== 'string') return null;
  var text = value.trim();
  if (!text) return null;
  var url;
  try {
    url = base ? new URL(text, base) : new URL(text);
  } catch (e) {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
}

/** A link that opens in a new tab; `url` is only ever one safeUrl() accepted. */
export function externalLink(url, text, cls, label) {
  var a = document.createElement('a');
  if (cls) a.className = cls;
  a.setAttribute('target', '_blank');
  a.setAttribute('rel', 'noopener noreferrer');
  if (text != null) a.textContent = text;
  a.href = url.href;
  if (label) a.setAttribute('aria-label', label);
  return a;
}

// A URL ends at a space, a quote, an angle bracket, or CJK punctuation or brackets (Chinese puts no space after a URL)…
var URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`“”‘’（）。，、；：！？「」『』《》【】]+/gi;
// …and the ASCII sentence punctuation or closing bracket at its end is the sentence's.
var TRAILING = /[.,;:!?\])}]$/;
var OPENER = { ')': '(', ']': '[' };

function countOf(text, ch) {
  return text.split(ch).length - 1;
}

/** The URL without the punctuation that ends the sentence around it; a closing bracket stays
 *  when the URL itself opened it (https://en.wikipedia.org/wiki/Hose_(tubing)). */
function trimUrl(raw) {
  while (raw && TRAILING.test(raw)) {
    var end = raw.charAt(raw.length - 1);
    var opener = OPENER[end];
    if (opener && countOf(raw, opener) >= countOf(raw, end)) break;
    raw = raw.slice(0, -1);
  }
  return raw;
}

/** Append text to parent as text nodes, with http(s) URLs as safe links. */
export function appendLinkified(parent, text) {
  var source = String(text == null ? '' : text);
  var last = 0;
  var match;
  URL_IN_TEXT.lastIndex = 0;
  while ((match = URL_IN_TEXT.exec(source)) !== null) {
    var raw = trimUrl(match[0]);
    var url = safeUrl(raw);
    if (!url || raw.length < 9) continue;
    if (match.index > last) parent.appendChild(document.createTextNode(source.slice(last, match.index)));
    parent.appendChild(externalLink(url, raw));
    last = match.index + raw.length;
    URL_IN_TEXT.lastIndex = last;
  }
  if (last < source.length) parent.appendChild(document.createTextNode(source.slice(last)));
}
// ---- end shared safe-text ----
