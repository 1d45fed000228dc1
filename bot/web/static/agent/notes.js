/** Internal notes on the open conversation: the agents' own, never shown to the shopper. */
import { clear, el } from '../shared/dom.js';
import { count, t } from '../shared/i18n.js';
import { post } from './api.js';
import { overLimit } from './composer.js';
import { convPath, fetchConversation, shown, updateControls } from './conversation.js';
import { clearError, focusQuietly, showError, ui } from './page.js';
import { failed } from './session.js';
import { busy, current, drafts, session, str } from './state.js';
import { timeEl } from './wording.js';

function renderNote(n) {
  const li = el('li', 'note', { 'data-testid': 'agent-note', 'data-note-id': str(n.id) });
  const head = el('div', 'note-head');
  head.appendChild(el('span', 'note-author', null, str(n.author) || t('notes.author')));
  if (n.created_at) head.appendChild(timeEl(n.created_at, 'note-time'));
  li.appendChild(head);
  li.appendChild(el('p', 'note-text', null, str(n.text)));
  return li;
}

export function renderNotes(list) {
  shown.notes = list;
  clear(ui.notesList);
  list.forEach((n) => {
    if (n && typeof n === 'object') ui.notesList.appendChild(renderNote(n));
  });
  ui.notesEmpty.hidden = ui.notesList.children.length > 0;
}

function saveNote(e) {
  e.preventDefault();
  const cid = current.id;
  if (!cid || busy.savingNote || !current.conv) return;
  const text = ui.noteText.value.trim();
  if (!text) {
    focusQuietly(ui.noteText);
    return;
  }
  if (overLimit(text, session.limits.noteChars)) {
    showError(t('notes.tooLong', { n: count(session.limits.noteChars) }));
    return;
  }
  busy.savingNote = true;
  updateControls();
  post(convPath(cid, '/notes'), { text }).then((r) => {
    busy.savingNote = false;
    if (cid === current.id) {
      if (r.ok) {
        clearError();
        ui.noteText.value = '';
        drafts.note[cid] = '';
        const note = r.data && r.data.note;
        const notes = (shown.notes || []).slice();
        if (note && typeof note === 'object' && !notes.some((x) => x && note.id != null && x.id === note.id)) {
          notes.push(note);
          renderNotes(notes);
        } else if (!note) {
          fetchConversation(cid);
        }
      } else {
        failed(r); // the note stays in the box
      }
      updateControls();
    } else if (r.ok) {
      drafts.note[cid] = '';
    } else {
      failed(r);
    }
  });
}

export function initNotes() {
  ui.noteForm.addEventListener('submit', saveNote);
  ui.noteText.addEventListener('input', () => {
    if (current.id) drafts.note[current.id] = ui.noteText.value;
  });
}
