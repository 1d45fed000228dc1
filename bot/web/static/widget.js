/*!
 * After-sales chat widget: self-contained, no dependencies, no build step.
 *
 *   <script src="https://GATEWAY/widget.js" data-store="STORE_ID" async></script>
 *
 * Optional attributes: data-title (header text), and for a shopper the store has
 * signed in: data-shopper-email + data-shopper-ts (when the store's server signed, in Unix
 * seconds) + data-shopper-signature (hex HMAC-SHA256 of email + "\n" + ts). A store that opted
 * in to plain signatures may leave out data-shopper-ts (the HMAC is then of the email alone).
 * data-open="always" embeds the chat: open from the start, filling the page (or
 * the frame it is in), with no launcher and no close button.
 * The API base is the origin of this script's own src.
 *
 * An email's "continue in chat" link lands on the store's page with #chat-continue=<token>: the
 * widget takes the token out of the address bar, trades it for that conversation
 * (POST /api/v1/conversations/continue), opens and shows it. The shopper's timezone (IANA
 * name, from Intl) goes with every conversation it starts or continues, for the store's quiet hours.
 *
 * Photos: the paper clip (or a drop on the chat, or a paste) picks up to 5, each uploaded at once
 * (POST /api/v1/conversations/{id}/photos, the File as the body) and sent with the next message
 * ({"text"?, "photos": [ids]}). Photos are fetched with the conversation's token and shown as object
 * URLs (an <img src> cannot carry the token), so a page hosting the widget allows `img-src blob:`.
 *
 * Safety: message content only ever reaches the page through textContent, text
 * nodes and attributes whose values were checked (http/https URLs only); this
 * file never parses a string as HTML.
 */
(function () {
  'use strict';

  var VERSION = '1.0.0';
  var doc = document;
  var win = window;

  if (win.AftersalesWidget && win.AftersalesWidget.version) return; // embedded twice

  // ---------------------------------------------------------------- config --

  var script = doc.currentScript;
  if (!script || !script.getAttribute('data-store')) {
    script = doc.querySelector('script[src*="widget.js"][data-store]');
  }
  if (!script) {
    if (win.console) console.warn('[aftersales] widget script tag with data-store not found');
    return;
  }

  var STORE = (script.getAttribute('data-store') || '').trim();
  var BASE;
  try {
    BASE = new URL(script.src, win.location.href).origin;
  } catch (e) {
    BASE = '';
  }
  if (!STORE || !BASE || BASE === 'null') {
    if (win.console) console.warn('[aftersales] widget needs data-store and an http(s) src');
    return;
  }
  var TITLE = (script.getAttribute('data-title') || '').trim() || 'Customer service';
  var EMAIL = (script.getAttribute('data-shopper-email') || '').trim();
  var SIGNATURE = (script.getAttribute('data-shopper-signature') || '').trim();
  var SIGNED_AT = (script.getAttribute('data-shopper-ts') || '').trim();
  var SIGNED = !!(EMAIL && SIGNATURE);
  var EMBEDDED = (script.getAttribute('data-open') || '').trim().toLowerCase() === 'always';
  var STORAGE_KEY = 'asw:' + BASE + ':' + STORE + (SIGNED ? ':' + EMAIL.toLowerCase() : '');

  var MAX_CHARS = 2000;
  var COUNTER_FROM = 1800;
  var POLL_MS = 15000;
  var BACKOFF_MIN = 1000;
  var BACKOFF_MAX = 30000;
  var SOCKETS_FULL = 4429; // the gateway's close code for "too many open connections"
  var TYPING_TIMEOUT_MS = 30000;
  var SENDERS = { shopper: 1, bot: 1, agent: 1, store: 1 };
  var SENDER_LABEL = { agent: 'Support agent', store: 'Store' };
  var SR_PREFIX = { shopper: 'You: ', bot: 'Assistant: ' };
  var CONTINUE_PARAM = 'chat-continue=';
  var MAX_LINK_CHARS = 2048; // the gateway refuses a link token over 1,024 characters anyway
  // The gateway's limits (bot/web/turns.py MAX_PHOTOS_PER_MESSAGE, bot/photos/images.py MAX_PHOTO_BYTES),
  // checked here too so that a shopper is told before a large file crawls up a phone's connection.
  var MAX_PHOTOS = 5;
  var MAX_PHOTO_MB = 10;
  var MAX_PHOTO_BYTES = MAX_PHOTO_MB * 1024 * 1024;
  var PHOTO_TYPES = 'image/jpeg,image/png,image/webp,image/heic,image/heif';
  // What the bot or an agent says when asking for photos (bot/chat/replies.py ASK_PROBLEM_PHOTOS,
  // AGENT_PHOTO_REQUEST): the paper clip lights up. An agent's request also says so in its attachment.
  var ASKS_FOR_PHOTOS = /paper ?clip/i;

  // The photo feature's words, in one place.
  var PHOTO_TEXT = {
    attach: 'Attach photos',
    addPhotos: 'Add photos',
    tray: 'Photos to send',
    remove: function (name) { return 'Remove photo ' + name; },
    uploading: function (name) { return 'Uploading ' + name; },
    tooMany: 'You can send up to ' + MAX_PHOTOS + ' photos in one message.',
    tooLarge: function (name) { return name + ' is larger than ' + MAX_PHOTO_MB + ' MB: please send a smaller photo.'; },
    notAPhoto: function (name) { return name + ' is not a photo: please attach JPEG, PNG, WebP or HEIC images.'; },
    uploadFailed: "This photo couldn't be uploaded. Remove it and try again.",
    waitForUploads: 'Wait a moment: your photos are still uploading.',
    sendWhileUploading: 'Send message (waiting for photos to upload)',
    dropHint: 'Drop photos to attach',
    lostWithConversation: 'Your photos were not sent: please attach them again.',
    photoOf: function (i, n) { return 'Photo ' + i + ' of ' + n; },
    open: function (i, n) { return 'Open photo ' + i + ' of ' + n; },
    unavailable: 'Photo unavailable',
    viewer: 'Photo',
    closeViewer: 'Close photo',
    loading: 'Loading photo…',
    photosOnly: function (n) { return n === 1 ? '1 photo' : n + ' photos'; }
  };

  // ---------------------------------------------------------------- styles --

  var CSS = [
    '#W{all:initial;display:block;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif;font-size:14px;line-height:1.45;color:#1f2328;text-align:left;-webkit-font-smoothing:antialiased}',
    // Undo whatever the store's stylesheet does to plain elements (button{}, a{}, div{}...).
    '#W :is(div,span,p,a,button,textarea,form,label,img,video,time){all:revert;box-sizing:border-box}',
    '#W :is(button,textarea){font:inherit;color:inherit;letter-spacing:normal;text-transform:none}',
    '#W svg{display:block;flex:none;overflow:visible}',
    '#W svg path{fill:currentColor;stroke:none}',
    '#W [hidden]{display:none!important}',
    '#W .asw-sr{position:absolute!important;width:1px!important;height:1px!important;padding:0!important;margin:-1px!important;overflow:hidden!important;clip:rect(0 0 0 0)!important;white-space:nowrap!important;border:0!important}',

    // launcher
    '#W .asw-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;margin:0;padding:0;border:0;border-radius:50%;background:#1d4ed8;color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;box-shadow:0 6px 20px rgba(15,23,42,.28),0 2px 6px rgba(15,23,42,.18);transition:transform .15s ease,background-color .15s ease}',
    '#W .asw-launcher:hover{background:#1e40af;transform:translateY(-1px)}',
    '#W .asw-launcher:active{transform:scale(.96)}',
    '#W .asw-launcher:focus{outline:none}',
    '#W .asw-launcher:focus-visible{outline:3px solid #1d4ed8;outline-offset:3px}',
    '#W .asw-launcher svg{width:28px;height:28px}',
    '#W .asw-launcher .asw-icon-close{display:none}',
    '#W.asw-is-open .asw-launcher .asw-icon-chat{display:none}',
    '#W.asw-is-open .asw-launcher .asw-icon-close{display:block}',
    '#W .asw-badge{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#c62828;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;box-shadow:0 0 0 2px #fff}',

    // panel
    '#W .asw-panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:370px;height:560px;max-width:calc(100vw - 40px);max-height:calc(100vh - 112px);display:flex;flex-direction:column;overflow:hidden;background:#fff;border:1px solid rgba(15,23,42,.08);border-radius:16px;box-shadow:0 16px 48px rgba(15,23,42,.24),0 4px 12px rgba(15,23,42,.12);animation:asw-in .18s ease-out}',
    '@keyframes asw-in{from{opacity:0;transform:translateY(12px) scale(.98)}to{opacity:1;transform:none}}',
    '#W .asw-header{flex:none;display:flex;align-items:center;gap:10px;padding:14px 10px 14px 16px;background:#1d4ed8;color:#fff}',
    '#W .asw-avatar{flex:none;width:36px;height:36px;border-radius:50%;background:rgba(255,255,255,.16);display:flex;align-items:center;justify-content:center}',
    '#W .asw-avatar svg{width:20px;height:20px}',
    '#W .asw-heading{flex:1;min-width:0}',
    '#W .asw-title{display:block;font-size:16px;font-weight:650;line-height:1.25;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}',
    '#W .asw-subtitle{display:block;font-size:12px;line-height:1.3;color:#dbe4ff}',
    '#W .asw-close{flex:none;width:36px;height:36px;margin:0;padding:0;border:0;border-radius:8px;background:transparent;color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center}',
    '#W .asw-close:hover{background:rgba(255,255,255,.16)}',
    '#W .asw-close:focus{outline:none}',
    '#W .asw-close:focus-visible{outline:2px solid #fff;outline-offset:-2px}',
    '#W .asw-close svg{width:22px;height:22px}',

    // conversation
    '#W .asw-body{flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;display:flex;flex-direction:column;padding:16px 14px 12px;background:#f6f7f9}',
    '#W .asw-intro{margin:auto 8px;padding:18px 8px;text-align:center;color:#475467}',
    '#W .asw-intro-title{display:block;margin-bottom:4px;font-size:15px;font-weight:650;color:#1f2328}',
    '#W .asw-status{display:block;margin-top:10px;font-size:13px;color:#475467}',
    '#W .asw-log{display:flex;flex-direction:column;gap:12px}',
    '#W .asw-pending{display:flex;flex-direction:column;gap:12px}',
    '#W .asw-pending:not(:empty){margin-top:12px}',
    '#W .asw-msg{display:flex;flex-direction:column;align-items:flex-start;max-width:86%;align-self:flex-start}',
    '#W .asw-msg--shopper{align-items:flex-end;align-self:flex-end}',
    '#W .asw-sender{margin:0 0 3px 4px;font-size:12px;font-weight:650;color:#475467}',
    '#W .asw-bubble{max-width:100%;padding:9px 13px;border:1px solid #e1e4e8;border-radius:16px;border-bottom-left-radius:4px;background:#fff;color:#1f2328;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}',
    '#W .asw-msg--agent .asw-bubble{background:#ecfdf3;border-color:#c4ead3}',
    '#W .asw-msg--store .asw-bubble{background:#fff8eb;border-color:#f3dfb5}',
    '#W .asw-msg--shopper .asw-bubble{background:#1d4ed8;border-color:#1d4ed8;color:#fff;border-radius:16px;border-bottom-right-radius:4px}',
    '#W .asw-bubble a{color:#1d4ed8;text-decoration:underline;text-underline-offset:2px}',
    '#W .asw-msg--shopper .asw-bubble a{color:#fff}',
    '#W .asw-bubble a:focus-visible{outline:2px solid currentColor;outline-offset:1px;border-radius:2px}',
    '#W .asw-msg.asw-is-pending{opacity:.72}',
    '#W .asw-time{margin:3px 4px 0;font-size:11px;color:#5b6370}',

    // quick replies
    '#W .asw-replies{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}',
    '#W .asw-reply{margin:0;padding:6px 12px;border:1.5px solid #1d4ed8;border-radius:999px;background:#fff;color:#1d4ed8;font-size:13px;font-weight:600;line-height:1.3;text-align:left;cursor:pointer;transition:background-color .12s ease}',
    '#W .asw-reply:hover:not(:disabled){background:#eef2ff}',
    '#W .asw-reply:focus{outline:none}',
    '#W .asw-reply:focus-visible{outline:2px solid #1d4ed8;outline-offset:2px}',
    '#W .asw-reply:disabled{border-color:#d0d5dd;background:#f2f4f7;color:#5b6370;cursor:default}',

    // attachments
    '#W .asw-att{display:flex;align-items:center;gap:10px;width:260px;max-width:100%;margin-top:6px;padding:10px 12px;border:1px solid #e1e4e8;border-radius:12px;background:#fff;color:#1f2328}',
    '#W .asw-att-icon{flex:none;width:40px;height:40px;border-radius:10px;display:flex;align-items:center;justify-content:center;background:#eef2ff;color:#1d4ed8}',
    '#W .asw-att--pdf .asw-att-icon{background:#fdecec;color:#b42318}',
    '#W .asw-att-icon svg{width:22px;height:22px}',
    '#W .asw-att-main{flex:1;min-width:0}',
    '#W .asw-att-title{display:block;font-weight:650;line-height:1.3;overflow-wrap:anywhere}',
    '#W .asw-att-meta{display:block;font-size:12px;color:#5b6370;overflow-wrap:anywhere}',
    '#W .asw-att-link{display:inline-block;margin-top:4px;color:#1d4ed8;font-size:13px;font-weight:650;text-decoration:underline;text-underline-offset:2px}',
    '#W .asw-att-link:focus-visible{outline:2px solid #1d4ed8;outline-offset:2px;border-radius:2px}',
    '#W .asw-att--media{display:block;padding:0;overflow:hidden}',
    '#W .asw-att--media video,#W .asw-att--media img{display:block;width:100%;max-height:240px;margin:0;border:0;background:#0b0f19;object-fit:contain}',
    '#W .asw-att--media img{background:#f2f4f7}',
    '#W .asw-att--media a{display:block}',
    '#W .asw-att--media a:focus-visible{outline:2px solid #1d4ed8;outline-offset:-2px}',
    '#W .asw-att-caption{display:block;padding:8px 12px;font-size:13px;font-weight:600;overflow-wrap:anywhere}',
    '#W .asw-att-raw{display:block;margin-top:2px;font-size:12px;color:#5b6370;overflow-wrap:anywhere;white-space:pre-wrap}',

    // typing indicator
    '#W .asw-typing{align-self:flex-start;display:flex;align-items:center;gap:4px;margin-top:12px;padding:12px 14px;border:1px solid #e1e4e8;border-radius:16px;border-bottom-left-radius:4px;background:#fff}',
    '#W .asw-dot{display:block;width:7px;height:7px;border-radius:50%;background:#5b6370;animation:asw-blink 1.2s infinite ease-in-out}',
    '#W .asw-dot:nth-child(2){animation-delay:.15s}',
    '#W .asw-dot:nth-child(3){animation-delay:.3s}',
    '@keyframes asw-blink{0%,80%,100%{opacity:.35;transform:translateY(0)}40%{opacity:1;transform:translateY(-3px)}}',

    // error
    '#W .asw-error{flex:none;display:flex;align-items:flex-start;gap:8px;margin:0 12px 8px;padding:8px 8px 8px 12px;border:1px solid #fecdca;border-radius:10px;background:#fef3f2;color:#b42318;font-size:13px;line-height:1.4}',
    '#W .asw-error-text{flex:1;padding-top:3px}',
    '#W .asw-error-retry{flex:none;margin:0;padding:3px 10px;border:1px solid #b42318;border-radius:6px;background:#fff;color:#b42318;font-size:12px;font-weight:650;cursor:pointer}',
    '#W .asw-error-close{flex:none;width:26px;height:26px;margin:0;padding:0;border:0;border-radius:6px;background:transparent;color:#b42318;cursor:pointer;display:flex;align-items:center;justify-content:center}',
    '#W .asw-error-close svg{width:16px;height:16px}',
    '#W .asw-error-close:hover,#W .asw-error-retry:hover{background:#fee4e2}',
    '#W .asw-error button:focus{outline:none}',
    '#W .asw-error button:focus-visible{outline:2px solid #b42318;outline-offset:1px}',

    // composer
    '#W .asw-form{flex:none;margin:0;padding:10px 12px 12px;border-top:1px solid #e1e4e8;background:#fff}',
    '#W .asw-compose{display:flex;align-items:flex-end;gap:8px}',
    '#W .asw-input{flex:1;min-width:0;height:42px;min-height:42px;max-height:128px;margin:0;padding:10px 12px;border:1px solid #c4c9d0;border-radius:12px;background:#fff;color:#1f2328;font-size:14px;line-height:1.4;resize:none;overflow-y:auto;box-shadow:none}',
    '#W .asw-input::placeholder{color:#667085;opacity:1}',
    '#W .asw-input:focus{outline:2px solid #1d4ed8;outline-offset:-1px;border-color:#1d4ed8}',
    '#W .asw-send{flex:none;width:42px;height:42px;margin:0;padding:0;border:0;border-radius:50%;background:#1d4ed8;color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;transition:background-color .12s ease}',
    '#W .asw-send:hover{background:#1e40af}',
    '#W .asw-send.asw-is-empty{background:#e4e7ec;color:#475467}',
    '#W .asw-send:focus{outline:none}',
    '#W .asw-send:focus-visible{outline:2px solid #1d4ed8;outline-offset:2px}',
    '#W .asw-send svg{width:20px;height:20px;margin-left:2px}',
    '#W .asw-counter{display:block;margin:4px 52px 0 0;font-size:12px;text-align:right;color:#475467}',
    '#W .asw-counter.asw-is-full{color:#b42318;font-weight:650}',
    '#W .asw-send:disabled{background:#e4e7ec;color:#98a2b3;cursor:not-allowed}',

    // photos: the paper clip, the tray of photos picked for the next message, its notices
    '#W .asw-attach{flex:none;width:42px;height:42px;margin:0;padding:0;border:1.5px solid transparent;border-radius:50%;background:transparent;color:#475467;cursor:pointer;display:flex;align-items:center;justify-content:center;transition:background-color .12s ease,color .12s ease}',
    '#W .asw-attach:hover{background:#eef2ff;color:#1d4ed8}',
    '#W .asw-attach:focus{outline:none}',
    '#W .asw-attach:focus-visible{outline:2px solid #1d4ed8;outline-offset:2px}',
    '#W .asw-attach svg{width:22px;height:22px}',
    // The bot just asked for photos: the paper clip shows where to attach them.
    '#W .asw-attach.asw-is-suggested{border-color:#1d4ed8;background:#eef2ff;color:#1d4ed8;box-shadow:0 0 0 4px rgba(29,78,216,.18);animation:asw-pulse 1.4s ease-in-out 3}',
    '@keyframes asw-pulse{0%,100%{box-shadow:0 0 0 4px rgba(29,78,216,.18)}50%{box-shadow:0 0 0 8px rgba(29,78,216,.08)}}',
    '#W .asw-file{display:none}',
    '#W .asw-tray{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 10px;padding:0;list-style:none}',
    '#W .asw-tile{position:relative;flex:none;width:64px;height:64px;margin:0;border:1px solid #e1e4e8;border-radius:10px;overflow:hidden;background:#f2f4f7}',
    '#W .asw-tile img{display:block;width:100%;height:100%;margin:0;border:0;object-fit:cover}',
    '#W .asw-tile-remove{position:absolute;top:3px;right:3px;width:26px;height:26px;margin:0;padding:0;border:0;border-radius:50%;background:rgba(15,23,42,.74);color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center}',
    '#W .asw-tile-remove:hover{background:#0f172a}',
    '#W .asw-tile-remove:focus{outline:none}',
    '#W .asw-tile-remove:focus-visible{outline:2px solid #1d4ed8;outline-offset:1px}',
    '#W .asw-tile-remove svg{width:16px;height:16px}',
    '#W .asw-progress{position:absolute;left:5px;right:5px;bottom:5px;height:6px;border-radius:3px;background:rgba(255,255,255,.86);overflow:hidden;box-shadow:0 0 0 1px rgba(15,23,42,.12)}',
    '#W .asw-progress-fill{display:block;width:0;height:100%;background:#1d4ed8;transition:width .12s linear}',
    '#W .asw-tile.asw-is-uploaded .asw-progress-fill{background:#12813f;transition:none}',
    '#W .asw-tile-name{display:flex;align-items:center;justify-content:center;width:100%;height:100%;padding:4px 4px 14px;color:#475467;font-size:10px;line-height:1.2;text-align:center;overflow:hidden;overflow-wrap:anywhere}',
    '#W .asw-tile.asw-is-failed .asw-tile-name{flex:none;width:62px;height:62px;padding:4px}',
    '#W .asw-tile.asw-is-failed{display:flex;align-items:center;gap:10px;width:100%;height:auto;min-height:64px;padding-right:36px;border-color:#fecdca;background:#fef3f2}',
    '#W .asw-tile.asw-is-failed img{flex:none;width:62px;height:62px;opacity:.55}',
    '#W .asw-tile.asw-is-failed .asw-progress{display:none}',
    '#W .asw-tile-error{flex:1;min-width:0;padding:6px 0;color:#b42318;font-size:12px;line-height:1.35;overflow-wrap:anywhere}',
    '#W .asw-photo-notice{display:block;margin:0 0 10px;padding:7px 10px;border:1px solid #fecdca;border-radius:8px;background:#fef3f2;color:#b42318;font-size:13px;line-height:1.4;white-space:pre-line}',
    '#W .asw-drop-hint{position:absolute;top:8px;right:8px;bottom:8px;left:8px;z-index:3;display:flex;align-items:center;justify-content:center;border:2px dashed #1d4ed8;border-radius:12px;background:rgba(238,242,255,.94);color:#1d4ed8;font-size:15px;font-weight:650;pointer-events:none}',

    // photos in the conversation, and the full photo over everything
    '#W .asw-photos{display:flex;flex-wrap:wrap;gap:6px;max-width:100%;margin-top:6px}',
    '#W .asw-msg--shopper .asw-photos{justify-content:flex-end}',
    '#W .asw-photo{flex:none;width:92px;height:92px;margin:0;padding:0;border:1px solid #e1e4e8;border-radius:12px;overflow:hidden;background:#e4e7ec;cursor:zoom-in}',
    '#W .asw-photo img{display:block;width:100%;height:100%;margin:0;border:0;object-fit:cover}',
    '#W .asw-photo:focus{outline:none}',
    '#W .asw-photo:focus-visible{outline:2px solid #1d4ed8;outline-offset:2px}',
    '#W .asw-photo-request{display:inline-flex;align-items:center;gap:6px;margin-top:8px}',
    '#W .asw-photo-request svg{width:16px;height:16px}',
    '#W .asw-photo-missing{display:flex;align-items:center;justify-content:center;height:100%;padding:4px;color:#5b6370;font-size:11px;line-height:1.3;text-align:center}',
    '#W .asw-lightbox{position:fixed;top:0;right:0;bottom:0;left:0;z-index:2147483002;display:flex;align-items:center;justify-content:center;padding:60px 16px 16px;background:rgba(11,15,25,.9)}',
    '#W .asw-lightbox img{display:block;max-width:100%;max-height:100%;margin:0;border:0;border-radius:4px;object-fit:contain;background:#fff}',
    '#W .asw-lightbox-status{color:#e4e7ec;font-size:14px}',
    '#W .asw-lightbox-close{position:absolute;top:10px;right:10px;width:42px;height:42px;margin:0;padding:0;border:0;border-radius:50%;background:rgba(255,255,255,.16);color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center}',
    '#W .asw-lightbox-close:hover{background:rgba(255,255,255,.28)}',
    '#W .asw-lightbox-close:focus{outline:none}',
    '#W .asw-lightbox-close:focus-visible{outline:2px solid #fff;outline-offset:2px}',
    '#W .asw-lightbox-close svg{width:24px;height:24px}',

    // phones: the open panel takes the whole screen
    '@media (max-width:480px){' +
      '#W .asw-panel{top:0;right:0;bottom:0;left:0;width:100vw;height:100vh;height:100dvh;max-width:none;max-height:none;border:0;border-radius:0;box-shadow:none}' +
      '#W.asw-is-open .asw-launcher{display:none}' +
      '#W .asw-launcher{right:16px;bottom:16px}' +
      '#W .asw-input{font-size:16px}' +
      '#W .asw-msg{max-width:88%}' +
    '}',
    // embedded (data-open="always"): the chat is the page, or the frame it is in
    '#W.asw-embedded .asw-panel{top:0;right:0;bottom:0;left:0;width:100%;height:100%;max-width:none;max-height:none;border:0;border-radius:0;box-shadow:none;animation:none}',
    '@media (prefers-reduced-motion:reduce){#W *{animation:none!important;transition:none!important}}',
    '@media print{#W{display:none!important}}'
  ].join('\n').replace(/#W/g, '#aftersales-widget');

  // ----------------------------------------------------------------- icons --

  var ICONS = {
    chat: 'M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2zM7 9h10v2H7V9zm6 5H7v-2h6v2zm4-6H7V6h10v2z',
    close: 'M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z',
    send: 'M3.4 20.4 20.85 12.92a1 1 0 0 0 0-1.84L3.4 3.6a.99.99 0 0 0-1.39.91L2 9.12c0 .5.37.93.87.99L17 12 2.87 13.88c-.5.07-.87.5-.87 1l.01 4.61c0 .71.73 1.2 1.39.91z',
    doc: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8l-6-6zm2 16H8v-2h8v2zm0-4H8v-2h8v2zm-3-5V3.5L18.5 9H13z',
    play: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm-2 14.5v-9l6 4.5-6 4.5z',
    link: 'M3.9 12c0-1.71 1.39-3.1 3.1-3.1h4V7H7a5 5 0 0 0 0 10h4v-1.9H7A3.1 3.1 0 0 1 3.9 12zM8 13h8v-2H8v2zm9-6h-4v1.9h4a3.1 3.1 0 0 1 0 6.2h-4V17h4a5 5 0 0 0 0-10z',
    agent: 'M12 1a9 9 0 0 0-9 9v7a3 3 0 0 0 3 3h3v-8H5v-2a7 7 0 0 1 14 0v2h-4v8h4v1h-7v2h6a3 3 0 0 0 3-3V10a9 9 0 0 0-9-9z',
    clip: 'M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z'
  };

  // --------------------------------------------------------------- helpers --

  function el(tag, cls, attrs, text) {
    var node = doc.createElement(tag);
    if (cls) node.className = cls;
    if (attrs) {
      for (var k in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, k) && attrs[k] != null) node.setAttribute(k, String(attrs[k]));
      }
    }
    if (text != null) node.textContent = text;
    return node;
  }

  function icon(name, extraClass) {
    var NS = 'http://www.w3.org/2000/svg';
    var svg = doc.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('class', 'asw-icon' + (extraClass ? ' ' + extraClass : ''));
    var path = doc.createElementNS(NS, 'path');
    path.setAttribute('d', ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function srText(text) {
    return el('span', 'asw-sr', null, text);
  }

  var memoryStore = {};
  function storageGet(key) {
    try {
      return win.localStorage.getItem(key);
    } catch (e) {
      return Object.prototype.hasOwnProperty.call(memoryStore, key) ? memoryStore[key] : null;
    }
  }
  function storageSet(key, value) {
    memoryStore[key] = value;
    try {
      win.localStorage.setItem(key, value);
    } catch (e) { /* private mode, storage blocked: memory only */ }
  }
  function storageDelete(key) {
    delete memoryStore[key];
    try {
      win.localStorage.removeItem(key);
    } catch (e) { /* ignore */ }
  }

  /** The token of an email's "continue in chat" link (#chat-continue=…), or null. It leaves the
   *  address bar at once, so that it is not bookmarked, shared or kept in the history; the rest of
   *  the fragment (a page's own) stays. */
  function takeContinueToken() {
    var hash = win.location.hash || '';
    if (hash.charAt(0) !== '#') return null;
    var token = null;
    var rest = [];
    hash.slice(1).split('&').forEach(function (part) {
      if (part.indexOf(CONTINUE_PARAM) === 0) token = part.slice(CONTINUE_PARAM.length);
      else if (part) rest.push(part);
    });
    if (token === null) return null;
    try {
      win.history.replaceState(
        win.history.state,
        '',
        win.location.pathname + win.location.search + (rest.length ? '#' + rest.join('&') : '')
      );
    } catch (e) { /* a sandboxed frame: the link still works, it only stays in the address */ }
    try {
      token = decodeURIComponent(token);
    } catch (e) { /* kept as it came: the gateway refuses it */ }
    return token.slice(0, MAX_LINK_CHARS);
  }

  /** The shopper's IANA timezone as the browser knows it ("Europe/Paris"), or null. */
  function shopperTimezone() {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      return typeof zone === 'string' && zone && zone.length <= 64 ? zone : null;
    } catch (e) {
      return null;
    }
  }

  /** A request body with the shopper's timezone in it: the store's emails keep to their quiet hours. */
  function withTimezone(payload) {
    var zone = shopperTimezone();
    if (zone) payload.timezone = zone;
    return payload;
  }

  function parseStored(raw) {
    if (!raw) return null;
    try {
      var v = JSON.parse(raw);
      if (v && typeof v.conversation_id === 'string' && v.conversation_id && typeof v.token === 'string' && v.token) {
        var read = Number(v.lastReadSeq);
        return { conversation_id: v.conversation_id, token: v.token, lastReadSeq: isFinite(read) && read > 0 ? read : 0 };
      }
    } catch (e) { /* corrupt: ignore */ }
    return null;
  }

  // Word for word the block of shared/safe-text.js (without `export`): tests/web/test_safe_text.py keeps them equal.
  // ---- begin shared safe-text ----
  /** An http(s) URL object, or null. With `base`, a relative URL resolves against it. */
  function safeUrl(value, base) {
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
  function externalLink(url, text, cls, label) {
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
  function appendLinkified(parent, text) {
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

  function formatTime(iso) {
    if (typeof iso !== 'string' || !iso) return null;
    var d = new Date(iso);
    if (isNaN(d.getTime())) return null;
    var sameDay = d.toDateString() === new Date().toDateString();
    var opts = sameDay
      ? { hour: 'numeric', minute: '2-digit' }
      : { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' };
    try {
      return d.toLocaleString(undefined, opts);
    } catch (e) {
      return d.toLocaleString();
    }
  }

  function seconds(n) {
    return n + (n === 1 ? ' second' : ' seconds');
  }

  function tooFastText(retryAfter) {
    return retryAfter > 0
      ? "You're sending messages too fast. Try again in " + seconds(retryAfter) + '.'
      : "You're sending messages too fast. Try again in a few seconds.";
  }

  function parseRetryAfter(header, data) {
    if (header) {
      var n = parseInt(header, 10);
      if (isFinite(n) && String(n) === header.trim()) return Math.max(1, n);
      var when = Date.parse(header);
      if (!isNaN(when)) return Math.max(1, Math.ceil((when - Date.now()) / 1000));
    }
    if (data) {
      if (isFinite(Number(data.retry_after)) && Number(data.retry_after) > 0) return Math.ceil(Number(data.retry_after));
      // Retry-After is not readable cross-origin unless the gateway exposes it:
      // fall back to the number in the error text ("... try again in 12 s").
      var m = typeof data.error === 'string' && /(\d+)\s*(?:s|sec|secs|seconds?)\b/i.exec(data.error);
      if (m) return Math.max(1, parseInt(m[1], 10));
    }
    return 0;
  }

  // ------------------------------------------------------------------- api --

  function api(method, path, body, token) {
    var headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = 'Bearer ' + token;
    var init = { method: method, headers: headers, mode: 'cors', credentials: 'omit', cache: 'no-store' };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(BASE + path, init).then(
      function (res) {
        return res.text().then(function (t) {
          var data = null;
          try {
            data = t ? JSON.parse(t) : null;
          } catch (e) { /* not JSON */ }
          if (!data || typeof data !== 'object') data = {};
          return { status: res.status, ok: res.ok, data: data, retryAfter: res.headers.get('Retry-After') };
        });
      },
      function () {
        return { status: 0, ok: false, data: {}, retryAfter: null };
      }
    );
  }

  function conversationPath(c, suffix) {
    return '/api/v1/conversations/' + encodeURIComponent(c.conversation_id) + suffix;
  }

  /** What to tell the shopper about a failed call. */
  function errorText(r, context) {
    var serverText = typeof r.data.error === 'string' ? r.data.error.slice(0, 300) : '';
    if (r.status === 0) return "We can't reach customer service right now. Check your connection and try again.";
    if (r.status === 429) return tooFastText(parseRetryAfter(r.retryAfter, r.data));
    if (context === 'create') {
      if (r.status === 401 || r.status === 403) return "We couldn't verify your sign-in. Please refresh the page or sign in again.";
      if (r.status === 404) return "Chat isn't available for this store.";
    }
    if (r.status === 413) return 'That message is too long. Please keep it under 2,000 characters.';
    if (r.status === 400) return serverText ? 'Message not sent: ' + serverText + '.' : "That message couldn't be sent.";
    return 'Something went wrong on our side. Please try again.';
  }

  function ApiError(r, context) {
    this.status = r.status;
    this.userMessage = errorText(r, context);
    this.retryAfter = r.status === 429 ? parseRetryAfter(r.retryAfter, r.data) : 0;
  }

  // ----------------------------------------------------------------- state --

  var conv = null; // {conversation_id, token, lastReadSeq}
  var generation = 0; // bumped whenever the conversation changes: stale callbacks check it
  var messages = {}; // seq -> {sender, el}
  var messageCount = 0;
  var lastSeq = 0;
  var buttonGroups = []; // {seq, buttons: [HTMLButtonElement]}
  var queue = []; // shopper messages waiting to be sent, in order
  var sending = false;
  var creating = null;
  var continuing = null; // an email's link being traded for its conversation
  var socket = null;
  var socketOpenedAt = 0;
  var backoff = BACKOFF_MIN;
  var reconnectTimer = null;
  var pollTimer = null;
  var catchingUp = null;
  var catchUpAgainFrom = null;
  var wsTyping = false;
  var wsTypingTimer = null;
  var isOpen = false;
  var ready = false;
  var wantOpen = false;
  var errorTimer = null;
  var tray = []; // photos picked for the next message: {file, url, node, state, photoId, xhr, ...}, in order
  var messagePhotoUrls = []; // object URLs of the photos shown in the conversation, revoked when it is cleared
  var lightbox = null; // the full photo on show: {node, url, returnFocus}
  var dragDepth = 0; // dragenter/dragleave pairs over the panel (they fire for every child crossed)

  var root, launcher, badge, panel, body, intro, statusLine, log, pendingList, typing;
  var errorBox, errorText_, errorRetry, input, sendButton, counter;
  var attachButton, fileInput, trayList, photoNotice, dropHint;

  function saveConv() {
    if (!conv) return;
    // Another tab may have read further: keep the highest lastReadSeq.
    var other = parseStored(storageGet(STORAGE_KEY));
    if (other && other.conversation_id === conv.conversation_id && other.lastReadSeq > conv.lastReadSeq) {
      conv.lastReadSeq = other.lastReadSeq;
    }
    storageSet(STORAGE_KEY, JSON.stringify(conv));
  }

  // ------------------------------------------------------------------- DOM --

  function build() {
    root = el('div', EMBEDDED ? 'asw-embedded' : null, { id: 'aftersales-widget' });
    var style = el('style', null, { id: 'aftersales-widget-style' });
    style.textContent = CSS;
    root.appendChild(style);

    launcher = el('button', 'asw-launcher', {
      type: 'button',
      'data-testid': 'asw-launcher',
      'aria-controls': 'asw-panel',
      'aria-expanded': 'false',
      'aria-label': 'Open chat'
    });
    launcher.appendChild(icon('chat', 'asw-icon-chat'));
    launcher.appendChild(icon('close', 'asw-icon-close'));
    badge = el('span', 'asw-badge', { 'data-testid': 'asw-unread', 'aria-hidden': 'true', hidden: '' });
    launcher.appendChild(badge);
    launcher.addEventListener('click', function () {
      setOpen(!isOpen, true);
    });

    panel = el('div', 'asw-panel', {
      id: 'asw-panel',
      role: EMBEDDED ? 'region' : 'dialog',
      'aria-label': TITLE,
      'data-testid': 'asw-panel',
      hidden: ''
    });

    var header = el('div', 'asw-header');
    var avatar = el('div', 'asw-avatar');
    avatar.appendChild(icon('agent'));
    header.appendChild(avatar);
    var heading = el('div', 'asw-heading');
    heading.appendChild(el('span', 'asw-title', null, TITLE));
    heading.appendChild(el('span', 'asw-subtitle', null, 'Orders, delivery and product help'));
    header.appendChild(heading);
    var close = el('button', 'asw-close', { type: 'button', 'aria-label': 'Close chat', 'data-testid': 'asw-close' });
    close.appendChild(icon('close'));
    close.addEventListener('click', function () {
      setOpen(false, true);
    });
    if (EMBEDDED) {  // the chat is the page: nothing to open or close
      launcher.hidden = true;
      close.hidden = true;
    }
    header.appendChild(close);
    panel.appendChild(header);

    body = el('div', 'asw-body');
    intro = el('div', 'asw-intro');
    intro.appendChild(el('span', 'asw-intro-title', null, 'Hi! How can we help?'));
    intro.appendChild(el('span', null, null, 'Ask where your order is, or anything else about your purchase.'));
    statusLine = el('span', 'asw-status', { hidden: '' }, 'Connecting…');
    intro.appendChild(statusLine);
    body.appendChild(intro);
    log = el('div', 'asw-log', {
      role: 'log',
      'aria-live': 'polite',
      'aria-relevant': 'additions',
      'aria-label': 'Conversation',
      'data-testid': 'asw-log'
    });
    body.appendChild(log);
    pendingList = el('div', 'asw-pending');
    body.appendChild(pendingList);
    typing = el('div', 'asw-typing', {
      role: 'status',
      'aria-label': 'Assistant is typing',
      'data-testid': 'asw-typing',
      hidden: ''
    });
    for (var i = 0; i < 3; i++) typing.appendChild(el('span', 'asw-dot', { 'aria-hidden': 'true' }));
    body.appendChild(typing);
    panel.appendChild(body);

    errorBox = el('div', 'asw-error', { role: 'alert', 'data-testid': 'asw-error', hidden: '' });
    errorText_ = el('span', 'asw-error-text');
    errorBox.appendChild(errorText_);
    errorRetry = el('button', 'asw-error-retry', { type: 'button', hidden: '' }, 'Try again');
    errorBox.appendChild(errorRetry);
    var dismiss = el('button', 'asw-error-close', { type: 'button', 'aria-label': 'Dismiss message' });
    dismiss.appendChild(icon('close'));
    dismiss.addEventListener('click', function () {
      clearError();
      input.focus();
    });
    errorBox.appendChild(dismiss);
    panel.appendChild(errorBox);

    var form = el('form', 'asw-form', { novalidate: '' });
    photoNotice = el('div', 'asw-photo-notice', { role: 'alert', 'data-testid': 'asw-photo-notice', hidden: '' });
    form.appendChild(photoNotice);
    trayList = el('div', 'asw-tray', { role: 'list', 'aria-label': PHOTO_TEXT.tray, 'data-testid': 'asw-photo-tray', hidden: '' });
    form.appendChild(trayList);
    form.appendChild(el('label', 'asw-sr', { for: 'asw-input' }, 'Type your message'));
    var compose = el('div', 'asw-compose');
    // No `capture` attribute: it would send a phone straight to the camera; without it the phone
    // offers the camera and the gallery both (a photo taken yesterday is often the one needed).
    fileInput = el('input', 'asw-file', {
      type: 'file',
      accept: PHOTO_TYPES,
      multiple: '',
      tabindex: '-1',
      'aria-hidden': 'true',
      'data-testid': 'asw-photo-input'
    });
    fileInput.addEventListener('change', function () {
      var picked = Array.prototype.slice.call(fileInput.files || []);
      fileInput.value = ''; // so that picking the same photo again (after removing it) is a change too
      addPhotos(picked);
    });
    compose.appendChild(fileInput);
    attachButton = el('button', 'asw-attach', {
      type: 'button',
      'aria-label': PHOTO_TEXT.attach,
      title: PHOTO_TEXT.attach,
      'data-testid': 'asw-attach'
    });
    attachButton.appendChild(icon('clip'));
    attachButton.addEventListener('click', function () {
      fileInput.click();
    });
    compose.appendChild(attachButton);
    input = el('textarea', 'asw-input', {
      id: 'asw-input',
      rows: '1',
      maxlength: String(MAX_CHARS),
      placeholder: 'Type your message…',
      autocomplete: 'off',
      'aria-describedby': 'asw-counter',
      'data-testid': 'asw-input'
    });
    compose.appendChild(input);
    sendButton = el('button', 'asw-send asw-is-empty', { type: 'submit', 'aria-label': 'Send message', 'data-testid': 'asw-send' });
    sendButton.appendChild(icon('send'));
    compose.appendChild(sendButton);
    form.appendChild(compose);
    counter = el('span', 'asw-counter', { id: 'asw-counter', 'data-testid': 'asw-counter', hidden: '' });
    form.appendChild(counter);
    panel.appendChild(form);

    form.addEventListener('submit', function (e) {
      e.preventDefault();
      sendTyped();
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        sendTyped();
      }
    });
    input.addEventListener('input', onInput);
    input.addEventListener('paste', onPaste);

    dropHint = el('div', 'asw-drop-hint', { 'aria-hidden': 'true', hidden: '' }, PHOTO_TEXT.dropHint);
    panel.appendChild(dropHint);
    panel.addEventListener('dragenter', onDragEnter);
    panel.addEventListener('dragover', onDragOver);
    panel.addEventListener('dragleave', onDragLeave);
    panel.addEventListener('drop', onDrop);

    root.appendChild(launcher);
    root.appendChild(panel);
  }

  function onInput() {
    var n = input.value.length;
    counter.hidden = n < COUNTER_FROM;
    counter.textContent = n.toLocaleString() + ' / ' + MAX_CHARS.toLocaleString();
    counter.classList.toggle('asw-is-full', n >= MAX_CHARS);
    updateSendButton();
    input.style.height = 'auto';
    input.style.height = Math.min(Math.max(input.scrollHeight + 2, 42), 128) + 'px';
  }

  // ---------------------------------------------------------------- photos --

  function isPhotoId(id) {
    return typeof id === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(id);
  }

  function photoName(file) {
    var name = file && typeof file.name === 'string' && file.name.trim() ? file.name.trim() : 'photo';
    return name.length > 60 ? name.slice(0, 57) + '…' : name;
  }

  /** A file the gateway will judge by its bytes; refused here only when it plainly is not an image
   *  (a HEIC photo often comes with no type at all, so an empty type is let through). */
  function looksLikePhoto(file) {
    return !file.type || /^image\//i.test(file.type);
  }

  function photosUploading() {
    return tray.some(function (item) {
      return item.state === 'uploading';
    });
  }

  function uploadedPhotos() {
    return tray.filter(function (item) {
      return item.state === 'uploaded';
    });
  }

  /** Send is disabled while a photo is still uploading (its id is not known yet), and looks empty
   *  when there is nothing to send. */
  function updateSendButton() {
    var uploading = photosUploading();
    sendButton.disabled = uploading;
    sendButton.setAttribute('aria-label', uploading ? PHOTO_TEXT.sendWhileUploading : 'Send message');
    sendButton.classList.toggle('asw-is-empty', !input.value.trim() && !uploadedPhotos().length);
  }

  function showPhotoNotice(lines) {
    photoNotice.textContent = lines.join('\n');
    photoNotice.hidden = !lines.length;
  }

  /** Take the photos picked, dropped or pasted: refuse what the gateway would refuse anyway
   *  (over five in the message, over 10 MB, not an image), show and upload the rest. */
  function addPhotos(files) {
    if (!files.length) return;
    var notices = [];
    var room = MAX_PHOTOS - tray.filter(function (item) { return item.state !== 'failed'; }).length;
    files.forEach(function (file) {
      if (!looksLikePhoto(file)) {
        notices.push(PHOTO_TEXT.notAPhoto(photoName(file)));
      } else if (file.size > MAX_PHOTO_BYTES) {
        notices.push(PHOTO_TEXT.tooLarge(photoName(file)));
      } else if (room <= 0) {
        if (notices.indexOf(PHOTO_TEXT.tooMany) < 0) notices.push(PHOTO_TEXT.tooMany);
      } else {
        room--;
        addToTray(file);
      }
    });
    showPhotoNotice(notices);
    updateSendButton();
  }

  function addToTray(file) {
    var item = { file: file, url: URL.createObjectURL(file), state: 'uploading', photoId: null, xhr: null };
    var name = photoName(file);
    item.node = el('div', 'asw-tile', { role: 'listitem', 'data-testid': 'asw-photo-tile', 'data-state': 'uploading' });
    var preview = el('img', null, { src: item.url, alt: name, 'data-testid': 'asw-photo-preview' });
    preview.addEventListener('error', function () {
      // A picture this browser cannot draw (HEIC outside Safari, or not a picture at all): its name instead.
      if (preview.parentNode) preview.parentNode.replaceChild(el('span', 'asw-tile-name', null, name), preview);
    });
    item.node.appendChild(preview);
    item.progress = el('div', 'asw-progress', {
      role: 'progressbar',
      'aria-label': PHOTO_TEXT.uploading(name),
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': '0',
      'data-testid': 'asw-photo-progress'
    });
    item.progressFill = el('span', 'asw-progress-fill');
    item.progress.appendChild(item.progressFill);
    item.node.appendChild(item.progress);
    var remove = el('button', 'asw-tile-remove', {
      type: 'button',
      'aria-label': PHOTO_TEXT.remove(name),
      'data-testid': 'asw-photo-remove'
    });
    remove.appendChild(icon('close'));
    remove.addEventListener('click', function () {
      removeFromTray(item);
      showPhotoNotice([]);
      // The focus was on the button just removed: the paper clip is where the next photo comes from
      // (and, unlike the text box, it opens no keyboard on a phone).
      attachButton.focus();
    });
    item.node.appendChild(remove);
    tray.push(item);
    trayList.appendChild(item.node);
    trayList.hidden = false;
    uploadPhoto(item);
  }

  function setUploadProgress(item, percent) {
    item.progress.setAttribute('aria-valuenow', String(percent));
    item.progressFill.style.width = percent + '%';
  }

  function uploadPhoto(item) {
    ensureConversation().then(
      function (c) {
        if (tray.indexOf(item) < 0) return; // removed while the conversation was being made
        // XMLHttpRequest, not fetch: only it reports how much of the body has gone (the progress bar).
        var xhr = new XMLHttpRequest();
        item.xhr = xhr;
        item.conversationId = c.conversation_id;
        xhr.open('POST', BASE + conversationPath(c, '/photos'));
        xhr.setRequestHeader('Authorization', 'Bearer ' + c.token);
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.upload.onprogress = function (e) {
          // Held back from 100 until the gateway has taken the photo: it still decodes it.
          if (e.lengthComputable && e.total > 0) setUploadProgress(item, Math.min(99, Math.floor((e.loaded / e.total) * 100)));
        };
        xhr.onload = function () {
          item.xhr = null;
          var data = {};
          try {
            data = JSON.parse(xhr.responseText) || {};
          } catch (e) { /* not JSON: a proxy's page */ }
          var photo = data && data.photo;
          if (xhr.status === 201 && photo && isPhotoId(photo.id)) {
            item.photoId = photo.id;
            item.state = 'uploaded';
            item.node.classList.add('asw-is-uploaded');
            item.node.setAttribute('data-state', 'uploaded');
            setUploadProgress(item, 100);
            updateSendButton();
          } else {
            failUpload(item, uploadRefusalText(xhr, data, item));
          }
        };
        xhr.onerror = function () {
          item.xhr = null;
          failUpload(item, errorText({ status: 0, data: {} }));
        };
        xhr.send(item.file);
      },
      function (err) {
        failUpload(item, (err && err.userMessage) || PHOTO_TEXT.uploadFailed);
      }
    );
  }

  /** The gateway's own words for a refused photo (its JSON's English `error`), else ours. */
  function uploadRefusalText(xhr, data, item) {
    var r = { status: xhr.status, data: data && typeof data === 'object' ? data : {}, retryAfter: xhr.getResponseHeader('Retry-After') };
    // As a refused message is told ("Message not sent: …"): the gateway's sentence, in its words.
    if (typeof r.data.error === 'string' && r.data.error) return 'Not uploaded: ' + r.data.error.slice(0, 300) + '.';
    if (r.status === 413) return PHOTO_TEXT.tooLarge(photoName(item.file));
    return r.status === 0 || r.status === 429 ? errorText(r) : PHOTO_TEXT.uploadFailed;
  }

  function failUpload(item, text) {
    if (tray.indexOf(item) < 0) return;
    item.state = 'failed';
    item.node.classList.add('asw-is-failed');
    item.node.setAttribute('data-state', 'failed');
    var error = el('span', 'asw-tile-error', { role: 'alert', 'data-testid': 'asw-photo-error' }, text);
    item.node.insertBefore(error, item.progress);
    updateSendButton();
  }

  /** Drop a photo from the tray (an upload under way is stopped); `keepUrl` when its preview lives on elsewhere. */
  function removeFromTray(item, keepUrl) {
    var at = tray.indexOf(item);
    if (at < 0) return;
    tray.splice(at, 1);
    if (item.xhr) {
      var xhr = item.xhr;
      item.xhr = null;
      xhr.onload = xhr.onerror = null;
      xhr.abort();
    }
    if (item.node.parentNode) item.node.parentNode.removeChild(item.node);
    if (!keepUrl) URL.revokeObjectURL(item.url);
    trayList.hidden = !tray.length;
    updateSendButton();
  }

  /** Empty the tray; the uploaded photos' previews go on in the pending message (which revokes them). */
  function takeTray() {
    var taken = uploadedPhotos();
    tray.slice().forEach(function (item) {
      removeFromTray(item, taken.indexOf(item) >= 0);
    });
    showPhotoNotice([]);
    return taken;
  }

  /** A message that failed gives its photos back to the tray (they are still unsent on the gateway). */
  function returnToTray(items) {
    items.forEach(function (item) {
      if (tray.length >= MAX_PHOTOS || item.conversationId !== (conv && conv.conversation_id)) {
        URL.revokeObjectURL(item.url);
        return;
      }
      tray.push(item);
      trayList.appendChild(item.node);
    });
    trayList.hidden = !tray.length;
    updateSendButton();
  }

  function releasePhotos(items) {
    (items || []).forEach(function (item) {
      URL.revokeObjectURL(item.url);
    });
  }

  /** The conversation changed under the tray: its photos belong to the old one. */
  function dropTray() {
    var had = tray.length > 0;
    tray.slice().forEach(function (item) {
      removeFromTray(item);
    });
    if (had) showPhotoNotice([PHOTO_TEXT.lostWithConversation]);
  }

  function onPaste(e) {
    var items = (e.clipboardData && e.clipboardData.items) || [];
    var files = [];
    for (var i = 0; i < items.length; i++) {
      if (items[i].kind === 'file' && /^image\//i.test(items[i].type)) {
        var file = items[i].getAsFile();
        if (file) files.push(file);
      }
    }
    if (!files.length) return;
    // An image copied from a page or a document may come with its text: the text is pasted as usual.
    if (!e.clipboardData.getData('text/plain')) e.preventDefault();
    addPhotos(files);
  }

  function carriesFiles(e) {
    var types = e.dataTransfer && e.dataTransfer.types;
    return !!types && Array.prototype.indexOf.call(types, 'Files') >= 0;
  }

  function onDragEnter(e) {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    dragDepth++;
    dropHint.hidden = false;
  }

  function onDragOver(e) {
    if (!carriesFiles(e)) return;
    e.preventDefault(); // without it the browser opens the file instead of dropping it here
    e.dataTransfer.dropEffect = 'copy';
  }

  function onDragLeave(e) {
    if (!carriesFiles(e)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) dropHint.hidden = true;
  }

  function onDrop(e) {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    dragDepth = 0;
    dropHint.hidden = true;
    addPhotos(Array.prototype.slice.call(e.dataTransfer.files || []));
  }

  /** The paper clip lights up while the latest message is the bot (or an agent) asking for photos. */
  function updateAttachSuggestion() {
    var latest = messages[lastSeq];
    attachButton.classList.toggle('asw-is-suggested', !!latest && latest.asksForPhotos);
  }

  /** An agent's "send us more photos" (attachment type photo_request): a button that opens the picker. */
  function renderPhotoRequest() {
    var button = el('button', 'asw-reply asw-photo-request', { type: 'button', 'data-testid': 'asw-photo-request' });
    button.appendChild(icon('clip'));
    button.appendChild(doc.createTextNode(PHOTO_TEXT.addPhotos));
    button.addEventListener('click', function () {
      fileInput.click();
    });
    return button;
  }

  /** A photo of the conversation as an object URL: an <img src> cannot carry the token. */
  function fetchPhoto(c, photoId, variant) {
    var path = conversationPath(c, '/photos/' + encodeURIComponent(photoId) + '?variant=' + variant);
    return fetch(BASE + path, {
      headers: { Authorization: 'Bearer ' + c.token },
      mode: 'cors',
      credentials: 'omit'
    }).then(function (res) {
      if (!res.ok) throw new Error('photo ' + res.status);
      return res.blob();
    }).then(function (blob) {
      return URL.createObjectURL(blob);
    });
  }

  /** A row of thumbnails; each opens the full photo. `local`: the tray's own previews of a message being sent. */
  function renderPhotoRow(photos, local) {
    var list = photos.filter(function (photo) {
      return local || (photo && isPhotoId(photo.id));
    });
    var row = el('div', 'asw-photos', { 'data-testid': 'asw-attachment', 'data-type': 'photos' });
    var c = conv;
    var gen = generation;
    list.forEach(function (photo, i) {
      var label = PHOTO_TEXT.photoOf(i + 1, list.length);
      var img = el('img', null, { alt: label, 'data-testid': 'asw-photo-thumb' });
      if (local) {
        img.src = photo.url;
        var tile = el('span', 'asw-photo');
        tile.appendChild(img);
        row.appendChild(tile);
        return;
      }
      var button = el('button', 'asw-photo', { type: 'button', 'aria-label': PHOTO_TEXT.open(i + 1, list.length), 'data-testid': 'asw-photo' });
      button.appendChild(img);
      button.addEventListener('click', function () {
        openLightbox(c, photo.id, label, button);
      });
      row.appendChild(button);
      if (!c) return;
      fetchPhoto(c, photo.id, 'thumbnail').then(
        function (url) {
          if (gen !== generation) return URL.revokeObjectURL(url);
          messagePhotoUrls.push(url);
          img.addEventListener('load', keepScrolledIfNeeded);
          img.src = url;
        },
        function () {
          button.replaceChild(el('span', 'asw-photo-missing', null, PHOTO_TEXT.unavailable), img);
        }
      );
    });
    return row;
  }

  function revokeMessagePhotos() {
    messagePhotoUrls.forEach(function (url) {
      URL.revokeObjectURL(url);
    });
    messagePhotoUrls = [];
  }

  function openLightbox(c, photoId, label, returnFocus) {
    closeLightbox();
    var node = el('div', 'asw-lightbox', { role: 'dialog', 'aria-modal': 'true', 'aria-label': PHOTO_TEXT.viewer, 'data-testid': 'asw-lightbox' });
    var status = el('span', 'asw-lightbox-status', { role: 'status' }, PHOTO_TEXT.loading);
    node.appendChild(status);
    var close = el('button', 'asw-lightbox-close', { type: 'button', 'aria-label': PHOTO_TEXT.closeViewer, 'data-testid': 'asw-lightbox-close' });
    close.appendChild(icon('close'));
    close.addEventListener('click', closeLightbox);
    node.appendChild(close);
    node.addEventListener('click', function (e) {
      if (e.target === node) closeLightbox(); // a click beside the photo
    });
    node.addEventListener('keydown', function (e) {
      if (e.key === 'Tab') {
        e.preventDefault(); // the close button is the dialog's one control: the focus stays on it
        close.focus();
      }
    });
    var shown = { node: node, url: null, returnFocus: returnFocus };
    lightbox = shown;
    root.appendChild(node);
    close.focus();
    fetchPhoto(c, photoId, 'full').then(
      function (url) {
        if (lightbox !== shown) return URL.revokeObjectURL(url);
        shown.url = url;
        var img = el('img', null, { alt: label, 'data-testid': 'asw-lightbox-photo' });
        img.src = url;
        node.replaceChild(img, status);
      },
      function () {
        status.textContent = PHOTO_TEXT.unavailable;
      }
    );
  }

  function closeLightbox() {
    if (!lightbox) return;
    var shown = lightbox;
    lightbox = null;
    if (shown.node.parentNode) shown.node.parentNode.removeChild(shown.node);
    if (shown.url) URL.revokeObjectURL(shown.url);
    if (shown.returnFocus && shown.returnFocus.isConnected) shown.returnFocus.focus();
  }

  // -------------------------------------------------------------- messages --

  function normalise(m) {
    if (!m || typeof m !== 'object') return null;
    var seq = Number(m.seq);
    if (!isFinite(seq)) return null;
    var sender = Object.prototype.hasOwnProperty.call(SENDERS, m.sender) ? m.sender : 'bot';
    var text = typeof m.text === 'string' ? m.text : m.text == null ? '' : String(m.text);
    var buttons = Array.isArray(m.buttons)
      ? m.buttons.filter(function (b) {
          return b && typeof b.title === 'string' && b.title && typeof b.payload === 'string';
        })
      : [];
    var att = m.attachment && typeof m.attachment === 'object' ? m.attachment : null;
    // An agent's name, shown above their replies (as text, like everything else).
    var author = sender === 'agent' && typeof m.author === 'string' && m.author ? m.author.slice(0, 80) : null;
    return { seq: seq, sender: sender, author: author, text: text, buttons: buttons, attachment: att, created_at: m.created_at };
  }

  function filenameOf(url) {
    var parts = url.pathname.split('/');
    var last = parts[parts.length - 1] || '';
    try {
      last = decodeURIComponent(last);
    } catch (e) { /* keep raw */ }
    return last || url.hostname;
  }

  function linkCard(kind, url, title) {
    var names = {
      pdf: { icon: 'doc', meta: 'PDF document', action: 'Open PDF', fallback: 'Document' },
      video: { icon: 'play', meta: 'Video · ' + url.hostname, action: 'Watch video', fallback: 'Video' },
      link: { icon: 'link', meta: url.hostname, action: 'Open link', fallback: url.hostname }
    };
    var n = names[kind] || names.link;
    var name = title || (kind === 'pdf' ? filenameOf(url) : n.fallback);
    var card = el('div', 'asw-att asw-att--' + (names[kind] ? kind : 'link'), {
      'data-testid': 'asw-attachment',
      'data-type': kind
    });
    var iconBox = el('div', 'asw-att-icon');
    iconBox.appendChild(icon(n.icon));
    card.appendChild(iconBox);
    var main = el('div', 'asw-att-main');
    main.appendChild(el('span', 'asw-att-title', null, name));
    main.appendChild(el('span', 'asw-att-meta', null, n.meta));
    main.appendChild(externalLink(url, n.action, 'asw-att-link', n.action + ': ' + name + ' (opens in a new tab)'));
    card.appendChild(main);
    return card;
  }

  function renderAttachment(a) {
    var kind = typeof a.type === 'string' ? a.type.toLowerCase() : 'link';
    if (kind === 'photos' && Array.isArray(a.photos)) return renderPhotoRow(a.photos, false);
    if (kind === 'photo_request') return renderPhotoRequest();
    var title = typeof a.title === 'string' ? a.title.trim() : '';
    var url = safeUrl(a.url, BASE + '/');
    if (!url) {
      // Not an http(s) URL (javascript:, data:, ...): show it, inert, as text.
      var card = el('div', 'asw-att asw-att--link', { 'data-testid': 'asw-attachment', 'data-type': kind });
      var iconBox = el('div', 'asw-att-icon');
      iconBox.appendChild(icon('link'));
      card.appendChild(iconBox);
      var main = el('div', 'asw-att-main');
      main.appendChild(el('span', 'asw-att-title', null, title || 'Attachment'));
      main.appendChild(el('span', 'asw-att-raw', null, typeof a.url === 'string' ? a.url : ''));
      card.appendChild(main);
      return card;
    }
    if (kind === 'image') {
      var figure = el('div', 'asw-att asw-att--media asw-att--image', { 'data-testid': 'asw-attachment', 'data-type': 'image' });
      var link = externalLink(url, null, null, (title || 'Image') + ' (opens in a new tab)');
      var img = el('img', null, { alt: title, loading: 'lazy', decoding: 'async' });
      img.src = url.href;
      img.addEventListener('load', keepScrolledIfNeeded);
      link.appendChild(img);
      figure.appendChild(link);
      if (title) figure.appendChild(el('span', 'asw-att-caption', null, title));
      return figure;
    }
    if (kind === 'video' && /\.(mp4|webm|ogg|ogv)$/i.test(url.pathname)) {
      var box = el('div', 'asw-att asw-att--media asw-att--video', { 'data-testid': 'asw-attachment', 'data-type': 'video' });
      var video = el('video', null, { controls: '', preload: 'metadata', playsinline: '' });
      if (title) video.setAttribute('aria-label', title);
      video.src = url.href;
      video.appendChild(doc.createTextNode('Your browser cannot play this video.'));
      video.addEventListener('loadedmetadata', keepScrolledIfNeeded);
      box.appendChild(video);
      if (title) box.appendChild(el('span', 'asw-att-caption', null, title));
      return box;
    }
    return linkCard(kind === 'pdf' || kind === 'video' ? kind : 'link', url, title);
  }

  function renderMessage(m) {
    var node = el('div', 'asw-msg asw-msg--' + m.sender, {
      'data-testid': 'asw-message',
      'data-sender': m.sender,
      'data-seq': String(m.seq)
    });
    var label = m.author ? m.author + ' · ' + SENDER_LABEL[m.sender] : SENDER_LABEL[m.sender];
    if (label) node.appendChild(el('div', 'asw-sender', { 'data-testid': 'asw-sender' }, label));
    else if (SR_PREFIX[m.sender]) node.appendChild(srText(SR_PREFIX[m.sender]));
    if (m.text) {
      // Exactly the message text (tests can match it with [data-testid="asw-message-text"]).
      var bubble = el('div', 'asw-bubble', { 'data-testid': 'asw-message-text' });
      appendLinkified(bubble, m.text);
      node.appendChild(bubble);
    }
    if (m.attachment) node.appendChild(renderAttachment(m.attachment));
    if (m.buttons.length && m.sender !== 'shopper') {
      var group = el('div', 'asw-replies', { role: 'group', 'aria-label': 'Suggested replies' });
      var buttons = m.buttons.map(function (b) {
        var button = el('button', 'asw-reply', { type: 'button', 'data-testid': 'asw-quick-reply' }, b.title);
        button.addEventListener('click', function () {
          if (button.disabled) return;
          enqueue({ payload: b.payload, title: b.title }, b.title, null);
          input.focus();
        });
        group.appendChild(button);
        return button;
      });
      buttonGroups.push({ seq: m.seq, buttons: buttons });
      node.appendChild(group);
    }
    var when = formatTime(m.created_at);
    if (when) node.appendChild(el('time', 'asw-time', { datetime: m.created_at }, when));
    return node;
  }

  function insertInOrder(node, seq) {
    var ref = null;
    var child = log.lastElementChild;
    while (child && Number(child.getAttribute('data-seq')) > seq) {
      ref = child;
      child = child.previousElementSibling;
    }
    log.insertBefore(node, ref);
  }

  function nearBottom() {
    return body.scrollHeight - body.scrollTop - body.clientHeight < 80;
  }

  function scrollToBottom() {
    body.scrollTop = body.scrollHeight;
  }

  var stickToBottom = true;
  function keepScrolledIfNeeded() {
    if (stickToBottom) scrollToBottom();
  }

  function addMessages(list) {
    if (!Array.isArray(list)) return;
    var before = lastSeq;
    var stick = !isOpen || nearBottom();
    var added = [];
    list
      .map(normalise)
      .filter(Boolean)
      .sort(function (a, b) {
        return a.seq - b.seq;
      })
      .forEach(function (m) {
        if (messages[m.seq]) return; // duplicate (websocket + POST response, or a re-fetch)
        var node = renderMessage(m);
        insertInOrder(node, m.seq);
        var asks = m.sender !== 'shopper' && (ASKS_FOR_PHOTOS.test(m.text) || !!(m.attachment && m.attachment.type === 'photo_request'));
        messages[m.seq] = { sender: m.sender, asksForPhotos: asks, el: node };
        messageCount++;
        if (m.seq > lastSeq) lastSeq = m.seq;
        if (m.sender === 'shopper') resolvePending(m.text);
        added.push(m);
      });
    if (!added.length) return;

    // A hole in the sequence (e.g. a message pushed while the socket was down,
    // then a POST reply): fetch what is between.
    var expected = before;
    var gap = false;
    added.forEach(function (m) {
      if (m.seq <= before) return;
      if (m.seq > expected + 1) gap = true;
      expected = m.seq;
    });

    refreshButtons();
    updateAttachSuggestion();
    tidyTimes();
    updateIntro();
    markReadIfVisible();
    updateBadge();
    if (stick || added.some(function (m) { return m.sender === 'shopper'; })) {
      stickToBottom = true;
      scrollToBottom();
    }
    if (gap && before > 0) catchUp(before);
  }

  /** One timestamp per run of messages from the same sender in the same minute. */
  function tidyTimes() {
    var nodes = log.children;
    for (var i = 0; i < nodes.length; i++) {
      var time = nodes[i].querySelector('.asw-time');
      if (!time) continue;
      var next = nodes[i + 1];
      var nextTime = next && next.getAttribute('data-sender') === nodes[i].getAttribute('data-sender') && next.querySelector('.asw-time');
      time.hidden = !!nextTime && nextTime.textContent === time.textContent;
    }
  }

  function clearMessages() {
    log.textContent = '';
    revokeMessagePhotos();
    messages = {};
    messageCount = 0;
    lastSeq = 0;
    buttonGroups = [];
    updateAttachSuggestion();
    updateIntro();
    updateBadge();
  }

  /** Only the latest message's quick replies can be clicked, and not mid-send. */
  function refreshButtons() {
    var busy = queue.length > 0;
    buttonGroups.forEach(function (g) {
      var active = g.seq === lastSeq && !busy;
      g.buttons.forEach(function (b) {
        b.disabled = !active;
      });
    });
  }

  function updateIntro() {
    intro.hidden = messageCount > 0 || queue.length > 0;
  }

  function unreadCount() {
    if (!conv) return 0;
    var n = 0;
    for (var seq in messages) {
      if (Object.prototype.hasOwnProperty.call(messages, seq) && Number(seq) > conv.lastReadSeq && messages[seq].sender !== 'shopper') n++;
    }
    return n;
  }

  function updateBadge() {
    var n = isOpen ? 0 : unreadCount();
    badge.hidden = n === 0;
    badge.textContent = n > 99 ? '99+' : String(n);
    var label = isOpen ? 'Close chat' : 'Open chat';
    if (n > 0) label += ', ' + n + (n === 1 ? ' unread message' : ' unread messages');
    launcher.setAttribute('aria-label', label);
  }

  function markReadIfVisible() {
    if (!conv || !isOpen || doc.hidden) return;
    if (lastSeq > conv.lastReadSeq) {
      conv.lastReadSeq = lastSeq;
      saveConv();
    }
  }

  // ---------------------------------------------------------------- typing --

  function updateTyping() {
    var show = sending || wsTyping;
    if (typing.hidden === !show) return;
    var stick = nearBottom();
    typing.hidden = !show;
    if (show && stick) scrollToBottom();
  }

  function setWsTyping(on) {
    wsTyping = on;
    clearTimeout(wsTypingTimer);
    if (on) {
      wsTypingTimer = setTimeout(function () {
        wsTyping = false;
        updateTyping();
      }, TYPING_TIMEOUT_MS);
    }
    updateTyping();
  }

  // ----------------------------------------------------------------- errors --

  function showError(text, retry, autoHideSeconds) {
    clearTimeout(errorTimer);
    errorText_.textContent = text;
    errorBox.hidden = false;
    errorRetry.hidden = !retry;
    errorRetry.onclick = retry
      ? function () {
          clearError();
          retry();
        }
      : null;
    if (autoHideSeconds > 0) {
      errorTimer = setTimeout(function () {
        if (errorText_.textContent === text) clearError();
      }, autoHideSeconds * 1000);
    }
  }

  function clearError() {
    clearTimeout(errorTimer);
    errorBox.hidden = true;
    errorText_.textContent = '';
    errorRetry.hidden = true;
    errorRetry.onclick = null;
  }

  // ----------------------------------------------------------- conversation --

  function ensureConversation() {
    if (conv) return Promise.resolve(conv);
    if (continuing) {
      // The link's conversation, unless the link no longer works.
      return continuing.then(function () {
        return ensureConversation();
      });
    }
    if (creating) return creating;
    statusLine.hidden = false;
    var shopper = { email: EMAIL, signature: SIGNATURE };
    if (/^[0-9]{1,11}$/.test(SIGNED_AT)) shopper.ts = parseInt(SIGNED_AT, 10);
    var payload = withTimezone(SIGNED ? { shopper: shopper } : {});
    creating = api('POST', '/api/v1/stores/' + encodeURIComponent(STORE) + '/conversations', payload)
      .then(function (r) {
        var d = r.data;
        if (r.ok && typeof d.conversation_id === 'string' && d.conversation_id && typeof d.token === 'string' && d.token) {
          adoptConversation(d);
          return conv;
        }
        throw new ApiError(r, 'create');
      })
      .then(
        function (c) {
          creating = null;
          statusLine.hidden = true;
          return c;
        },
        function (err) {
          creating = null;
          statusLine.hidden = true;
          throw err;
        }
      );
    return creating;
  }

  /** Make the conversation the server answered with this widget's own, and start its session.
   *  Another tab may have opened it already (signed shoppers resume theirs; an email's link may be
   *  opened twice): its read mark is kept. */
  function adoptConversation(d) {
    var other = parseStored(storageGet(STORAGE_KEY));
    conv = {
      conversation_id: d.conversation_id,
      token: d.token,
      lastReadSeq: other && other.conversation_id === d.conversation_id ? other.lastReadSeq : 0
    };
    saveConv();
    startSession();
  }

  /** Open the conversation an email's link names, with a token of this browser's own, and show it.
   *  A link that no longer works says so, and the widget starts as it would have without it. */
  function continueFromLink(linkToken) {
    statusLine.hidden = false;
    continuing = api('POST', '/api/v1/conversations/continue', withTimezone({ token: linkToken })).then(function (r) {
      continuing = null;
      statusLine.hidden = true;
      var d = r.data;
      if (
        r.ok &&
        d.store_id === STORE && // a link of another store's, opened on this store's page, opens nothing here
        typeof d.conversation_id === 'string' && d.conversation_id &&
        typeof d.token === 'string' && d.token
      ) {
        endSession();
        clearMessages();
        adoptConversation(d);
      } else {
        if (!conv) startStored();
        showError(continueErrorText(r));
      }
      setOpen(true);
    });
  }

  function continueErrorText(r) {
    if (r.status === 0 || r.status === 429 || r.status >= 500) return errorText(r, 'continue');
    if (r.status === 410) return 'That chat link has expired. You can still write to us here.';
    return 'That chat link does not work. You can still write to us here.';
  }

  /** The widget's usual start: the conversation this browser already has, or a signed-in shopper's own. */
  function startStored() {
    conv = parseStored(storageGet(STORAGE_KEY));
    if (conv) {
      startSession();
    } else if (SIGNED) {
      // A signed-in shopper may already have messages from the store (a delivery
      // confirmation, a reply from support): resume their conversation now so
      // they show as unread. Anonymous visitors get a conversation only when
      // they open the chat.
      ensureConversation().catch(function () {});
    }
  }

  function showCreateError(err) {
    var retryable = !(err && (err.status === 401 || err.status === 403 || err.status === 404));
    showError(
      (err && err.userMessage) || 'Something went wrong on our side. Please try again.',
      retryable
        ? function () {
            ensureConversation().catch(showCreateError);
          }
        : null
    );
  }

  function startSession() {
    endSession();
    var gen = generation;
    catchUp().then(function () {
      if (gen === generation) connectSocket();
    });
  }

  function endSession() {
    generation++;
    closeSocket();
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    stopPolling();
    backoff = BACKOFF_MIN;
    catchUpAgainFrom = null;
    setWsTyping(false);
  }

  /** The stored token no longer opens the conversation: start a new one. */
  function dropConversation() {
    endSession();
    dropTray();
    conv = null;
    storageDelete(STORAGE_KEY);
    clearMessages();
    ensureConversation().catch(showCreateError);
  }

  /** Fetch every message after `from` (default: the last one seen), a page at a time. */
  function catchUp(from) {
    if (!conv) return Promise.resolve();
    if (catchingUp) {
      var want = from == null ? lastSeq : from;
      catchUpAgainFrom = catchUpAgainFrom == null ? want : Math.min(catchUpAgainFrom, want);
      return catchingUp;
    }
    var gen = generation;
    var c = conv;
    var after = from == null ? lastSeq : from;
    catchingUp = api('GET', conversationPath(c, '/messages?after=' + after), undefined, c.token).then(function (r) {
      catchingUp = null;
      if (gen === generation) {
        if (r.ok) {
          addMessages(r.data.messages);
          // The gateway answers in pages: while it names where the next starts, read on.
          var next = r.data.next_after;
          if (typeof next === 'number' && isFinite(next) && next >= 0) {
            catchUpAgainFrom = catchUpAgainFrom == null ? next : Math.min(catchUpAgainFrom, next);
          }
        } else if (r.status === 401 || r.status === 403 || r.status === 404) {
          dropConversation();
          return;
        }
      }
      // A request made while this one was in flight (possibly for a newer conversation).
      if (catchUpAgainFrom != null && conv) {
        var again = catchUpAgainFrom;
        catchUpAgainFrom = null;
        return catchUp(again);
      }
    });
    return catchingUp;
  }

  // -------------------------------------------------------------- websocket --

  function connectSocket() {
    reconnectTimer = null;
    if (!conv) return;
    if (typeof win.WebSocket !== 'function') {
      startPolling();
      return;
    }
    var gen = generation;
    var url =
      BASE.replace(/^http/, 'ws') +
      conversationPath(conv, '/ws?token=' + encodeURIComponent(conv.token) + '&after=' + lastSeq);
    var ws;
    try {
      ws = new win.WebSocket(url);
    } catch (e) {
      startPolling();
      scheduleReconnect();
      return;
    }
    socket = ws;
    ws.onopen = function () {
      if (gen !== generation || socket !== ws) return;
      socketOpenedAt = Date.now();
      stopPolling();
      catchUp(); // anything sent while we were away
    };
    ws.onmessage = function (ev) {
      if (gen !== generation) return;
      var frame;
      try {
        frame = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (!frame || typeof frame !== 'object') return;
      if (frame.type === 'message') {
        addMessages([frame.message]);
      } else if (frame.type === 'typing') {
        setWsTyping(!!frame.on);
      } else if (frame.type === 'error') {
        var wait = Number(frame.retry_after);
        if (wait > 0) showError(tooFastText(Math.ceil(wait)), null, Math.ceil(wait));
        else if (typeof frame.error === 'string' && frame.error) showError(frame.error.slice(0, 300));
      }
    };
    ws.onclose = function (ev) {
      if (socket === ws) socket = null;
      if (gen !== generation) return;
      // Only a connection that lasted a while resets the backoff (no reconnect storms).
      if (socketOpenedAt && Date.now() - socketOpenedAt > 10000) backoff = BACKOFF_MIN;
      // 4429: too many sockets open (other tabs); polling carries on, and the socket waits its longest.
      if (ev && ev.code === SOCKETS_FULL) backoff = BACKOFF_MAX;
      socketOpenedAt = 0;
      setWsTyping(false);
      startPolling();
      scheduleReconnect();
    };
    ws.onerror = function () { /* onclose follows */ };
  }

  function closeSocket() {
    if (!socket) return;
    var ws = socket;
    socket = null;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close();
    } catch (e) { /* ignore */ }
  }

  function socketIsOpen() {
    return !!socket && socket.readyState === 1;
  }

  function scheduleReconnect() {
    if (reconnectTimer || !conv) return;
    var delay = backoff;
    backoff = Math.min(backoff * 2, BACKOFF_MAX);
    reconnectTimer = setTimeout(connectSocket, delay);
  }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(function () {
      if (!socketIsOpen()) catchUp();
    }, POLL_MS);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  // ---------------------------------------------------------------- sending --

  /** Send what the shopper typed and the photos uploaded (text is optional with photos). */
  function sendTyped() {
    var raw = input.value;
    var text = raw.trim();
    if (photosUploading()) {
      showPhotoNotice([PHOTO_TEXT.waitForUploads]);
      return;
    }
    var hasPhotos = uploadedPhotos().length > 0;
    if (!text && !hasPhotos) {
      input.focus();
      return;
    }
    if (raw.length > MAX_CHARS) {
      showError('That message is too long. Please keep it under 2,000 characters.');
      return;
    }
    var photos = takeTray();
    var requestBody = text ? { text: text } : {};
    if (photos.length) {
      requestBody.photos = photos.map(function (item) {
        return item.photoId;
      });
    }
    input.value = '';
    onInput();
    enqueue(requestBody, text, raw, photos);
    input.focus();
  }

  function renderPending(text, photos) {
    var node = el('div', 'asw-msg asw-msg--shopper asw-is-pending', {
      'data-testid': 'asw-message-pending',
      'data-sender': 'shopper'
    });
    node.appendChild(srText('Sending: ' + (text ? '' : PHOTO_TEXT.photosOnly(photos.length))));
    if (text) node.appendChild(el('div', 'asw-bubble', null, text));
    if (photos.length) node.appendChild(renderPhotoRow(photos, true));
    node.appendChild(el('span', 'asw-time', { 'aria-hidden': 'true' }, 'Sending…'));
    return node;
  }

  /** Queue a shopper message; `restore` is the text to give back to the box if it fails, and
   *  `photos` the tray's photos it carries (back to the tray if it fails). */
  function enqueue(requestBody, shown, restore, photos) {
    photos = photos || [];
    var item = {
      body: requestBody,
      shown: shown,
      restore: restore,
      photos: photos,
      node: renderPending(shown, photos),
      resolved: false
    };
    pendingList.appendChild(item.node);
    queue.push(item);
    refreshButtons();
    updateIntro();
    stickToBottom = true;
    scrollToBottom();
    pump();
  }

  /** The websocket brought the stored copy of the message in flight: hide its placeholder. */
  function resolvePending(text) {
    var item = queue[0];
    if (sending && item && !item.resolved && item.shown === text) {
      item.resolved = true;
      if (item.node.parentNode) item.node.parentNode.removeChild(item.node);
    }
  }

  function pump() {
    if (sending || !queue.length) return;
    sending = true;
    updateTyping();
    var item = queue[0];
    postMessage(item, false).then(
      function () {
        queue.shift();
        if (item.node.parentNode) item.node.parentNode.removeChild(item.node);
        releasePhotos(item.photos);
        sending = false;
        clearError();
        refreshButtons();
        updateTyping();
        updateIntro();
        pump();
      },
      function (err) {
        sending = false;
        failQueue(err);
        updateTyping();
      }
    );
  }

  function postMessage(item, isRetry) {
    return ensureConversation().then(function (c) {
      var gen = generation;
      return api('POST', conversationPath(c, '/messages'), item.body, c.token).then(function (r) {
        if (r.ok) {
          if (gen === generation) addMessages(r.data.messages);
          return;
        }
        if (r.status === 401 && !isRetry) {
          // The token expired: a new conversation, then this message again.
          if (gen === generation) dropConversation();
          return postMessage(item, true);
        }
        // A silent or unreachable assistant is answered by the gateway itself (200, with its
        // honest message), so any failure here means the message was not taken.
        throw new ApiError(r, 'send');
      });
    });
  }

  /** Give every unsent message back: typed text returns to the box, nothing is lost. */
  function failQueue(err) {
    var restore = [];
    var photos = [];
    queue.forEach(function (item, i) {
      if (item.node.parentNode) item.node.parentNode.removeChild(item.node);
      if (item.restore != null && item.restore.trim()) restore.push(item.restore.trim());
      photos = photos.concat(item.photos);
    });
    queue = [];
    returnToTray(photos);
    if (restore.length) {
      var current = input.value;
      input.value = restore.join('\n') + (current.trim() ? '\n' + current : '');
      onInput();
    }
    refreshButtons();
    updateIntro();
    var wait = err && err.retryAfter;
    showError((err && err.userMessage) || 'Something went wrong on our side. Please try again.', null, wait || 0);
  }

  // ------------------------------------------------------------ open/close --

  function setOpen(open, moveFocus) {
    if (EMBEDDED && !open) return; // nothing to close: the chat is the page
    if (!ready) {
      wantOpen = open;
      return;
    }
    if (open === isOpen) return;
    isOpen = open;
    panel.hidden = !open;
    root.classList.toggle('asw-is-open', open);
    launcher.setAttribute('aria-expanded', String(open));
    if (open) {
      markReadIfVisible();
      updateBadge();
      stickToBottom = true;
      scrollToBottom();
      if (moveFocus !== false) {
        try {
          input.focus({ preventScroll: true });
        } catch (e) {
          input.focus();
        }
      }
      if (!conv) ensureConversation().catch(showCreateError);
    } else {
      closeLightbox();
      updateBadge();
      var active = doc.activeElement;
      if (moveFocus || (active && root.contains(active)) || active === doc.body) launcher.focus();
    }
  }

  // ------------------------------------------------------------------ init --

  function init() {
    if (ready || doc.getElementById('aftersales-widget')) return;
    build();
    doc.body.appendChild(root);
    ready = true;

    body.addEventListener('scroll', function () {
      stickToBottom = nearBottom();
    }, { passive: true });

    doc.addEventListener('keydown', function (e) {
      if (lightbox && (e.key === 'Escape' || e.key === 'Esc')) {
        e.preventDefault(); // Escape closes the photo first, and only the photo
        closeLightbox();
        return;
      }
      if (EMBEDDED || !isOpen || (e.key !== 'Escape' && e.key !== 'Esc')) return;
      var active = doc.activeElement;
      if (!active || active === doc.body || root.contains(active)) {
        e.preventDefault();
        setOpen(false, true);
      }
    });

    doc.addEventListener('visibilitychange', function () {
      if (doc.hidden || !conv) return;
      markReadIfVisible();
      updateBadge();
      if (!socketIsOpen()) catchUp();
    });

    win.addEventListener('online', function () {
      if (!conv || socketIsOpen()) return;
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      backoff = BACKOFF_MIN;
      catchUp();
      connectSocket();
    });

    // Another tab read messages, or started the conversation.
    win.addEventListener('storage', function (e) {
      if (e.key !== STORAGE_KEY) return;
      var other = parseStored(e.newValue);
      if (!other) return;
      if (conv && other.conversation_id === conv.conversation_id) {
        if (other.lastReadSeq > conv.lastReadSeq) {
          conv.lastReadSeq = other.lastReadSeq;
          updateBadge();
        }
      } else if (!conv && !creating && !continuing) {
        conv = other;
        clearMessages();
        startSession();
      }
    });

    // A link opened in a tab already on the page changes only the fragment: no new page load.
    win.addEventListener('hashchange', function () {
      var token = continuing ? null : takeContinueToken();
      if (token !== null) continueFromLink(token);
    });

    var linkToken = takeContinueToken();
    if (linkToken !== null) continueFromLink(linkToken);
    else startStored();
    updateBadge();
    // Embedded, it opens at once without taking the focus (the page around it may want it).
    if (EMBEDDED) setOpen(true, false);
    else if (wantOpen) setOpen(true);
  }

  win.AftersalesWidget = {
    version: VERSION,
    open: function () {
      setOpen(true);
    },
    close: function () {
      setOpen(false);
    },
    conversationId: function () {
      return conv ? conv.conversation_id : null;
    }
  };

  if (doc.body) init();
  else doc.addEventListener('DOMContentLoaded', init);
})();
