/**
 * Building a console's page without ever parsing a string as HTML.
 *
 *   $(id)                          the element with this id
 *   el(tag, cls, attrs, text)      a new element; attribute values and text are set as text
 *   clear(node)                    the node emptied
 *   copyText(input, done)          the input's text to the clipboard; done(true | false) says whether it worked
 */

export function $(id) {
  return document.getElementById(id);
}

/** A new element; attribute values and text are always set as text, never parsed. */
export function el(tag, cls, attrs, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (attrs) {
    for (const k of Object.keys(attrs)) {
      if (attrs[k] != null) node.setAttribute(k, String(attrs[k]));
    }
  }
  if (text != null) node.textContent = text;
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** Copies a (read-only) input's text, through the clipboard API or, without it or its permission, the selection. */
export function copyText(input, done) {
  function copySelection() {
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    done(ok);
  }
  input.focus();
  input.select();
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(input.value).then(() => done(true), copySelection);
  } else {
    copySelection();
  }
}
