/**
 * Photos in the console: the thumbnails of a message or a case (each opens the full photo in a
 * new tab), and the composer's two photo tools: "Ask for more photos" (one click: the shopper's
 * widget shows its upload button with the message) and "Send image" (a diagram of the right part,
 * say). Photos load from /agent/api/photos/{id}: the session cookie is what lets them through, so
 * an <img> can show them, and another store's photo answers 404.
 */
import { el } from '../shared/dom.js';
import { count, t } from '../shared/i18n.js';
import { post, upload } from './api.js';
import { convPath, fetchConversation, updateControls } from './conversation.js';
import { clearError, ui } from './page.js';
import { failed } from './session.js';
import { busy, current, num } from './state.js';
import { addMessages } from './transcript.js';

/** Photo ids as the server makes them: nothing else goes into a URL. */
const PHOTO_ID = /^[A-Za-z0-9_-]{16,64}$/;

function photoUrl(id, variant) {
  return '/agent/api/photos/' + encodeURIComponent(id) + (variant ? '?variant=' + variant : '');
}

/** A row of thumbnails; ``label`` names the row for screen readers. */
export function photoGallery(photos, label, testid) {
  const list = (Array.isArray(photos) ? photos : []).filter((p) => p && typeof p === 'object' && PHOTO_ID.test(String(p.id)));
  const row = el('ul', 'photo-gallery', { 'aria-label': label, 'data-testid': testid || 'agent-photos' });
  list.forEach((p, i) => {
    const item = el('li', 'photo-item');
    const link = el('a', 'photo-link', {
      href: photoUrl(p.id),
      target: '_blank',
      rel: 'noopener noreferrer',
      title: t('photos.open')
    });
    const width = num(p.width);
    const height = num(p.height);
    const img = el('img', 'photo-thumb', {
      src: photoUrl(p.id, 'thumbnail'),
      alt: t('photos.alt', { n: count(i + 1), total: count(list.length) }),
      loading: 'lazy',
      decoding: 'async',
      'data-testid': 'agent-photo'
    });
    // The size the server gave: the row keeps its shape while the thumbnails load.
    if (width > 0 && height > 0) img.style.aspectRatio = width + ' / ' + height;
    link.appendChild(img);
    item.appendChild(link);
    row.appendChild(item);
  });
  return row;
}

function afterSend(cid, r) {
  busy.photo = false;
  if (cid === current.id) {
    if (r.ok) {
      clearError();
      if (r.data && r.data.message) addMessages([r.data.message], true);
      else fetchConversation(cid);
    } else {
      failed(r);
      if (r.status === 409) fetchConversation(cid);
    }
  } else if (!r.ok) {
    failed(r);
  }
  updateControls();
}

function askForPhotos() {
  const cid = current.id;
  if (!cid || busy.photo || ui.askPhotos.disabled) return;
  busy.photo = true;
  updateControls();
  post(convPath(cid, '/photo-request'), {}).then((r) => afterSend(cid, r));
}

function sendImage(file) {
  const cid = current.id;
  if (!cid || busy.photo || !file) return;
  busy.photo = true;
  updateControls();
  upload(convPath(cid, '/photos'), file).then((r) => afterSend(cid, r));
}

export function initPhotoTools() {
  ui.askPhotos.addEventListener('click', askForPhotos);
  ui.sendImage.addEventListener('click', () => {
    if (!ui.sendImage.disabled) ui.sendImageFile.click();
  });
  ui.sendImageFile.addEventListener('change', () => {
    const file = ui.sendImageFile.files && ui.sendImageFile.files[0];
    ui.sendImageFile.value = ''; // the same file can be chosen again
    sendImage(file);
  });
}
